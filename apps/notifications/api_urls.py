from django.urls import path

from apps.notifications import api, webhooks

urlpatterns = [
    path("notifications/", api.NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/unread-count/", api.UnreadCountApi.as_view(),
         name="api-notifications-unread"),
    path("notifications/read-all/", api.NotificationReadAllApi.as_view(),
         name="api-notifications-read-all"),
    path("notifications/<int:notification_id>/read/", api.NotificationReadApi.as_view(),
         name="api-notification-read"),
    path("notifications/<int:notification_id>/deliveries/",
         api.NotificationDeliveriesApi.as_view(), name="api-notification-deliveries"),
    path("notifications/destinations/", api.DestinationListCreateApi.as_view(),
         name="api-destinations"),
    path("notifications/destinations/<int:destination_id>/", api.DestinationDetailApi.as_view(),
         name="api-destination"),
    path("notifications/destinations/<int:destination_id>/test/",
         api.DestinationTestApi.as_view(), name="api-destination-test"),
    path("notifications/destinations/<int:destination_id>/verify/",
         api.DestinationVerifyApi.as_view(), name="api-destination-verify"),
    path("notifications/destinations/<int:destination_id>/send-code/",
         api.DestinationSendCodeApi.as_view(), name="api-destination-send-code"),
    path("notifications/preferences/", api.PreferencesApi.as_view(),
         name="api-notification-preferences"),
    path("notifications/push-key/", api.PushKeyApi.as_view(), name="api-notifications-push-key"),
    path("notifications/callbacks/twilio/", webhooks.twilio_status,
         name="api-notifications-twilio"),
    path("notifications/callbacks/sendgrid/", webhooks.sendgrid_events,
         name="api-notifications-sendgrid"),
]
