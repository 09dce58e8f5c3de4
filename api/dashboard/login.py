"""Login (a token pasted once, for a session of its own), logout, and the language switch."""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from facility_dispatch.api.backend import Backend
from facility_dispatch.api.dashboard import i18n
from facility_dispatch.api.dashboard.pages import STATIC_VERSION, environment
from facility_dispatch.api.dashboard.session import forget_session, keep_session, safe_next
from facility_dispatch.api.deps import (
    SESSION_COOKIE,
    ServiceDep,
    get_logins,
    principal_of,
    same_origin,
)

router = APIRouter(include_in_schema=False)
LANG_MAX_AGE: Final = 365 * 86_400
MAX_FORM_BYTES: Final = 8192


def _lang(request: Request, service: Backend) -> i18n.Lang:
    return i18n.choose(
        request.cookies.get(i18n.LANG_COOKIE),
        [s.locale for s in service.people.sites()],
        request.headers.get("accept-language"),
    )


def _login_page(request: Request, service: Backend, target: str, error: str | None) -> Response:
    lang = _lang(request, service)
    t = i18n.Translator(lang)
    html = environment.get_template("login.html").render(
        t=t,
        lang=lang,
        html_lang=i18n.HTML_LANG[lang],
        static_version=STATIC_VERSION,
        next=target,
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        error=t(error) if error else None,
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    service: ServiceDep,
    next_: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    """The login page; a visitor whose session still holds goes straight on."""
    target = safe_next(next_)
    if principal_of(request, service) is not None:
        return RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    return _login_page(request, service, target, None)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, service: ServiceDep) -> Response:
    """Check the pasted token once, then open a session for it: its id goes into the HttpOnly
    cookie, the token nowhere. Only our own login page may post here (403 otherwise): another
    site must not log a browser in with a token of its choosing. The form is read here
    (urlencoded, so no multipart parser is needed); the database work runs off the event loop."""
    same_origin(request)
    body = await request.body()
    form = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0].strip()
    target = safe_next((form.get("next") or ["/"])[0])
    return await run_in_threadpool(_check, request, service, token, target)


def _check(request: Request, service: Backend, token: str, target: str) -> Response:
    if not token:
        return _login_page(request, service, target, "login.empty")
    principal = service.authenticate(token)
    if principal is None:
        return _login_page(request, service, target, "login.refused")
    logins = get_logins(request)
    session_id = logins.open(principal, service.clock.now())
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    keep_session(response, request, session_id, logins.max_age)
    return response


@router.post("/logout")
def logout(request: Request, service: ServiceDep) -> Response:
    """End the session on the server (the cookie alone would not), and forget the cookie.
    Its open event streams notice at once and close."""
    same_origin(request)
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id and get_logins(request).close(session_id):
        service.events.notify()
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    forget_session(response, request)
    return response


@router.get("/lang/{lang}")
def switch_language(
    lang: str,
    request: Request,
    next_: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    """Remember the visitor's language and go back to the page."""
    response = RedirectResponse(safe_next(next_), status.HTTP_303_SEE_OTHER)
    chosen = i18n.parse_lang(lang)
    if chosen is not None:
        response.set_cookie(
            i18n.LANG_COOKIE,
            chosen,
            max_age=LANG_MAX_AGE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page's <link rel=icon> says: the same icon,
    rather than a 404 in every log."""
    from facility_dispatch.api.dashboard import STATIC_DIRECTORY

    return FileResponse(
        STATIC_DIRECTORY / "favicon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )
