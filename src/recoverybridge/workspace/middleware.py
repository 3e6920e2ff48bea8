"""Refused look-ups leave a trace: a signed-in user who asks for a staff record outside their
scope gets a 404 (the page never says whether it exists), and the audit trail gets a DENIED
event, so that probing or snooping shows on the person's audit page and in the trail. One place
for every staff page, whichever app's look-up refused it."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from recoverybridge.audit import actions as audit
from recoverybridge.audit.models import AuditAction
from recoverybridge.care.models import Person

# The staff apps whose URLs name records (directory pages are public).
STAFF_NAMESPACES = frozenset({"workspace", "care", "outcomes", "rights", "evaluation"})


class RefusedLookupMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        if (
            response.status_code == 404
            and match is not None
            and match.namespace in STAFF_NAMESPACES
            and user is not None
            and user.is_authenticated
        ):
            record_refused_lookup(request, match.view_name, match.kwargs)
        return response


def record_refused_lookup(request: HttpRequest, view_name: str, kwargs: dict[str, object]) -> None:
    """A DENIED event naming the page and the record numbers asked for (never a name): linked to
    the person when the URL names one that exists, so their managers see it."""
    person_id = kwargs.get("person_id")
    person = (
        Person.objects.filter(pk=person_id).values_list("pk", flat=True).first()
        if isinstance(person_id, int)
        else None
    )
    asked = ", ".join(f"{key}={value}" for key, value in sorted(kwargs.items()) if key.endswith("_id"))
    audit.record(
        request.user,
        AuditAction.DENIED,
        None,
        object_type=view_name[:60],
        object_id=asked[:64],
        person=person,
        detail=f"{request.method} refused: not found or outside their scope",
    )
