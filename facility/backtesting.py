"""``facility rules backtest``: recorded telemetry (the public datasets, or any CSV) through the
rules, in the data's own time, scored against the data's labels (SPEC section 3).

The root joins two stages that do not know each other: the simulators' dataset mapping
(:mod:`facility_dispatch.simulators.replay`) and the rules' backtest
(:mod:`facility_dispatch.rules.backtest`).

Lines, all deterministic: one ``alarm ...`` line per alarm, series by series in the dataset's
order, each in firing order; a line per part of the data (``group=valve1 ...`` for SKAB's
folders and NAB's series, with the label score, or ``part=anomaly-free ...`` for a recording
without faults: alarms per hour and work orders);
then ``work_orders=N hours=H``; the last line is the summary of SPEC section 3.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from facility_dispatch.kernel.clock import from_ms, rfc3339
from facility_dispatch.kernel.readings import Reading
from facility_dispatch.rules.backtest import BacktestAlarm, Episode, Score, run, score
from facility_dispatch.rules.loader import load_default, load_file
from facility_dispatch.simulators.replay import ReplaySeries, load_csv, load_dataset


def series_readings(series: ReplaySeries, site: str) -> Iterator[Reading]:
    """A series as readings at the data's own times."""
    for offset, metrics in series.rows:
        ts_ms = round((series.origin + offset) * 1000)
        yield Reading(site, series.kind, series.asset, ts_ms, metrics)


def _ms(series: ReplaySeries, offset: float) -> int:
    return round((series.origin + offset) * 1000)


def backtest_lines(
    rules_path: Path | None,
    *,
    dataset: str | None,
    csv_path: Path | None,
    site: str,
    kind: str | None,
    asset: str | None,
    time_column: str | None,
    label_column: str | None,
    datasets: Path | None,
    params: Mapping[str, float],
) -> Iterator[str]:
    """The lines ``facility rules backtest`` prints.

    Each series (each SKAB recording, each NAB series) is its own run, with an engine of its
    own: it learns from its own start, and nothing one recording taught carries over to the
    next; an alarm still on at the end of a recording ends there. Its alarms are scored
    against its own labels, and the scores add up per group (SKAB's folders) and overall."""
    ruleset = load_file(rules_path) if rules_path else load_default()
    if dataset is not None:
        series = load_dataset(dataset, datasets)
    else:
        assert csv_path is not None and kind is not None and asset is not None
        series = [
            load_csv(
                csv_path,
                kind=kind,
                asset=asset,
                time_column=time_column,
                label_column=label_column,
            )
        ]
    sites = {site: params} if params else None
    groups: dict[str, list[tuple[ReplaySeries, list[BacktestAlarm]]]] = {}
    for one in series:
        if not one.rows:
            continue
        alarms = run(ruleset, series_readings(one, site), sites)
        groups.setdefault(one.group, []).append((one, alarms))
        for alarm in alarms:
            resolved = rfc3339(from_ms(alarm.resolved_ms)) if alarm.resolved_ms else "-"
            yield (
                f"alarm site={alarm.site} asset={alarm.asset} fault={alarm.fault} "
                f"rule={alarm.rule_id} severity={alarm.severity} "
                f"fired={rfc3339(from_ms(alarm.fired_ms))} resolved={resolved} "
                f"work_order={'yes' if alarm.work_order else 'no'}"
            )
    total = Score(0, 0, 0, 0)
    orders = 0
    hours = 0.0
    for group, runs in groups.items():
        scored = Score(0, 0, 0, 0)
        labelled = False
        group_alarms = group_orders = 0
        group_hours = 0.0
        for one, alarms in runs:
            episodes = [
                Episode(site, one.asset, _ms(one, e.start), _ms(one, e.end), e.group)
                for e in one.episodes
            ]
            labelled = labelled or bool(episodes)
            scored = scored.plus(score(alarms, episodes, _ms(one, one.span)))
            group_alarms += len(alarms)
            group_orders += sum(a.work_order for a in alarms)
            group_hours += (_ms(one, one.span) - _ms(one, 0.0)) / 3_600_000
        total = total.plus(scored)
        orders += group_orders
        hours += group_hours
        if labelled:
            yield f"group={group} " + scored.line()
        elif len(groups) > 1:
            per_hour = group_alarms / group_hours if group_hours else 0.0
            yield (
                f"part={group} hours={group_hours:.2f} alarms={group_alarms} "
                f"alarms_per_hour={per_hour:.2f} work_orders={group_orders}"
            )
    yield f"work_orders={orders} hours={hours:.2f}"
    yield total.line()
