"""Volunteer members' pages: the worker's (arranging), the volunteer's, the coordinator's, and
the person's own private link."""

from django.urls import path

from recoverybridge.volunteers import views

app_name = "volunteers"

urlpatterns = [
    path("staff/referrals/<id:referral_id>/member/", views.arrange, name="arrange"),
    path("volunteering/", views.mine, name="mine"),
    path("volunteering/status/", views.my_status, name="mine_status"),
    path("volunteering/introductions/<id:introduction_id>/", views.introduction, name="introduction"),
    path("staff/volunteers/", views.coordinate, name="coordinate"),
    path("staff/volunteers/add/", views.add_volunteer, name="add"),
    path("staff/volunteers/<id:volunteer_id>/status/", views.volunteer_status, name="coordinate_status"),
    path("staff/volunteers/<id:volunteer_id>/password-link/", views.resend_link, name="resend_link"),
    path("staff/volunteers/reports/", views.reports, name="reports"),
    path("introduction/<str:token>/", views.answer, name="answer"),
]
