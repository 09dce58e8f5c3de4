"""The residents' own pages, without login: the request form a lobby QR code opens
(``/r/{site}``) and the tracking page its answer links to (``/r/t/{token}``).

Phone first, Chinese by default (``?lang=en`` switches), plain HTML forms that work without a
script. They call the same service as the JSON API with the same limits: rate limited per
address (and per phone), photos taken by content, every text escaped by the templates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from facility_dispatch.api.backend import Backend
from facility_dispatch.api.dashboard import i18n
from facility_dispatch.api.dashboard.pages import STATIC_VERSION, environment
from facility_dispatch.api.deps import ServiceDep
from facility_dispatch.api.routers.public_requests import client_address
from facility_dispatch.kernel.photos import MAX_PHOTO_BYTES
from facility_dispatch.maintenance.errors import ConflictError, NotFoundError
from facility_dispatch.residents.model import (
    CATEGORIES,
    MAX_PHOTOS,
    RequestConflictError,
    RequestRefusedError,
)

router = APIRouter(include_in_schema=False)
FIELDS = ("category", "building", "unit", "description", "phone")


def language(request: Request) -> i18n.Lang:
    """Chinese unless the resident chose English (the link on every page)."""
    return i18n.parse_lang(request.query_params.get("lang")) or "zh"


def render(
    http: Request,
    template: str,
    lang: i18n.Lang,
    status_code: int = 200,
    keep: str = "",
    **context: Any,
) -> HTMLResponse:
    """A public page; ``keep`` is the query the language links carry along (``&building=3``)."""
    t = i18n.Translator(lang)
    html = environment.get_template(f"public/{template}").render(
        t=t,
        lang=lang,
        html_lang=i18n.HTML_LANG[lang],
        static_version=STATIC_VERSION,
        path=http.url.path,
        keep=keep,
        **context,
    )
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return HTMLResponse(html, status_code=status_code, headers=headers)


def wait_page(request: Request, lang: i18n.Lang, wait: int) -> HTMLResponse:
    response = render(request, "message.html", lang, 429, title="r.busy_title", text="r.busy")
    response.headers["Retry-After"] = str(wait)
    return response


def local(when: datetime | None, zone: ZoneInfo) -> str:
    return when.astimezone(zone).strftime("%m-%d %H:%M") if when else ""


def refusal(t: i18n.Translator, error: RequestRefusedError | RequestConflictError) -> str:
    """Why the service refused, in the page's language: the field's name, then the reason its
    code stands for (the service's English is for the API and the logs)."""
    reason = t(f"r.refused.{error.code}", **error.params)
    return f"{t('r.field.' + error.field)}: {reason}" if error.field else reason


def _site(service: Backend, site: str) -> Any:
    known = service.people.site(site) if len(site) <= 64 else None
    return known


def notices(service: Backend, site: str, lang: i18n.Lang) -> list[dict[str, Any]]:
    """The notices the estate's residents see now (in force or coming), urgent ones first, in
    the page's language: the same list the API and the signage serve, on the page the lobby's
    QR code opens."""
    shown = service.notices.query(site, service.clock.now(), limit=20)
    return [
        {
            "id": n.id,
            "urgent": not n.planned,
            "title": n.title_zh if lang == "zh" else n.title_en,
            "body": n.body_zh if lang == "zh" else n.body_en,
        }
        for n in shown
    ]


@router.get("/r/{site}", response_class=HTMLResponse)
def report_form(
    site: str, request: Request, service: ServiceDep, building: str | None = None
) -> HTMLResponse:
    """The form; a building's notice board QR code (``?building=3``) opens it with that
    building chosen. A building the site does not list is ignored: the resident chooses."""
    lang = language(request)
    known = _site(service, site)
    if known is None:
        return render(request, "message.html", lang, 404, title="r.no_site_title", text="r.no_site")
    values = {"building": building} if building and building in known.buildings else {}
    keep = f"&{urlencode(values)}" if values else ""
    return render(
        request, "report.html", lang, keep=keep, site=known, values=values, error=None,
        categories=CATEGORIES, notices=notices(service, known.site, lang),
    )  # fmt: skip


@router.post("/r/{site}", response_class=HTMLResponse)
async def report(site: str, request: Request, service: ServiceDep) -> Response:
    """The form sent: a tracking page to go to, or the form again saying what to fix."""
    lang = language(request)
    known = await run_in_threadpool(_site, service, site)
    if known is None:
        return render(request, "message.html", lang, 404, title="r.no_site_title", text="r.no_site")
    wait = await run_in_threadpool(service.residents.admit_address, client_address(request))
    if wait:
        return wait_page(request, lang, wait)
    values: dict[str, str] = {}
    photos: list[bytes] = []
    try:
        form = await request.form(max_files=MAX_PHOTOS, max_fields=20)
    except Exception as error:
        if type(error).__name__ == "BodyTooLargeError":
            raise
        error_text = i18n.Translator(lang)("r.too_many_photos")
        return render(
            request, "report.html", lang, 422, site=known, values={}, error=error_text,
            categories=CATEGORIES,
        )  # fmt: skip
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name == "photos" and value.filename:
                photos.append(await value.read(MAX_PHOTO_BYTES + 1))
        elif name in FIELDS:
            values[name] = value[:5000]
    wait = await run_in_threadpool(service.residents.admit_phone, values.get("phone", ""))
    if wait:
        return wait_page(request, lang, wait)
    try:
        submitted = await run_in_threadpool(
            lambda: service.residents.submit(
                known.site,
                values.get("category", ""),
                values.get("building", ""),
                values.get("unit", ""),
                values.get("description", ""),
                values.get("phone", ""),
                photos,
            )
        )
    except RequestRefusedError as error:
        message = refusal(i18n.Translator(lang), error)
        return render(
            request, "report.html", lang, 422, site=known, values=values, error=message,
            categories=CATEGORIES,
        )  # fmt: skip
    return RedirectResponse(f"/r/t/{submitted.token}?lang={lang}&new=1", status_code=303)


def _tracking(service: Backend, request: Request, token: str) -> Response | None:
    wait = service.residents.admit_read(client_address(request))
    if wait:
        return wait_page(request, language(request), wait)
    return None


@router.get("/r/t/{token}", response_class=HTMLResponse)
def track(token: str, request: Request, service: ServiceDep) -> Response:
    return _track_page(token, request, service)


def _track_page(
    token: str, request: Request, service: Backend, error: str | None = None, status_code: int = 200
) -> Response:
    lang = language(request)
    refused = _tracking(service, request, token)
    if refused is not None:
        return refused
    tracking = service.residents.track(token)
    if tracking is None:
        return render(
            request, "message.html", lang, 404, title="r.no_request_title", text="r.no_request"
        )
    known = service.people.site(tracking.request.site)
    zone = ZoneInfo(known.timezone if known else service.settings.timezone)
    return render(
        request,
        "track.html",
        lang,
        status_code,
        tracking=tracking,
        request=tracking.request,
        site_name=known.named(lang) if known else tracking.request.site,
        created=local(tracking.request.created_at, zone),
        expected=local(tracking.expected_by, zone),
        token=token,
        fresh=request.query_params.get("new") == "1",
        error=error,
    )


@router.post("/r/t/{token}", response_class=HTMLResponse)
async def rate(token: str, request: Request, service: ServiceDep) -> Response:
    """The rating form sent: back to the tracking page, thanked or told why not."""
    lang = language(request)
    refused = await run_in_threadpool(_tracking, service, request, token)
    if refused is not None:
        return refused
    form = await request.form(max_files=0, max_fields=10)
    rating, comment = str(form.get("rating", "")), str(form.get("comment", ""))
    t = i18n.Translator(lang)
    try:
        await run_in_threadpool(
            service.residents.feedback, token, int(rating) if rating.isdigit() else 0, comment
        )
    except NotFoundError:
        return render(
            request, "message.html", lang, 404, title="r.no_request_title", text="r.no_request"
        )
    except ConflictError:
        return await run_in_threadpool(
            _track_page, token, request, service, t("r.rating_closed"), 409
        )
    except RequestRefusedError as error:
        message = refusal(t, error)
        return await run_in_threadpool(_track_page, token, request, service, message, 422)
    return RedirectResponse(f"/r/t/{token}?lang={lang}", status_code=303)
