"""/accounts/… : the accounts list and tree, an account's page (its Contacts and History tabs,
the History CSV, acknowledging a "Key contact left" alert) and its type-ahead.

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
    path("<int:pk>/history/", views.account_history, name="history"),
    path("<int:pk>/history.csv", views.account_history_download, name="history-csv"),
    path(
        "<int:pk>/alerts/<int:alert_pk>/acknowledge/",
        views.acknowledge_alert,
        name="acknowledge-alert",
    ),
]
