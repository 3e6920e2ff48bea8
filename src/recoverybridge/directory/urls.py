"""Routes of the public meeting finder and the directory editors' pages."""

from django.urls import path

from recoverybridge.directory import views

app_name = "directory"

urlpatterns = [
    path("", views.search, name="search"),
    path("other-kinds/", views.other_kinds, name="other_kinds"),
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:meeting_id>/report/", views.report_change, name="report_change"),
    path("which-group/", views.which_group, name="which_group"),
    path("editor/", views.editor_queue, name="editor_queue"),
    path("editor/changes/<int:change_id>/", views.editor_review, name="editor_review"),
    path("editor/meetings/<int:meeting_id>/moud/", views.editor_moud, name="editor_moud"),
]
