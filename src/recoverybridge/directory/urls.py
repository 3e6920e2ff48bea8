"""Routes of the public meeting finder and the directory editors' pages."""

from django.urls import path

from recoverybridge.directory import booklet_views, service_views, source_views, views, webapp

app_name = "directory"

urlpatterns = [
    path("", views.search, name="search"),
    path("other-kinds/", views.other_kinds, name="other_kinds"),
    path("meetings/<id:meeting_id>/", views.meeting_detail, name="meeting"),
    path("meetings/<id:meeting_id>/report/", views.report_change, name="report_change"),
    path("which-group/", views.which_group, name="which_group"),
    # Services beyond meetings: treatment, detox, recovery housing... (service_views.py).
    path("services/", service_views.services, name="services"),
    path("services.json", service_views.services_json, name="services_json"),
    # The installable web app (webapp.py): the worker at the root, so its scope is the whole site.
    path("manifest.webmanifest", webapp.manifest, name="manifest"),
    path("sw.js", webapp.service_worker, name="service_worker"),
    path("saved/", webapp.saved, name="saved"),
    path("offline/", webapp.offline, name="offline"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("editor/", views.editor_queue, name="editor_queue"),
    path("editor/changes/<id:change_id>/", views.editor_review, name="editor_review"),
    path("editor/meetings/<id:meeting_id>/moud/", views.editor_moud, name="editor_moud"),
    # Printed booklets of an area (booklet_views.py).
    path("booklets/", booklet_views.booklet_list, name="booklets"),
    path("booklets/<slug:slug>.pdf", booklet_views.booklet_pdf, name="booklet"),
    path("m/<id:meeting_id>", booklet_views.meeting_short, name="meeting_short"),
    path("editor/booklets/", booklet_views.editor_booklets, name="editor_booklets"),
    path("editor/sources/", source_views.source_list, name="editor_sources"),
    path("editor/sources/<id:source_id>/", source_views.source_page, name="editor_source"),
    path("editor/held-imports/<id:held_id>/", source_views.held_review, name="editor_held"),
    path("editor/booklets/new/", booklet_views.editor_booklet_new, name="editor_booklet_new"),
    path("editor/booklets/<id:booklet_id>/", booklet_views.editor_booklet, name="editor_booklet"),
]
