from django.urls import path

from apps.charts import api

urlpatterns = [
    path(
        "instruments/<str:symbol>/drawings/",
        api.DrawingListCreateApi.as_view(),
        name="api-instrument-drawings",
    ),
    path("drawings/<int:drawing_id>/", api.DrawingDeleteApi.as_view(), name="api-drawing"),
]
