from django.urls import path

from apps.watchlists import api

urlpatterns = [
    path("watchlists/", api.WatchlistListCreateApi.as_view(), name="api-watchlists"),
    path("watchlists/<int:watchlist_id>/", api.WatchlistDetailApi.as_view(),
         name="api-watchlist"),
    path("watchlists/<int:watchlist_id>/items/", api.WatchlistItemCreateApi.as_view(),
         name="api-watchlist-items"),
    path("watchlists/<int:watchlist_id>/items/<int:item_id>/",
         api.WatchlistItemDetailApi.as_view(), name="api-watchlist-item"),
    path("watchlists/<int:watchlist_id>/order/", api.WatchlistOrderApi.as_view(),
         name="api-watchlist-order"),
    path("watchlists/<int:watchlist_id>/members/", api.WatchlistMemberListCreateApi.as_view(),
         name="api-watchlist-members"),
    path("watchlists/<int:watchlist_id>/members/<int:member_id>/",
         api.WatchlistMemberDetailApi.as_view(), name="api-watchlist-member"),
    path("invitations/", api.InvitationListApi.as_view(), name="api-invitations"),
    path("invitations/<int:member_id>/accept/", api.InvitationAcceptApi.as_view(),
         name="api-invitation-accept"),
    path("invitations/<int:member_id>/decline/", api.InvitationDeclineApi.as_view(),
         name="api-invitation-decline"),
]
