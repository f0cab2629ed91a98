from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("suggestions/", views.account_suggestions, name="suggestions"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/children/", views.account_children, name="children"),
]
