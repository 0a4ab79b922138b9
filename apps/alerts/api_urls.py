from django.urls import path

from apps.alerts import api

urlpatterns = [
    path("alerts/", api.AlertListCreateApi.as_view(), name="api-alerts"),
    path("alerts/<int:rule_id>/", api.AlertDetailApi.as_view(), name="api-alert"),
    path("alerts/<int:rule_id>/pause/", api.AlertPauseApi.as_view(), name="api-alert-pause"),
    path("alerts/<int:rule_id>/resume/", api.AlertResumeApi.as_view(), name="api-alert-resume"),
    path("alerts/<int:rule_id>/events/", api.AlertEventListApi.as_view(),
         name="api-alert-events"),
]
