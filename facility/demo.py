"""``facility demo``: the whole service with a simulated estate, on a machine with nothing set up.

Two estates with lifts, booster pumps, distribution boards and cameras, technicians on a
rolling roster, preventive plans and spare parts; the simulators publish live telemetry and
play scripted incidents every few minutes (a leak within the first minute, then the incident
tour: entrapment, burst pipe, camera outage, voltage sag, door obstruction, full recorder,
power cut, tamper). Seeded once, into an empty database; a second run carries on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from facility_dispatch.api.auth import Role
from facility_dispatch.notify.inbox import Inbox
from facility_dispatch.service import Service
from facility_dispatch.simulators import Estate, Runner, SiteLayout, load_scenario

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoSite:
    layout: SiteLayout
    name: str
    name_en: str
    buildings: tuple[str, ...]


SITES = (
    DemoSite(
        SiteLayout("green-garden", elevators=6, water=2, power=2, cctv=16),
        "翠苑小区",
        "Green Garden",
        ("1", "2", "3", "5", "6", "8"),
    ),
    DemoSite(
        SiteLayout("river-court", elevators=4, water=1, power=1, cctv=8),
        "江畔花园",
        "River Court",
        ("A", "B", "C", "D"),
    ),
)
LICENCE = {"kind": "elevator", "number": "TS3101-{n:04d}", "expires_on": "2028-06-30"}
ELECTRICIAN = {"kind": "electrical", "number": "DG-{n:04d}", "expires_on": "2029-03-31"}
PEOPLE: tuple[tuple[str, list[str], str, list[dict[str, str]]], ...] = (
    ("王伟 Wang Wei", ["elevator", "general"], "senior", [LICENCE]),
    ("赵磊 Zhao Lei", ["elevator"], "junior", [LICENCE]),
    ("李娜 Li Na", ["plumbing", "general"], "senior", []),
    ("陈刚 Chen Gang", ["plumbing"], "junior", []),
    ("孙丽 Sun Li", ["electrical", "general"], "senior", [ELECTRICIAN]),
    ("周杰 Zhou Jie", ["electrical", "cctv"], "senior", [ELECTRICIAN]),
    ("吴敏 Wu Min", ["cctv", "general"], "junior", []),
    ("郑强 Zheng Qiang", ["elevator", "electrical"], "senior", [LICENCE, ELECTRICIAN]),
)


def seed(service: Service) -> bool:
    """Fill an empty installation; False (and nothing done) if it has been seeded before."""
    if service.people.technicians()[1]:
        return False
    now = service.clock.now()
    zone = ZoneInfo(service.settings.timezone)
    for demo in SITES:
        layout = demo.layout
        service.people.put_site(
            layout.site,
            name=demo.name,
            name_en=demo.name_en,
            timezone=layout.timezone,
            locale="zh-CN",
            supervisor="物业经理 Property manager, 138-0000-0001",
            contacts={
                "lift contractor 24 h": "400-820-0000",
                "water company": "962-888",
                "State Grid": "95598",
                "security": "8888",
            },
            buildings=list(demo.buildings),
        )
    for n, (name, skills, seniority, certificates) in enumerate(PEOPLE, start=1):
        technician = service.people.add_technician(
            now,
            name=name,
            phone=f"139-0000-{n:04d}",
            skills=skills,
            seniority=seniority,
            sites=[s.layout.site for s in SITES],
            certifications=[{**c, "number": c["number"].format(n=n)} for c in certificates],
            employer=None,
        )
        today = now.astimezone(zone).date()
        for day in range(-1, 8):
            date = today + timedelta(days=day)
            day_start = datetime.combine(date, time(8, 0), zone)
            # days on shift for everyone; nights on call, taken in turns
            service.people.add_shift(
                technician.id, day_start, day_start + timedelta(hours=12), False, None
            )
            if (day + n) % 3 == 0:
                service.people.add_shift(
                    technician.id,
                    day_start + timedelta(hours=12),
                    day_start + timedelta(hours=24),
                    True,
                    None,
                )
    start = now + timedelta(days=1)
    for demo in SITES:
        site = demo.layout.site
        service.planner.create(
            "demo",
            name="电梯半月维保 Lift half-monthly maintenance",
            site=site,
            kind="elevator",
            every="15d",
            starts_at=start,
            lead_time_s=timedelta(days=3).total_seconds(),
            priority="P3",
            skill="elevator",
            template="tsg-t5002-half-monthly",
            checklist=[],
            interrupts="elevator",
            duration_s=2 * 3600.0,
            notice_before_s=86400.0,
        )
        service.planner.create(
            "demo",
            name="水箱清洗消毒 Tank cleaning",
            site=site,
            asset="pump-1",
            kind="water",
            every="6mo",
            starts_at=start + timedelta(days=2),
            lead_time_s=timedelta(days=5).total_seconds(),
            priority="P3",
            skill="plumbing",
            template="water-tank-cleaning",
            checklist=[],
            interrupts="water",
            duration_s=4 * 3600.0,
            notice_before_s=86400.0,
        )
        service.planner.create(
            "demo",
            name="监控月检 CCTV monthly check",
            site=site,
            kind="cctv",
            cron="0 10 1 * *",
            starts_at=now,
            lead_time_s=timedelta(days=2).total_seconds(),
            priority="P4",
            skill="cctv",
            template="cctv-monthly-check",
            checklist=[],
            interrupts=None,
            duration_s=3600.0,
            notice_before_s=0.0,
        )
        for sku, part, unit, cost, stock, reorder in (
            ("SEAL-40", "机械密封 Mechanical seal 40 mm", "pcs", 85.0, 4, 2),
            ("ROLLER-LC", "门刀滚轮 Door lock roller", "pcs", 32.0, 10, 4),
            ("FUSE-10A", "熔断器 Fuse 10 A", "pcs", 2.5, 3, 5),
            ("HDD-8T", "监控硬盘 Surveillance disk 8 TB", "pcs", 1150.0, 2, 1),
        ):
            found = [p for p in service.parts.catalogue() if p.sku == sku]
            if found:
                service.parts.receive(found[0].id, site, stock, "demo", "opening stock", reorder)
            else:
                service.parts.add(sku, part, unit, cost, {site: (stock, reorder)}, "demo")
    seed_rosters(service, today)
    log.info("demo estate seeded: %d sites, %d technicians", len(SITES), len(PEOPLE))
    return True


GUARDS = ("刘洋 Liu Yang", "黄勇 Huang Yong", "马超 Ma Chao", "胡军 Hu Jun")
ROTATION = ["day", "day", "night", "night", "rest", "rest"]
"""The guards' 4-on-2-off: each gate needs one guard by day and one by night."""


