"""Public pages of services beyond meetings (treatment, detox, recovery housing...): thin views over
`queries.search_services`. No sign-in: these are published directory listings, not person records."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from recoverybridge.directory import queries
from recoverybridge.directory.forms import ServiceSearchForm
from recoverybridge.directory.models import Service, ServiceCategory
from recoverybridge.directory.views import content_security_policy


def _search(request: HttpRequest) -> tuple[ServiceSearchForm, queries.ServiceResults | None]:
    form = ServiceSearchForm(request.GET or None)
    if not request.GET or not form.is_valid():
        return form, None
    data = form.cleaned_data
    return form, queries.search_services(data["where"], data["category"], data["radius"])


@require_http_methods(["GET", "HEAD"])
@content_security_policy
def services(request: HttpRequest) -> HttpResponse:
    form, results = _search(request)
    category = (
        ServiceCategory(form.cleaned_data["category"]).label
        if results and form.cleaned_data.get("category")
        else ""
    )
    return render(
        request,
        "directory/services.html",
        {"form": form, "results": results, "category_label": category},
        status=400 if form.is_bound and form.errors else 200,
    )


def service_json(service: Service, distance_km: float | None) -> dict[str, Any]:
    return {
        "hsds_id": service.hsds_id,
        "name": service.name,
        "category": service.category,
        "organization": service.organization_name,
        "description": service.description,
        "address": service.formatted_address,
        "latitude": service.latitude,
        "longitude": service.longitude,
        "distance_km": distance_km,
        "phones": service.phone_numbers,
        "url": service.url,
        "email": service.email,
        "schedules": service.schedules,
    }


@require_http_methods(["GET", "HEAD"])
def services_json(request: HttpRequest) -> JsonResponse:
    form, results = _search(request)
    if form.is_bound and form.errors:
        errors = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
        return JsonResponse({"errors": errors}, status=400)
    if results is None:
        results = queries.search_services()
    return JsonResponse(
        {
            "place": results.place.label if results.place else None,
            "place_unknown": results.place_unknown,
            "services": [service_json(hit.service, hit.distance_km) for hit in results.hits],
        }
    )
