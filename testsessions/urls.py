from django.urls import path

from testsessions import views

urlpatterns = [
    path("t/", views.create, name="test_session_create"),
    path("t/<pid:session_id>/", views.session_page, name="test_session"),
    path("t/<pid:session_id>/claim/", views.claim, name="test_session_claim"),
    path("t/<pid:session_id>/events/<pid:event_id>/", views.session_event, name="test_session_event"),
    path("t/<pid:session_id>/events/<pid:event_id>/raw/", views.session_event_raw, name="test_session_event_raw"),
]
