from channels.routing import URLRouter
from django.urls import path

websocket_application = URLRouter([])
