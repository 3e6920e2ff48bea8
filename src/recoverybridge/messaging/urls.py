"""The webhook the text provider calls with replies (STOP, START)."""

from django.urls import path

from recoverybridge.messaging import views

app_name = "messaging"

urlpatterns = [path("inbound/", views.inbound_sms, name="inbound_sms")]
