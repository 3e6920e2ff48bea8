"""Staff pages, under /staff/."""

from django.urls import path

from recoverybridge.care import views, wizard_views

app_name = "care"

urlpatterns = [
    path("follow-ups/<id:follow_up_id>/", views.follow_up, name="follow_up"),
    path("follow-ups/<id:follow_up_id>/move/", views.move_follow_up, name="move_follow_up"),
    path("follow-ups/<id:follow_up_id>/remove/", views.remove_follow_up, name="remove_follow_up"),
    path("people/new/", views.add_person, name="add_person"),
    path("people/<id:person_id>/", views.person, name="person"),
    path("people/<id:person_id>/edit/", views.edit_person, name="edit_person"),
    path("people/<id:person_id>/related/new/", views.add_related_person, name="add_related_person"),
    path(
        "people/<id:person_id>/related/<id:related_id>/edit/",
        views.edit_related_person,
        name="edit_related_person",
    ),
    path(
        "people/<id:person_id>/related/<id:related_id>/remove/",
        views.remove_related_person,
        name="remove_related_person",
    ),
    path("people/<id:person_id>/audit/", views.person_audit, name="person_audit"),
    path("people/<id:person_id>/audit/export/", views.person_audit_export, name="person_audit_export"),
    path("people/<id:person_id>/consent/", views.give_consent, name="give_consent"),
    path(
        "people/<id:person_id>/consent/<id:consent_id>/revoke/", views.revoke_consent, name="revoke_consent"
    ),
    path("people/<id:person_id>/episodes/new/", views.start_episode, name="start_episode"),
    path("people/<id:person_id>/episodes/<id:episode_id>/end/", views.end_episode, name="end_episode"),
    path("people/<id:person_id>/contacts/new/", views.log_contact, name="log_contact"),
    path("people/<id:person_id>/refer/", wizard_views.refer, name="refer"),
    path("referral-drafts/<id:draft_id>/", wizard_views.draft, name="draft"),
    path("referral-drafts/<id:draft_id>/discard/", wizard_views.discard_draft, name="discard_draft"),
    path("referral-drafts/<id:draft_id>/<slug:step>/", wizard_views.draft_step, name="draft_step"),
    path("referrals/<id:referral_id>/", views.referral, name="referral"),
    path("referrals/<id:referral_id>/follow-ups/", views.plan_follow_up, name="plan_follow_up"),
    path("referrals/<id:referral_id>/send-meetings/", views.send_meetings, name="send_meetings"),
    path("referrals/<id:referral_id>/take-away.pdf", views.takeaway, name="takeaway"),
]
