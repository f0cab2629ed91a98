from django.urls import path

from . import views

app_name = "contacts"
urlpatterns = [
    path("<int:pk>/", views.person_detail, name="person"),
]
