"""BMLT's semantic API, read side (exports/bmlt.py): `/main_server/client_interface/<json|jsonp>/`.

Public and read-only, as a root server's is. JSONP (what crouton uses) wraps the same answer in
the caller's `callback`, which must be a plain JavaScript name. A switcher we do not serve, or a
bad parameter, is a 400 that says why, never a 500.
"""

import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from recoverybridge.directory.exports import bmlt

CALLBACK = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$")
SWITCHERS = ("GetSearchResults", "GetFormats", "GetServiceBodies")


def answer(data: Any, request: HttpRequest, kind: str, status: int = 200) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if kind == "jsonp":
        callback = request.GET.get("callback", "")
        if not CALLBACK.match(callback) or len(callback) > 100:
            return answer({"error": "callback: a JavaScript function name"}, request, "json", 400)
        response = HttpResponse(f"/**/{callback}({body});", content_type="text/javascript; charset=utf-8")
    else:
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response.status_code = status
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def client_interface(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ("json", "jsonp"):
        return answer({"error": f"{kind}: only json and jsonp are served"}, request, "json", 400)
    switcher = request.GET.get("switcher", "")
    root_server_uri = request.build_absolute_uri("/main_server")
    language = (request.GET.get("lang_enum") or "en")[:8]
    try:
        if switcher == "GetSearchResults":
            data: Any = bmlt.get_search_results(request.GET, root_server_uri)
        elif switcher == "GetFormats":
            ids, _ = bmlt.ids_of(request.GET, "format_ids")
            data = bmlt.get_formats(language, root_server_uri, ids or None)
        elif switcher == "GetServiceBodies":
            ids, _ = bmlt.ids_of(request.GET, "services")
            data = bmlt.get_service_bodies(ids or None, request.build_absolute_uri("/"))
        else:
            raise bmlt.BadRequest(f"switcher: one of {', '.join(SWITCHERS)}")
    except bmlt.BadRequest as problem:
        return answer({"error": str(problem)}, request, kind, 400)
    return answer(data, request, kind)