def safety_manager_token(service: Service) -> str:
    """A token for the first estate's safety manager (安全管理员), made afresh each run (only
    its hash is kept): lift and electrical orders close only after a safety manager signs them
    off, a duty the admin does not hold by rank, so without it nobody in the demo could close
    one. Limited to its estate, it also shows what a site-scoped login sees."""
    now = service.clock.now()
    secret, _ = service.tokens.create(
        "安全管理员 An Quan",
        Role.TECHNICIAN,
        "demo",
        now,
        expires_at=now + timedelta(days=30),
        sites=[SITES[0].layout.site],
        safety_manager=True,
    )
    return secret


def seed_rosters(service: Service, today: date) -> None:
    """The first estate's gate guards and cleaners on rosters, the National Day holidays, and
    the built-in fire patrol and plant room round at both estates."""
    site = SITES[0].layout.site
    monday = today - timedelta(days=today.weekday())
    guards = [
        service.people.add_technician(
            service.clock.now(),
            name=name,
            phone=f"137-0000-{n:04d}",
            # the spare is also a first-aider, whom the gate wants: proposed first for a gap
            skills=["security", "first_aid"] if name == GUARDS[-1] else ["security"],
            seniority="senior",
            sites=[site],
            certifications=[],
            employer="保安公司 Security contractor",
        ).id
        for n, name in enumerate(GUARDS, start=1)
    ]
    gate = service.rosters.add_post(
        site,
        "南门岗 South gate",
        "security",
        [
            {"name": "day", "starts": "08:00", "ends": "20:00", "headcount": 1},
            {"name": "night", "starts": "20:00", "ends": "08:00", "headcount": 1},
        ],
        wanted=["first_aid"],
    )
    for offset, guard in zip((0, 2, 4), guards, strict=False):  # the fourth guard is the spare
        anchor = monday - timedelta(days=offset)
        service.rosters.add_line(gate.id, guard, ROTATION, anchor, starts_on=monday)
    cleaning = service.rosters.add_post(
        site,
        "保洁 Cleaning, buildings 1-3",
        "general",
        [
            {
                "name": "day",
                "starts": "07:30",
                "ends": "16:30",
                "headcount": 2,
                "holiday_headcount": 1,
                "weekdays": [1, 2, 3, 4, 5],
            }
        ],
    )
    cleaners = [t.id for t in service.people.technicians(site, "general")[0]][:2]
    weekdays = ["day"] * 5 + ["rest"] * 2
    for cleaner in cleaners:
        service.rosters.add_line(cleaning.id, cleaner, weekdays, monday, off_on_holidays=True)
    year = today.year
    service.rosters.set_holidays(
        site, year, [(date(year, 10, d), "国庆节 National Day") for d in range(1, 8)]
    )
    for demo in SITES:
        for template in ("fire_patrol", "plant_room"):
            service.patrols.from_template(demo.layout.site, template, "zh", "demo", None)


