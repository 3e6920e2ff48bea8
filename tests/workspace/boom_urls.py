"""The site's URLs and error handlers, plus a page that fails: for testing the 500 page."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from recoverybridge.urls import handler400, handler403, handler404, handler500, urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


class Boom(RuntimeError):
    """What a bug looks like from the outside."""


def boom(request: HttpRequest) -> HttpResponse:
    raise Boom("a bug in a view")


urlpatterns = [path("boom/", boom), *urlpatterns]
