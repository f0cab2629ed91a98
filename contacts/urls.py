from django.urls import path

from . import views

app_name = "contacts"
urlpatterns = [
    path("<int:pk>/", views.person_detail, name="person"),
    path("contacts/<int:pk>/edit/", views.edit_contact, name="edit-contact"),
    path("contacts/<int:pk>/remove/", views.remove_contact, name="remove-contact"),
]
