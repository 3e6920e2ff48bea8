"""The staff workspace, under /staff/."""

from django.urls import path

from recoverybridge.workspace import views

app_name = "workspace"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("home/", views.home, name="home"),
    path("team/", views.team, name="team"),
    path("queue/", views.work_queue, name="queue"),
]
