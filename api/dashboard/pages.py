"""Rendering a dashboard page: the templates, and what every page knows about its visitor.

A :class:`Page` is built per request by the :func:`get_page` dependency: who is looking (a login is
required, see :mod:`facility_dispatch.api.dashboard.session`), in which language, and each site's
local time zone. Routes gather their data from the service and call :meth:`Page.render`. A request
from htmx (``HX-Request``) for a page with a live region gets only that region's partial template:
the page refreshes itself without a second set of routes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from facility_dispatch import __version__
from facility_dispatch.api.auth import Principal, Role
from facility_dispatch.api.backend import Backend
from facility_dispatch.api.dashboard import i18n, present, wording
from facility_dispatch.api.dashboard.session import NotVisible, PageUser
from facility_dispatch.api.deps import ServiceDep
from facility_dispatch.api.errors import actor_of
from facility_dispatch.kernel.clock import rfc3339, to_ms
from facility_dispatch.kernel.durations import parse_duration
from facility_dispatch.maintenance import authority
from facility_dispatch.maintenance.orders import WorkOrder
from facility_dispatch.maintenance.playbooks import for_fault
from facility_dispatch.rules.alarms import AlarmRecord

TEMPLATES: Final = Path(__file__).resolve().parents[1] / "templates" / "dashboard"
STATIC_VERSION: Final = __version__
"""Appended to static URLs (``?v=``) so an upgrade is not served from a stale browser cache."""

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def aware(when: datetime) -> datetime:
    """Times from the store are aware UTC; this keeps a stray naive one from breaking a page."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def span(seconds: float, t: i18n.Translator) -> str:
    """A duration as an engineer reads it at a glance: 45s, 12m, 3h 20m, 2d 4h."""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    units = [(days, "unit.d"), (hours, "unit.h"), (minutes, "unit.m"), (secs, "unit.s")]
    parts = [f"{value}{t(key)}" for value, key in units if value]
    return " ".join(parts[:2]) if parts else f"0{t('unit.s')}"


