from django.urls import path

from replays import views

urlpatterns = [
    path("endpoints/<pid:public_id>/replay/", views.bulk_new, name="bulk_replay_new"),
    path("replays/<pid:public_id>/", views.bulk_detail, name="bulk_replay"),
    path("replays/<pid:public_id>/cancel/", views.bulk_cancel, name="bulk_replay_cancel"),
]
