"""The wheel installs one top-level package, facility_dispatch, with its data (migrations,
rule pack, templates, static files, scenarios), beside django-rules, whose import name is
``rules``: both import, and each finds its own files."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from facility_dispatch.rules.loader import load_default
from tests.services import ROOT

pytestmark = pytest.mark.slow


def run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_the_wheel_installs_beside_django_rules(tmp_path: Path) -> None:
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", ROOT)
    (wheel,) = (tmp_path / "dist").glob("facility_dispatch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"facility_dispatch"}
    for needed in (
        "facility_dispatch/migrations/versions/0007_drop_scheduler_jobs.py",
        "facility_dispatch/migrations/script.py.mako",
        "facility_dispatch/rules/default_rules.yaml",
        "facility_dispatch/maintenance/playbooks.yaml",
        "facility_dispatch/api/templates/dashboard/base.html",
        "facility_dispatch/api/static/vendor/htmx/htmx.min.js",
        "facility_dispatch/api/dashboard/locales/zh.json",
        "facility_dispatch/simulators/scenarios/incident-tour.yaml",
        "facility_dispatch/py.typed",
    ):
        assert needed in names, needed

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "rules")  # django-rules: imported as `rules`
    run(python, "-m", "pip", "install", "-q", "--no-deps", wheel)
    # the dependencies come from this environment's site-packages (no second download)
    site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    )
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    out = run(
        python,
        "-c",
        "import rules, rules.predicates\n"
        "from importlib import resources\n"
        "import facility_dispatch.rules.loader as loader\n"
        "from facility_dispatch.schema import MIGRATIONS\n"
        "import facility_dispatch.api.app\n"
        "assert rules.predicates.always_true() is True\n"
        "print(rules.__file__)\n"
        "print(len(loader.load_default().rules))\n"
        "print(sorted(p.name for p in (MIGRATIONS / 'versions').glob('0*.py'))[-1])\n",
        cwd=tmp_path,
    )
    django_rules, count, newest = out.split()
    assert str(venv) in django_rules  # django-rules' own package, not ours
    assert int(count) == len(load_default().rules)  # the wheel's own rule pack
    assert newest == max(p.name for p in (ROOT / "facility/migrations/versions").glob("0*.py"))