@dataclass
class Page:
    """One request's view of the dashboard."""

    request: Request
    service: Backend
    user: Principal
    lang: i18n.Lang
    sites: dict[str, Any]
    now: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.t = i18n.Translator(self.lang)
        self.default_zone = ZoneInfo(self.service.settings.timezone)
        self.now = self.service.clock.now()

    # -- who may do what ------------------------------------------------------------------

    @property
    def may_acknowledge(self) -> bool:
        return self.user.role >= Role.TECHNICIAN

    @property
    def may_plan(self) -> bool:
        """Silences and assignment are a planner's (as the API has it)."""
        return self.user.role >= Role.PLANNER

    def may(self, order: WorkOrder, act: authority.Act) -> bool:
        """Whether this visitor may ``act`` on ``order`` (as the service will judge it)."""
        access = authority.OrderAccess(order.number, order.priority, order.assignees)
        allowed = authority.verdict(actor_of(self.user), access, act) is authority.Verdict.ALLOWED
        return allowed and (act is not authority.Act.ASSIGN or self.user.role >= Role.PLANNER)

    def order_title(self, order: WorkOrder) -> str:
        return wording.order_title(order, self.t)

    def order_choice(self, order: WorkOrder) -> str:
        return wording.order_choice(order, self.t)

    def alarm_description(self, alarm: AlarmRecord) -> str:
        return wording.alarm_description(alarm, self.service.alarms.rule(alarm.rule_id), self.t)

    def alarm_value(self, alarm: AlarmRecord) -> str:
        """The value that fired, with its unit or the state it means (a leak sensor "wet"),
        when the rule reads one metric."""
        rule = self.service.alarms.rule(alarm.rule_id)
        return wording.alarm_value(alarm.kind, alarm.value, rule, self.t)

    def query_with(self, **changes: object) -> str:
        """This page's query string with some parameters changed (a view switch keeps the
        filters)."""
        values = dict(self.request.query_params)
        values.update({k: str(v) for k, v in changes.items()})
        return urlencode({k: v for k, v in values.items() if v})

    @staticmethod
    def seconds(duration: str) -> float:
        return parse_duration(duration).total_seconds()

    def ledger_note(self, note: str | None) -> str:
        return wording.ledger_note(note, self.t)

    def template_title(self, name: str) -> str:
        return wording.template_title(name, self.lang)

    def every_text(self, every: str) -> str:
        return wording.every_text(every, self.t)

    def target_clock(self, due: datetime) -> present.SlaClock:
        """A playbook step's target (the lift technician on site in 30 minutes) as a countdown."""
        return present.SlaClock(aware(due), "target", self.now > aware(due))

    def actor_name(self, actor: str) -> str:
        """The service's own actors (dispatcher, scheduler) in the visitor's language."""
        return self.t.get(f"actor.{actor}") or actor

    def span(self, seconds: float) -> str:
        return span(seconds, self.t)

    def needs_reason(self, order: WorkOrder) -> bool:
        """Closing this order asks why: a P1 whose playbook steps are not all ticked."""
        return order.priority == "P1" and any(
            item.result is None and item.position < self._playbook_length(order)
            for item in order.checklist
        )

    @staticmethod
    def _playbook_length(order: WorkOrder) -> int:
        playbook = for_fault(order.fault)
        return len(playbook.steps) if playbook else 0

    def steps(self, order: WorkOrder) -> list[str]:
        """The lifecycle buttons this visitor gets on ``order``: the steps the order allows that
        :mod:`facility_dispatch.maintenance.authority` lets this visitor take (the API asks the
        same), so no button leads to a 403. ``assigned`` (dispatching an open order) is a
        planner's."""
        actor = actor_of(self.user)
        access = authority.OrderAccess(order.number, order.priority, order.assignees)
        return [
            step
            for step in order.allowed
            if authority.verdict(actor, access, authority.Act.MOVE, step)
            is authority.Verdict.ALLOWED
            and (step != "assigned" or self.user.role >= Role.PLANNER)
        ]

    # -- time -----------------------------------------------------------------------------

    def zone(self, site: str | None) -> ZoneInfo:
        record = self.sites.get(site) if site else None
        if record is not None:
            try:
                return ZoneInfo(record.timezone)
            except (KeyError, ValueError):
                pass
        return self.default_zone

    def local(
        self,
        when: datetime | None,
        site: str | None = None,
        date_only: bool = False,
        clock_only: bool = False,
    ) -> str:
        """``when`` in the site's local time; the year only when it is not this year's."""
        if when is None:
            return "—"
        zone = self.zone(site)
        moment = aware(when).astimezone(zone)
        if date_only or clock_only:
            return moment.strftime("%Y-%m-%d" if date_only else "%H:%M")
        same_year = moment.year == self.now.astimezone(zone).year
        return moment.strftime("%m-%d %H:%M" if same_year else "%Y-%m-%d %H:%M")

    def stamp(self, when: datetime | None, site: str | None = None) -> str:
        """``when`` in the site's local time with its date in full: what a record that is
        printed and kept for years needs (never the ISO form with its "T" and offset)."""
        if when is None:
            return "—"
        return aware(when).astimezone(self.zone(site)).strftime("%Y-%m-%d %H:%M")

    def ago(self, when: datetime | None) -> str:
        if when is None:
            return "—"
        return self.t("time.ago", span=span((self.now - aware(when)).total_seconds(), self.t))

    def site_name(self, site: str) -> str:
        """The site's name in the page's language: its English name on an English page (else
        the English in its name), the Chinese part on a Chinese one; its key when unnamed."""
        record = self.sites.get(site)
        return record.named(self.lang) if record is not None and record.name else site

    def zone_name(self, zone: str) -> str:
        """A time zone as people say it (Asia/Shanghai: 北京时间 / China time); another zone by
        its name."""
        return self.t.get(f"zone.{zone}") or zone

    def site_names(self, sites: Iterable[str]) -> str:
        """Several sites by their names in the page's language (a person's, a token's)."""
        return self.t("tl.list_sep").join(self.site_name(site) for site in sites)

    def site_options(self) -> list[str]:
        """Every site with a record or an asset: the choices of a page's site filter."""
        records, _ = self.service.assets.query()
        return sorted(s for s in set(self.sites) | {r.site for r in records} if self.user.sees(s))

    def site_zones(self) -> dict[str, str]:
        """Each site offered and its time zone: the console reads a time typed for a site in
        that site's zone, as it shows the site's times."""
        return {site: self.zone(site).key for site in self.site_options()}

    # -- rendering ------------------------------------------------------------------------

    @property
    def wants_partial(self) -> bool:
        return self.request.headers.get("HX-Request") == "true"

    def render(
        self, template: str, partial: str | None = None, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        """The page, or only its live region when htmx asks for it."""
        name = partial if partial and self.wants_partial else template
        html = self.html(name, **context)
        # what a page shows depends on who asks: no cache may keep it (nor show it after logout)
        headers = {"Vary": "HX-Request", "Cache-Control": "no-store"}
        return HTMLResponse(html, status_code=status_code, headers=headers)

    def html(self, template: str, **context: Any) -> str:
        """``template`` rendered in this page's language and time zones: a whole page, or a
        part that another page puts together (the bilingual review holds one per language)."""
        values = {
            "page": self,
            "t": self.t,
            "user": self.user,
            "lang": self.lang,
            "html_lang": i18n.HTML_LANG[self.lang],
            "static_version": STATIC_VERSION,
            "path": self.request.url.path,
            "here": _here(self.request),
            "ms": lambda when: to_ms(aware(when)) if when else "",
            "iso": lambda when: rfc3339(aware(when)) if when else "",
            "span": lambda seconds: span(seconds, self.t),
            "reading": lambda value: wording.value_text(value, self.t),
            "part_unit": lambda unit: wording.part_unit(unit, self.t),
            **context,
        }
        return environment.get_template(template).render(values)

    def not_found(self, message: str) -> HTMLResponse:
        return self.render("missing.html", status_code=404, message=message)


def _here(request: Request) -> str:
    """This page's path and query: where the language switch and the login come back to."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def page_in(request: Request, service: Backend, user: Principal, lang: i18n.Lang) -> Page:
    """A page in a language chosen by the caller (the bilingual review renders one of each)."""
    sites = {s.site: s for s in service.people.sites() if user.sees(s.site)}
    return Page(request, service, user, lang, sites)


def get_page(request: Request, service: ServiceDep, user: PageUser) -> Page:
    sites = {s.site: s for s in service.people.sites() if user.sees(s.site)}
    focus = request.path_params.get("site") or request.query_params.get("site")
    shown = list(sites.values()) if not focus else [sites[focus]] if focus in sites else []
    lang = i18n.choose(
        request.cookies.get(i18n.LANG_COOKIE),
        [s.locale for s in shown],
        request.headers.get("accept-language"),
    )
    return Page(request, service, user, lang, sites)


PageDep = Annotated[Page, Depends(get_page)]


def not_visible(request: Request, error: Exception) -> HTMLResponse:
    """The answer to :class:`NotVisible`: the console's own "not found" page."""
    assert isinstance(error, NotVisible)
    page = get_page(request, request.app.state.service, error.user)
    return page.not_found(page.t("estates.not_here"))
