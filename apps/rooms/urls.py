from django.urls import path

from apps.rooms import views

urlpatterns = [
    path("", views.room_list_page, name="rooms"),
    path("join/<str:token>/", views.room_join_page, name="room_join"),
    path("<int:room_id>/", views.room_page, name="room"),
]
