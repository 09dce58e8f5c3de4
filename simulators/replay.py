"""Replay of real public telemetry (``shared/datasets``) as devices of the matching kind.

The data stay where they are (SKAB is GPL-3.0: nothing is copied into the project); this module
holds only the mapping from each dataset's columns to SPEC metrics, as its PROVENANCE.md
describes, with unit conversions. Numbers outside a metric's SPEC range are clipped to it, and
rows with missing values are skipped, so a replay never publishes an invalid reading. Rows
whose time repeats or goes back (NAB has twelve copies of 2014-03-09 03:00, the US daylight
saving change, and one backward hour) are skipped too: a repeated (asset, ts) is a duplicate
to the service.

Datasets (``--replay NAME`` or ``NAME:PART``):

* ``skab`` -> water pumps, one a recording (``valve1/3.csv`` is ``pump-valve1-3``, the
  fault-free one ``pump-anomaly-free``): ``Pressure`` (relative, around 0) + 3.0 bar ->
  ``pressure_bar`` (so it sits in a booster station's 3-4.5 bar band); ``Volume Flow
  RateRMS`` L/min x 0.06 -> ``flow_m3h``; ``Current`` -> ``pump_current_a``, and
  ``pump_running`` when it is >= 0.3 A;
  kept as extra metrics: ``motor_temp_c``, ``water_temp_c``, ``vibration1_g``, ``vibration2_g``,
  ``motor_voltage_v``. Each of the 35 files is its own pump, all played side by side: every
  recording starts healthy (SKAB's authors train on the first 400 rows of each), so each
  asset's learned normals warm up on its own start and nothing one recording taught the rules
  carries over to the next (played back to back on one pump, the step from one file's level
  to the next raised alarms that stayed open for hours). ``skab:valve1/0.csv`` plays one file.
* ``nab`` -> every series of the subset, each as its own asset: machine temperature (°F -> °C)
  as elevator ``lift-1`` ``motor_temp_c``; office ambient temperature as elevator ``lift-2``
  ``machine_room_temp_c``; EC2 NetworkIn (bytes per 5 min -> kbit/s) as cctv ``cam-1..3``
  ``bitrate_kbps``; disk-write bytes as cctv ``nvr-1..2`` ``bitrate_kbps``; request latency as
  cctv ``vms-1`` ``request_latency`` (unit not stated upstream). CCTV here is a proxy (see the
  provenance). ``nab:machine_temperature_system_failure`` plays one series.
* ``uci`` -> power ``board-1``: ``Voltage`` -> ``voltage_v``, ``Global_intensity`` ->
  ``current_a``, ``Global_active_power`` -> ``power_kw``, P/sqrt(P²+Q²) -> ``power_factor``, the
  running sum of P x 1 min -> ``energy_kwh``, ``mains_ok`` true (a measured voltage); the three
  sub-meters as ``kitchen_wh``, ``laundry_wh``, ``water_heater_ac_wh``. ``?`` rows are a gap.

Time: each series keeps its own spacing, sped up by ``speed``, and is shifted so that it ends
"now": at the moment its replay ends (``speed`` >= 1: so speed 1 is live, and no timestamp is
ever ahead of the wall clock, which the service would refuse).

Labels: each series carries its labelled fault episodes in its own offsets (SKAB's ``anomaly``
runs, one per file, grouped by folder; NAB's windows from ``labels/combined_windows.json``),
and ``origin``, the epoch time of its first row, for the backtest to print the data's own time.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from facility_dispatch.ingest.catalogue import spec_for
from facility_dispatch.kernel.readings import MetricValue
from facility_dispatch.simulators.errors import DatasetError
from facility_dispatch.simulators.telemetry import DeviceId, PresenceChange, Telemetry, Tick

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
DEFAULT_ROOT: Final = REPO_ROOT.parent / "shared" / "datasets"
FOLDERS: Final = {
    "skab": "skab",
    "nab": "nab_facility_subset",
    "uci": "uci_household_power_slice",
}
SKAB_PRESSURE_OFFSET_BAR: Final = 3.0
SKAB_RUNNING_A: Final = 0.3
LPM_TO_M3H: Final = 0.06

_NAB: Final = {
    # series: (folder, kind, asset, metric, conversion)
    "machine_temperature_system_failure": ("realKnownCause", "elevator", "lift-1", "motor_temp_c"),
    "ambient_temperature_system_failure": (
        "realKnownCause",
        "elevator",
        "lift-2",
        "machine_room_temp_c",
    ),
    "ec2_network_in_257a54": ("realAWSCloudwatch", "cctv", "cam-1", "bitrate_kbps"),
    "ec2_network_in_5abac7": ("realAWSCloudwatch", "cctv", "cam-2", "bitrate_kbps"),
    "iio_us-east-1_i-a2eb1cd9_NetworkIn": ("realAWSCloudwatch", "cctv", "cam-3", "bitrate_kbps"),
    "ec2_disk_write_bytes_1ef3de": ("realAWSCloudwatch", "cctv", "nvr-1", "bitrate_kbps"),
    "ec2_disk_write_bytes_c0d644": ("realAWSCloudwatch", "cctv", "nvr-2", "bitrate_kbps"),
    "ec2_request_latency_system_failure": ("realKnownCause", "cctv", "vms-1", "request_latency"),
}
NAB_PERIOD_S: Final = 300.0


@dataclass(frozen=True, slots=True)
class LabelledEpisode:
    """A fault the dataset's authors marked: from ``start`` to ``end`` (series offsets, s)."""

    start: float
    end: float
    group: str  # SKAB's folder (valve1, valve2, other), NAB's series name


