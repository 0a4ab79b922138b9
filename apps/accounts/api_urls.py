from django.urls import path

from apps.accounts import api

urlpatterns = [
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("auth/token/", api.TokenLoginApi.as_view(), name="api-token-login"),
    path("tokens/", api.ApiTokenListCreateApi.as_view(), name="api-tokens"),
    path("tokens/<int:token_id>/", api.ApiTokenRevokeApi.as_view(), name="api-token-revoke"),
    path("audit/", api.AuditEventListApi.as_view(), name="api-audit"),
    path("realtime/ticket/", api.WsTicketApi.as_view(), name="api-realtime-ticket"),
]
