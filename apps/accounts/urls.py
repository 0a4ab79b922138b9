from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/phone/", views.phone, name="profile_phone"),
    path("profile/tokens/", views.tokens, name="tokens"),
    path("profile/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("profile/activity/", views.activity, name="activity"),
]
