"""Outcome pages: the staff ones under /staff/, the person's own at short public paths."""

from django.urls import path

from recoverybridge.outcomes import views

app_name = "outcomes"

urlpatterns = [
    path("staff/people/<id:person_id>/outcomes/", views.person_outcomes, name="person"),
    path(
        "staff/people/<id:person_id>/outcomes/enter/<slug:instrument_id>/",
        views.enter_response,
        name="enter",
    ),
    path("staff/people/<id:person_id>/outcomes/links/new/", views.send_link, name="send_link"),
    path(
        "staff/people/<id:person_id>/outcomes/links/<id:invitation_id>/revoke/",
        views.revoke_link,
        name="revoke_link",
    ),
    path("staff/outcomes/teams/", views.team_completion, name="teams"),
    path("q/thanks/", views.thanks, name="thanks"),
    path("q/<str:token>/", views.take, name="take"),
]
