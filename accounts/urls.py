"""/accounts/… : the accounts list and tree, an account's page and its type-ahead.

Also under /accounts/<id>/, and served by contacts (contacts/urls.py, URL names contacts:…):
add-contact/ and people-suggestions/ (contacts.views.memberships), tasks/ and touchpoints/
(contacts.views.tasks). The Contacts widget's list refresh is this app's /accounts/<id>/ with
HX-Request (the account page asks contacts.widget for it).
"""

from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("suggestions/", views.account_suggestions, name="suggestions"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/children/", views.account_children, name="children"),
]
