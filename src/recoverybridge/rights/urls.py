"""Staff pages of people's rights, under /staff/."""

from django.urls import path

from recoverybridge.rights import views

app_name = "rights"

urlpatterns = [
    path("people/<int:person_id>/rights/", views.person_rights, name="person"),
    path("people/<int:person_id>/rights/new/", views.new_request, name="new_request"),
    path("people/<int:person_id>/rights/hold/", views.place_hold, name="place_hold"),
    path("people/<int:person_id>/rights/hold/<int:hold_id>/lift/", views.lift_hold, name="lift_hold"),
    path("people/<int:person_id>/disclosures/", views.disclosures, name="disclosures"),
    path("people/<int:person_id>/disclosures.pdf", views.disclosures_pdf, name="disclosures_pdf"),
    path("requests/<int:request_id>/", views.request_page, name="request"),
    path("requests/<int:request_id>/copy/<str:form>/", views.copy_download, name="copy"),
    path("requests/<int:request_id>/correct/", views.correct, name="correct"),
]