def register_assets(service: Service, devices: Estate) -> None:
    """Names and buildings of the simulated devices (the dashboard and notices use them)."""
    buildings = {d.layout.site: d.buildings for d in SITES}
    for n, device in enumerate(devices.devices):
        site_buildings = buildings[device.site]
        building = site_buildings[n % len(site_buildings)]
        if service.assets.get(device.site, device.asset) is None:
            service.register_asset(device.site, device.asset, device.kind, None, building)


def estate() -> Estate:
    return Estate([d.layout for d in SITES], seed=7)


def start_estate(service: Service, devices: Estate, broker_url: str, protocol: str) -> Runner:
    """The simulated devices, publishing live, with incidents on a timetable."""
    now = service.clock.now()
    # an alarm within the first minute, so a newcomer sees the whole chain at once
    devices.inject(
        "leak",
        "pump-1",
        site="river-court",
        at=now + timedelta(seconds=15),
        duration=timedelta(minutes=2),
    )
    tour = load_scenario("incident-tour")
    devices.play(
        tour,
        start=now + timedelta(minutes=1),
        repeat_every=timedelta(minutes=30),
        site="green-garden",
    )
    devices.play(
        tour,
        start=now + timedelta(minutes=16),
        repeat_every=timedelta(minutes=30),
        site="river-court",
    )
    runner = Runner(devices, broker_url, interval=2.0, protocol=protocol, client_prefix="demo")
    runner.start()
    return runner


DEMO_NOTIFY_MARK = "# facility demo:"
DEMO_NOTIFY = """# facility demo: every receiver is the dashboard's own inbox, /inbox
receivers:
  - name: duty-desk
    urls: ["{desk}"]
routes:
  - name: urgent
    match: {{priority: [P1, P2]}}
    to: [assignees, duty-desk]
    repeat: 5m
    escalate_after: 15m
    escalate_to: [supervisor]
  - name: the rest
    match: {{event: [work_order.assigned, work_order.breached, work_order.escalated,
                     part.low_stock, request.received, request.feedback_low]}}
    to: [duty-desk]
"""


def configure_notifications(service: Service) -> None:
    """Messages a newcomer can watch: the duty desk, every technician and a supervisor get the
    dashboard's own inbox (``/inbox``) as their contact, through Apprise ``json://`` URLs of
    the service itself. An operator's own notifications file (FACILITY_NOTIFY, or one put
    through the API) is left as it is."""
    notifier = service.notifier
    inbox = Inbox(notifier.kept_secret("inbox_key"))
    notifier.inbox = inbox
    settings = service.settings
    host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "::") else settings.http_host
    base = f"http://{host}:{settings.http_port}"
    current = notifier.config().text
    if current.strip() and not current.startswith(DEMO_NOTIFY_MARK):
        return
    people = service.people
    if not any(t.role == "supervisor" for t in people.technicians(limit=10_000)[0]):
        people.add_technician(
            service.clock.now(),
            name="刘敏 Liu Min (property manager)",
            phone="138-0000-0001",
            skills=["general"],
            seniority="senior",
            sites=[s.layout.site for s in SITES],
            certifications=[],
            employer=None,
            role="supervisor",
        )
    for technician in people.technicians(limit=10_000)[0]:
        wanted = [inbox.url(base, f"t{technician.id}")]
        if list(technician.contacts) != wanted:
            people.update_technician(technician.id, contacts=wanted)
    notifier.configure(DEMO_NOTIFY.format(desk=inbox.url(base, "duty-desk")))
