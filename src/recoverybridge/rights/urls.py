"""Staff pages of people's rights, under /staff/."""

from django.urls import path

from recoverybridge.rights import views

app_name = "rights"

urlpatterns = [
    path("people/<id:person_id>/rights/", views.person_rights, name="person"),
    path("people/<id:person_id>/rights/new/", views.new_request, name="new_request"),
    path("people/<id:person_id>/rights/hold/", views.place_hold, name="place_hold"),
    path("people/<id:person_id>/rights/hold/<id:hold_id>/lift/", views.lift_hold, name="lift_hold"),
    path("people/<id:person_id>/disclosures/", views.disclosures, name="disclosures"),
    path("people/<id:person_id>/disclosures.pdf", views.disclosures_pdf, name="disclosures_pdf"),
    path("requests/<id:request_id>/", views.request_page, name="request"),
    path("requests/<id:request_id>/copy/<str:form>/", views.copy_download, name="copy"),
    path("requests/<id:request_id>/correct/", views.correct, name="correct"),
]
