"""``facility rules backtest``: recorded telemetry (the public datasets, or any CSV) through the
rules, in the data's own time, scored against the data's labels (SPEC section 3).

The root joins two stages that do not know each other: the simulators' dataset mapping
(:mod:`facility_dispatch.simulators.replay`) and the rules' backtest
(:mod:`facility_dispatch.rules.backtest`).

Lines, all deterministic: one ``alarm ...`` line per alarm in firing order; a line per part of
the data (``group=valve1 ...`` for SKAB's folders and NAB's series, with the label score, or
``part=anomaly-free ...`` for a recording without faults: alarms per hour and work orders);
then ``work_orders=N hours=H``; the last line is the summary of SPEC section 3.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from facility_dispatch.kernel.clock import from_ms, rfc3339
from facility_dispatch.kernel.readings import Reading
from facility_dispatch.rules.backtest import BacktestAlarm, Episode, run, score
from facility_dispatch.rules.loader import load_default, load_file
from facility_dispatch.simulators.replay import ReplaySeries, load_csv, load_dataset


def series_readings(series: ReplaySeries, site: str) -> Iterator[Reading]:
    """A series as readings at the data's own times."""
    for offset, metrics in series.rows:
        ts_ms = round((series.origin + offset) * 1000)
        yield Reading(site, series.kind, series.asset, ts_ms, metrics)


def _ms(series: ReplaySeries, offset: float) -> int:
    return round((series.origin + offset) * 1000)


def _spans(
    series: Sequence[ReplaySeries],
) -> dict[str, list[tuple[str, int, int]]]:
    """Each part's group -> (asset, start, end) spans: SKAB's folders, or one part a series."""
    groups: dict[str, list[tuple[str, int, int]]] = {}
    for one in series:
        if not one.rows:
            continue
        end = _ms(one, one.span) + 1
        if not one.parts:
            groups.setdefault(one.source.rsplit("/", 1)[-1].removesuffix(".csv"), []).append(
                (one.asset, _ms(one, 0.0), end)
            )
            continue
        bounds = [offset for offset, _ in one.parts[1:]] + [one.span + 1.0]
        for (offset, name), until in zip(one.parts, bounds, strict=True):
            group = name.split("/", 1)[0] if "/" in name else name
            groups.setdefault(group, []).append((one.asset, _ms(one, offset), _ms(one, until)))
    return groups


def _within(alarm: BacktestAlarm, spans: list[tuple[str, int, int]]) -> bool:
    return any(
        alarm.asset == asset and start <= alarm.fired_ms < end for asset, start, end in spans
    )


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
    """The lines ``facility rules backtest`` prints."""
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
    readings = heapq.merge(
        *(series_readings(one, site) for one in series), key=lambda reading: reading.ts_ms
    )
    alarms = run(ruleset, readings, {site: params} if params else None)
    episodes = [
        Episode(site, one.asset, _ms(one, e.start), _ms(one, e.end), e.group)
        for one in series
        for e in one.episodes
    ]
    end_ms = max((_ms(one, one.span) for one in series if one.rows), default=0)
    for alarm in alarms:
        resolved = rfc3339(from_ms(alarm.resolved_ms)) if alarm.resolved_ms else "-"
        yield (
            f"alarm site={alarm.site} asset={alarm.asset} fault={alarm.fault} "
            f"rule={alarm.rule_id} severity={alarm.severity} "
            f"fired={rfc3339(from_ms(alarm.fired_ms))} resolved={resolved} "
            f"work_order={'yes' if alarm.work_order else 'no'}"
        )
    groups = _spans(series)
    for group, spans in groups.items():
        chosen = [a for a in alarms if _within(a, spans)]
        labelled = [e for e in episodes if e.group == group]
        if labelled or len(groups) > 1:
            if labelled:
                yield f"group={group} " + score(chosen, labelled, end_ms).line()
            else:
                hours = sum(end - start for _, start, end in spans) / 3_600_000
                orders = sum(a.work_order for a in chosen)
                per_hour = len(chosen) / hours if hours else 0.0
                yield (
                    f"part={group} hours={hours:.2f} alarms={len(chosen)} "
                    f"alarms_per_hour={per_hour:.2f} work_orders={orders}"
                )
    hours = sum(_ms(one, one.span) - _ms(one, 0.0) for one in series if one.rows) / 3_600_000
    yield f"work_orders={sum(a.work_order for a in alarms)} hours={hours:.2f}"
    yield score(alarms, episodes, end_ms).line()
