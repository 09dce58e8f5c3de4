"""The rules file of SPEC section 2 as pydantic models: everything is checked before use."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictStr,
    Tag,
    field_validator,
    model_validator,
)

from facility_dispatch.kernel.durations import parse_duration

Op = Literal["<", "<=", ">", ">=", "==", "!="]
Severity = Literal["critical", "major", "minor", "warning"]
Priority = Literal["P1", "P2", "P3", "P4"]
Kind = Literal["elevator", "water", "power", "cctv"]
Aggregation = Literal["mean", "min", "max", "stddev", "count"]
Direction = Literal["up", "down", "both"]
SiteParameter = Literal["nominal_voltage_v", "nominal_frequency_hz"]
SITE_DEFAULTS: dict[str, float] = {"nominal_voltage_v": 220.0, "nominal_frequency_hz": 50.0}
"""What a site is taken to have until it says otherwise (SPEC section 2): China's 220 V, 50 Hz."""
SEVERITY_RANK = {"warning": 1, "minor": 2, "major": 3, "critical": 4}
RULE_ID = re.compile(r"[a-z0-9-]+")
FAULT = re.compile(r"[a-z][a-z0-9_]*")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any) -> timedelta:
    return parse_duration(value)


class SiteValue(_Strict):
    """A limit that follows the site: ``{site: nominal_voltage_v, times: 1.10}`` is 242 V at a
    220 V site and 253 V at a 230 V one."""

    site: SiteParameter
    times: float = Field(default=1.0, gt=0, allow_inf_nan=False)

    def at(self, params: Mapping[str, float]) -> float:
        return params.get(self.site, SITE_DEFAULTS[self.site]) * self.times


class Threshold(_Strict):
    metric: str
    op: Op
    value: StrictBool | Annotated[float, Field(strict=True)] | StrictStr | SiteValue


class Band(_Strict):
    metric: str
    outside: tuple[float, float]

    @field_validator("outside")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] >= value[1]:
            raise ValueError("outside: [low, high] needs low < high")
        return value


class RateLimit(_Strict):
    op: Op
    value: float


class Rate(_Strict):
    """The slope of a line fitted to the samples of the last ``over`` (least squares), not the
    two end points: one coarse step of a gauge is not a trend. ``min_change``: the fitted line
    must also move at least this much across the samples held, else the rate reads 0."""

    metric: str
    rate_per_min: RateLimit
    over: timedelta = Field(
        default=timedelta(minutes=1), description="span the slope is taken over"
    )
    min_change: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)

    @field_validator("over", mode="before")
    @classmethod
    def _over(cls, value: Any) -> timedelta:
        return _duration(value)


class Window(_Strict):
    metric: str
    window: timedelta
    agg: Aggregation
    op: Op
    value: float

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> timedelta:
        duration = _duration(value)
        if duration <= timedelta(0):
            raise ValueError("window must be longer than 0s")
        return duration


class DeviationSpec(_Strict):
    z: float = Field(gt=0, allow_inf_nan=False)
    window: timedelta = Field(default=timedelta(minutes=1))
    baseline: timedelta = Field(default=timedelta(minutes=30))
    direction: Direction = "both"
    min_change: float = Field(
        default=0.0,
        ge=0.0,
        allow_inf_nan=False,
        description="and the means differ by at least this much",
    )

    @field_validator("window", "baseline", mode="before")
    @classmethod
    def _span(cls, value: Any) -> timedelta:
        duration = _duration(value)
        if duration < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return duration

    @model_validator(mode="after")
    def _longer(self) -> DeviationSpec:
        if self.baseline < self.window:
            raise ValueError("baseline must be at least as long as window")
        return self


class Deviation(_Strict):
    """The mean over ``window`` lies more than ``z`` standard deviations from the mean the same
    asset showed over the preceding ``baseline`` (SPEC section 2)."""

    metric: str
    deviation: DeviationSpec


class Silent(_Strict):
    silent_for: timedelta

    @field_validator("silent_for", mode="before")
    @classmethod
    def _silent(cls, value: Any) -> timedelta:
        duration = _duration(value)
        if duration <= timedelta(0):
            raise ValueError("silent_for must be longer than 0s")
        return duration


class AllOf(_Strict):
    all: list[Condition] = Field(min_length=1)


class AnyOf(_Strict):
    any: list[Condition] = Field(min_length=1)


class Not(_Strict):
    not_: Condition = Field(alias="not")


def _form(value: Any) -> str:
    """Which condition form a mapping is, by its keys: so that an error names one form's field
    instead of listing why the mapping fits none of the nine."""
    if isinstance(value, BaseModel):
        return f"<{type(value).__name__.lower()}>"
    if not isinstance(value, dict):
        return "<threshold>"
    for key, form in (
        ("all", "<allof>"),
        ("any", "<anyof>"),
        ("not", "<not>"),
        ("silent_for", "<silent>"),
        ("outside", "<band>"),
        ("rate_per_min", "<rate>"),
        ("window", "<window>"),
        ("deviation", "<deviation>"),
    ):
        if key in value:
            return form
    return "<threshold>"


Condition = Annotated[
    Annotated[Threshold, Tag("<threshold>")]
    | Annotated[Band, Tag("<band>")]
    | Annotated[Rate, Tag("<rate>")]
    | Annotated[Window, Tag("<window>")]
    | Annotated[Deviation, Tag("<deviation>")]
    | Annotated[Silent, Tag("<silent>")]
    | Annotated[AllOf, Tag("<allof>")]
    | Annotated[AnyOf, Tag("<anyof>")]
    | Annotated[Not, Tag("<not>")],
    Discriminator(_form),
]


class WorkOrderSpec(_Strict):
    priority: Priority
    skill: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")


class RuleSpec(_Strict):
    id: str
    description: str = ""
    description_zh: str = Field(
        default="", description="the description in Chinese; the console falls back to description"
    )
    kind: Kind
    sites: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    condition: Condition
    for_: timedelta = Field(default=timedelta(0), alias="for")
    clear: Condition | None = None
    severity: Severity
    fault: str
    work_order: WorkOrderSpec | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not RULE_ID.fullmatch(value):
            raise ValueError("id must match [a-z0-9-]+")
        return value

    @field_validator("fault")
    @classmethod
    def _fault(cls, value: str) -> str:
        if not FAULT.fullmatch(value):
            raise ValueError("fault is one word: [a-z][a-z0-9_]*")
        return value

    @field_validator("for_", mode="before")
    @classmethod
    def _for(cls, value: Any) -> timedelta:
        return _duration(value)


class InhibitSource(_Strict):
    fault: str
    kinds: list[Kind] | None = None


class InhibitTargets(_Strict):
    kinds: list[Kind] = Field(min_length=1)
    faults: list[str] | None = None
    except_faults: list[str] = Field(default_factory=list)


class InhibitSpec(_Strict):
    source: InhibitSource
    targets: InhibitTargets
    scope: Literal["site", "asset"] = Field(
        default="site", description="the source mutes targets at its site, or on its asset only"
    )


class RulesFile(_Strict):
    rules: list[RuleSpec] = Field(min_length=1)
    inhibit: list[InhibitSpec] = Field(default_factory=list)


AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()
RuleSpec.model_rebuild()
