from django.urls import path

from events import views

urlpatterns = [
    path("events/<pid:public_id>/", views.event_detail, name="event_detail"),
    path("events/<pid:public_id>/body/", views.event_body, name="event_body"),
    path("events/<pid:public_id>/replay/", views.replay, name="event_replay"),
]