@dataclass(frozen=True, slots=True)
class ReplaySeries:
    """One asset's readings from one dataset: (seconds since the series start, metrics)."""

    dataset: str
    kind: str
    asset: str
    source: str
    rows: tuple[tuple[float, dict[str, MetricValue]], ...]
    episodes: tuple[LabelledEpisode, ...] = ()
    origin: float = 0.0  # epoch seconds of the first row
    group: str = ""  # the part of the dataset it belongs to, for the backtest's lines

    @property
    def span(self) -> float:
        return self.rows[-1][0] if self.rows else 0.0


def datasets_root(explicit: str | Path | None = None) -> Path:
    """``--datasets``, else ``FACILITY_DATASETS``, else ``../shared/datasets`` from the repo."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get("FACILITY_DATASETS")
    return Path(env) if env else DEFAULT_ROOT


def load_dataset(spec: str, root: str | Path | None = None) -> list[ReplaySeries]:
    """The series of ``NAME`` or ``NAME:PART`` (see the module docstring)."""
    name, _, part = spec.partition(":")
    alias = {folder: key for key, folder in FOLDERS.items()}
    key = alias.get(name, name)
    if key not in FOLDERS:
        raise DatasetError(f"unknown dataset {name!r}: use one of {', '.join(FOLDERS)}")
    folder = datasets_root(root) / FOLDERS[key]
    if not folder.is_dir():
        raise DatasetError(
            f"dataset folder {folder} not found: pass --datasets PATH or set FACILITY_DATASETS"
        )
    try:
        if key == "skab":
            return _skab(folder, part or None)
        if key == "nab":
            return _nab(folder, part or None)
        if part:
            raise DatasetError("uci has one file: use --replay uci")
        return [_uci(folder)]
    except (OSError, UnicodeDecodeError, ValueError, IndexError) as error:
        if isinstance(error, DatasetError):
            raise
        raise DatasetError(f"cannot read dataset {spec!r} under {folder}: {error}") from None


def clip(kind: str, metrics: dict[str, float | bool]) -> dict[str, MetricValue] | None:
    """Clip numbers into their SPEC range; None when a value is not a finite number."""
    out: dict[str, MetricValue] = {}
    for name, value in metrics.items():
        if isinstance(value, bool):
            out[name] = value
            continue
        if not math.isfinite(value):
            return None
        spec = spec_for(kind, name)
        if spec is not None:
            if spec.low is not None:
                value = max(value, spec.low)
            if spec.high is not None:
                value = min(value, spec.high)
        out[name] = round(value, 4)
    return out


def _naive_utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _skab_files(folder: Path, part: str | None) -> list[Path]:
    if part:
        path = folder / part
        if not path.is_file() or path.suffix != ".csv":
            raise DatasetError(f"no SKAB file {part!r} (e.g. anomaly-free/anomaly-free.csv)")
        return [path]
    files = [folder / "anomaly-free" / "anomaly-free.csv"]
    for group in ("valve1", "valve2", "other"):
        files.extend(sorted((folder / group).glob("*.csv"), key=lambda p: int(p.stem)))
    return files


def skab_asset(relative: str) -> str:
    """The asset one SKAB recording plays as: ``valve1/3.csv`` -> ``pump-valve1-3``."""
    return "pump-" + relative.removesuffix(".csv").replace("/", "-").replace("anomaly-free-", "")


def _skab(folder: Path, part: str | None) -> list[ReplaySeries]:
    return [_skab_file(folder, path) for path in _skab_files(folder, part)]


def _skab_file(folder: Path, path: Path) -> ReplaySeries:
    """One SKAB recording as its own pump: each starts healthy (the authors train on its first
    400 rows), so a learned normal warms up on its own start and nothing carries over from the
    recording before (they were made on different days, at different levels)."""
    rows: list[tuple[float, dict[str, MetricValue]]] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(";")
    col = {name: i for i, name in enumerate(header)}
    labelled = col.get("anomaly")
    first: float | None = None
    last = -math.inf
    fault: tuple[float, float] | None = None  # the labelled run of this file
    for line in lines[1:]:
        cells = line.split(";")
        if len(cells) < len(header):
            continue
        t = _naive_utc(cells[col["datetime"]])
        if t <= last:
            continue  # a repeated time: a duplicate to the service
        last = t
        first = t if first is None else first
        at = t - first
        if labelled is not None and float(cells[labelled]) >= 0.5:
            fault = (fault[0] if fault else at, at)
        current = float(cells[col["Current"]])
        metrics = clip(
            "water",
            {
                "pressure_bar": float(cells[col["Pressure"]]) + SKAB_PRESSURE_OFFSET_BAR,
                "flow_m3h": float(cells[col["Volume Flow RateRMS"]]) * LPM_TO_M3H,
                "pump_current_a": current,
                "pump_running": current >= SKAB_RUNNING_A,
                "motor_temp_c": float(cells[col["Temperature"]]),
                "water_temp_c": float(cells[col["Thermocouple"]]),
                "vibration1_g": float(cells[col["Accelerometer1RMS"]]),
                "vibration2_g": float(cells[col["Accelerometer2RMS"]]),
                "motor_voltage_v": float(cells[col["Voltage"]]),
            },
        )
        if metrics is not None:
            rows.append((at, metrics))
    group = path.parent.name
    episodes = (LabelledEpisode(fault[0], fault[1], group),) if fault is not None else ()
    relative = str(path.relative_to(folder))
    return ReplaySeries(
        "skab",
        "water",
        skab_asset(relative),
        relative,
        tuple(rows),
        episodes,
        first or 0.0,
        group,
    )


def _nab(folder: Path, part: str | None) -> list[ReplaySeries]:
    if part:
        part = part.removesuffix(".csv").rsplit("/", 1)[-1]
        if part not in _NAB:
            raise DatasetError(f"no NAB series {part!r}: use one of {', '.join(_NAB)}")
    chosen = [part] if part else list(_NAB)
    return [_nab_series(folder, name) for name in chosen]


def _nab_series(folder: Path, name: str) -> ReplaySeries:
    group, kind, asset, metric = _NAB[name]
    path = folder / "data" / group / f"{name}.csv"
    rows: list[tuple[float, dict[str, MetricValue]]] = []
    first: float | None = None
    last = -math.inf
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        stamp, _, raw = line.partition(",")
        if not raw:
            continue
        t = _naive_utc(stamp)
        if t <= last:
            continue  # a repeated or backward time (the US DST change of 2014-03-09 03:00)
        last = t
        first = t if first is None else first
        value = float(raw)
        if metric.endswith("temp_c"):
            value = (value - 32.0) * 5.0 / 9.0  # NAB temperatures are °F
        elif metric == "bitrate_kbps":
            value = value * 8.0 / NAB_PERIOD_S / 1000.0  # bytes per 5-min period -> kbit/s
        metrics = clip(kind, {metric: value})
        if metrics is not None:
            rows.append((t - first, metrics))
    windows = json.loads((folder / "labels" / "combined_windows.json").read_text("utf-8"))
    episodes = tuple(
        LabelledEpisode(_naive_utc(start) - (first or 0.0), _naive_utc(end) - (first or 0.0), name)
        for start, end in windows.get(f"{group}/{name}.csv", [])
    )
    return ReplaySeries(
        "nab", kind, asset, str(path.relative_to(folder)), tuple(rows), episodes, first or 0.0, name
    )


def _uci(folder: Path) -> ReplaySeries:
    path = folder / "household_power_consumption.txt"
    rows: list[tuple[float, dict[str, MetricValue]]] = []
    first: float | None = None
    energy = 0.0
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        cells = line.split(";")
        if len(cells) < 9 or "?" in cells:
            continue  # the truncated last line, and the metering gaps
        day, month, year = cells[0].split("/")
        t = _naive_utc(f"{year}-{int(month):02d}-{int(day):02d} {cells[1]}")
        first = t if first is None else first
        active, reactive = float(cells[2]), float(cells[3])
        energy += active / 60.0  # a minute-averaged kW over one minute
        apparent = math.hypot(active, reactive)
        metrics = clip(
            "power",
            {
                "voltage_v": float(cells[4]),
                "current_a": float(cells[5]),
                "power_kw": active,
                "power_factor": active / apparent if apparent > 0 else 1.0,
                "energy_kwh": energy,
                "mains_ok": True,
                "kitchen_wh": float(cells[6]),
                "laundry_wh": float(cells[7]),
                "water_heater_ac_wh": float(cells[8]),
            },
        )
        if metrics is not None:
            rows.append((t - first, metrics))
    return ReplaySeries("uci", "power", "board-1", path.name, tuple(rows), (), first or 0.0, "uci")


class Replay:
    """A telemetry source that plays dataset series on the clock it is stepped with."""

    def __init__(
        self,
        series: Sequence[ReplaySeries],
        *,
        site: str,
        speed: float = 1.0,
        start: datetime | None = None,
    ) -> None:
        if speed <= 0:
            raise DatasetError("replay speed must be positive")
        assets = [s.asset for s in series]
        if len(set(assets)) != len(assets):
            raise DatasetError(f"two series for one asset: {assets}")
        self.series = tuple(series)
        self.site = site
        self.speed = speed
        self._start = start.timestamp() if start is not None else None
        self._next = [0] * len(series)
        self._seq = [0] * len(series)
        self._announced = False

    @property
    def devices(self) -> tuple[DeviceId, ...]:
        return tuple(DeviceId(self.site, s.kind, s.asset) for s in self.series)

    @property
    def finished(self) -> bool:
        return all(n >= len(s.rows) for n, s in zip(self._next, self.series, strict=True))

    def timestamp(self, series: ReplaySeries, offset: float) -> float:
        """Epoch seconds a row carries: the series shifted to end when its replay ends."""
        assert self._start is not None
        return self._start + series.span / max(self.speed, 1.0) - series.span + offset

    def step(self, now: datetime) -> Tick:
        t = now.timestamp()
        if self._start is None:
            self._start = t
        played = (t - self._start) * self.speed
        readings: list[Telemetry] = []
        for index, series in enumerate(self.series):
            rows = series.rows
            n = self._next[index]
            while n < len(rows) and rows[n][0] <= played:
                offset, metrics = rows[n]
                self._seq[index] += 1
                ts_ms = round(self.timestamp(series, offset) * 1000)
                readings.append(
                    Telemetry(
                        self.site, series.kind, series.asset, ts_ms, self._seq[index], metrics
                    )
                )
                n += 1
            self._next[index] = n
        presence: Iterable[PresenceChange] = ()
        if not self._announced:
            self._announced = True
            presence = [PresenceChange(*device, True) for device in self.devices]
        return Tick(round(t * 1000), tuple(readings), tuple(presence))


def load_csv(
    path: str | Path,
    *,
    kind: str,
    asset: str,
    time_column: str | None = None,
    label_column: str | None = None,
) -> ReplaySeries:
    """Any CSV (``,`` or ``;``) as one asset's readings: every numeric column but the time and
    the label is a metric under its own name (a catalogue metric is clipped to its range);
    ``time_column`` (default: the first column) holds RFC 3339 / ISO times or epoch seconds
    (milliseconds when > 1e12); rows of ``label_column`` at 1 or true form labelled episodes."""
    file = Path(path)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"cannot read {file}: {error}") from None
    if len(lines) < 2:
        raise DatasetError(f"{file} has no rows under its header")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    header = [name.strip() for name in lines[0].split(delimiter)]
    time_at = header.index(time_column) if time_column in header else 0
    if time_column is not None and time_column not in header:
        raise DatasetError(f"no column {time_column!r} in {file} (columns: {', '.join(header)})")
    if label_column is not None and label_column not in header:
        raise DatasetError(f"no column {label_column!r} in {file} (columns: {', '.join(header)})")
    label_at = header.index(label_column) if label_column is not None else -1
    rows: list[tuple[float, dict[str, MetricValue]]] = []
    episodes: list[LabelledEpisode] = []
    fault: tuple[float, float] | None = None
    first: float | None = None
    last = -math.inf
    for number, line in enumerate(lines[1:], start=2):
        cells = [cell.strip() for cell in line.split(delimiter)]
        if len(cells) < len(header):
            continue
        t = _csv_time(cells[time_at], file, number)
        if t <= last:
            continue  # a repeated or backward time: a duplicate to the service too
        last = t
        first = t if first is None else first
        values: dict[str, float | bool] = {}
        for index, name in enumerate(header):
            if index in (time_at, label_at):
                continue
            try:
                values[name] = float(cells[index])
            except ValueError:
                continue  # text, or an empty cell: not a metric of this row
        metrics = clip(kind, values)
        if metrics:
            rows.append((t - first, metrics))
        if label_at >= 0:
            if cells[label_at].lower() in ("1", "1.0", "true", "yes"):
                fault = (fault[0] if fault else t - first, t - first)
            elif fault is not None:
                episodes.append(LabelledEpisode(fault[0], fault[1], label_column or ""))
                fault = None
    if fault is not None:
        episodes.append(LabelledEpisode(fault[0], fault[1], label_column or ""))
    if not rows:
        raise DatasetError(f"{file}: no row with a time and a number")
    return ReplaySeries(
        "csv", kind, asset, file.name, tuple(rows), tuple(episodes), first or 0.0, file.stem
    )


def _csv_time(text: str, file: Path, line: int) -> float:
    try:
        number = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise DatasetError(f"{file}:{line}: {text!r} is not a time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # a time without a zone is taken as UTC
        return moment.timestamp()
    return number / 1000 if number > 1e12 else number
