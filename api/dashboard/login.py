"""Login (a token pasted once), logout, and the language switch."""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.dashboard import i18n
from api.dashboard.pages import STATIC_VERSION, environment
from api.dashboard.session import forget_token, keep_token, safe_next, token_of
from api.deps import ServiceDep
from facility.service import Service

router = APIRouter(include_in_schema=False)
LANG_MAX_AGE: Final = 365 * 86_400
MAX_FORM_BYTES: Final = 8192


def _lang(request: Request, service: Service) -> i18n.Lang:
    return i18n.choose(
        request.cookies.get(i18n.LANG_COOKIE),
        [s.locale for s in service.people.sites()],
        request.headers.get("accept-language"),
    )


def _login_page(request: Request, service: Service, target: str, error: str | None) -> Response:
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
    """The login page; a visitor whose cookie still holds a good token goes straight on."""
    target = safe_next(next_)
    token = token_of(request)
    if token and service.authenticate(token) is not None:
        return RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    return _login_page(request, service, target, None)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, service: ServiceDep) -> Response:
    """Check the pasted token once, then keep it in the HttpOnly cookie. The form is read here
    (urlencoded, so no multipart parser is needed); the database work runs off the event loop."""
    body = await request.body()
    form = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0].strip()
    target = safe_next((form.get("next") or ["/"])[0])
    return await run_in_threadpool(_check, request, service, token, target)


def _check(request: Request, service: Service, token: str, target: str) -> Response:
    if not token:
        return _login_page(request, service, target, "login.empty")
    if service.authenticate(token) is None:
        return _login_page(request, service, target, "login.refused")
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    keep_token(response, request, token)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    forget_token(response, request)
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
