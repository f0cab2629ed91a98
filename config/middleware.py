from django.utils.cache import patch_cache_control


def private_no_store(get_response):
    """Every response the app draws is kept out of every cache, the browser's included: pages
    and downloads hold people's personal data, and the few anonymous ones (the sign-in page,
    redirects to it, error pages) carry a CSRF token or nothing worth keeping. A view's own
    directives stay, but never `public`. Static files are answered by whitenoise before this
    middleware runs and keep their long cache lifetimes."""

    def middleware(request):
        response = get_response(request)
        patch_cache_control(response, private=True, no_store=True)
        return response

    return middleware
