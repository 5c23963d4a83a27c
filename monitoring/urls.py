from django.urls import path

from monitoring import views

urlpatterns = [
    path("alerts/", views.alert_list, name="alert_list"),
    path("endpoints/<pid:public_id>/monitoring/", views.endpoint_monitoring, name="endpoint_monitoring"),
    path("endpoints/<pid:public_id>/charts/<str:metric>.svg", views.chart, name="endpoint_chart"),
]
