"""The asset read model: what an asset tile and an asset page show, from the registry, the
directory's latest readings and the open alarms."""

from __future__ import annotations

from typing import Any, Protocol

from facility_dispatch.ingest.assets import AssetDirectory
from facility_dispatch.ingest.sql import AssetRecord
from facility_dispatch.rules.alarms import AlarmService


class _HasAssets(Protocol):
    @property
    def alarms(self) -> AlarmService: ...
    @property
    def directory(self) -> AssetDirectory: ...


class AssetViews:
    @classmethod
    def of(cls, backend: _HasAssets) -> AssetViews:
        """The read model over a service's alarms and asset directory."""
        return cls(backend.alarms, backend.directory)

    def __init__(self, alarms: AlarmService, directory: AssetDirectory) -> None:
        self._alarms = alarms
        self._directory = directory

    def status(self, record: AssetRecord, alarming: bool = False) -> str:
        """ok, alarm, offline or maintenance: what the tile on the dashboard shows."""
        if self._alarms.under_works(record.site, record.asset):
            return "maintenance"
        if alarming:
            return "alarm"
        if record.online is False:
            return "offline"
        return "ok"

    def view(self, record: AssetRecord, alarming: bool | None = None) -> dict[str, Any]:
        if alarming is None:
            alarming = bool(
                self._alarms.query(site=record.site, asset=record.asset, state="firing", limit=1)[1]
            )
        latest = self._directory.latest(record.site, record.asset)
        return {
            "site": record.site,
            "asset": record.asset,
            "kind": record.kind,
            "status": self.status(record, alarming),
            "online": record.online,
            "last_seen": record.last_seen,
            "metrics": latest if latest is not None else record.metrics,
            "name": record.name,
            "building": record.building,
            "registered": record.registered,
            "maker": record.maker,
            "model": record.model,
            "install_date": record.install_date,
            "registration_code": record.registration_code,
            "floor": record.floor,
        }

    def views(self, records: list[AssetRecord]) -> list[dict[str, Any]]:
        firing = {
            key
            for key, alarms in self._alarms.open_states_by_asset().items()
            if any(a.state == "firing" and not a.silenced for a in alarms)
        }
        return [self.view(r, (r.site, r.asset) in firing) for r in records]

    def detail(self, record: AssetRecord) -> dict[str, Any]:
        view = self.view(record)
        open_alarms, _ = self._alarms.query(
            site=record.site, asset=record.asset, states=("pending", "firing")
        )
        view["alarms"] = [a.public() for a in open_alarms]
        return view
