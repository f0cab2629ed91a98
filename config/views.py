from django.http import HttpResponseServerError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token


@requires_csrf_token
def server_error(request):
    """Django's own 500 view, with the request's id on the page: what a staff user quotes when
    they report the error, and what finds its traceback in the log. Like Django's, it renders
    without the request context, so that nothing here can fail in turn."""
    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render({"request_id": getattr(request, "id", "")}))
