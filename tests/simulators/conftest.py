"""Fixtures of the simulator tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from facility_dispatch.simulators.replay import datasets_root


@pytest.fixture(scope="session")
def datasets() -> Path:
    """The public datasets (../shared/datasets, or FACILITY_DATASETS)."""
    root = datasets_root()
    if not (root / "skab").is_dir():
        pytest.skip(f"public datasets not found at {root} (set FACILITY_DATASETS)")
    return root
