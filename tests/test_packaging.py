"""A plain ``pip install`` (not editable) carries everything the kiosk needs.

The wheel is built from this checkout and installed into a folder of its own;
a kiosk started from there, in a folder far from the checkout, must load its
content and grammar and serve the kiosk page with its static files.  The
wheel is also checked to hold the package data, and the build to print no
setuptools warning about it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from bench.kiosk_process import KioskProcess

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    warnings = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if "warning" in line.lower() and "byte-compiling is disabled" not in line  # PYTHONDONTWRITEBYTECODE
    ]
    assert warnings == [], "\n".join(warnings)
    wheels = list(out.glob("voice_triage-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_the_wheel_holds_the_content_and_the_page(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "voice_triage/data/facts.yaml",
        "voice_triage/data/models.yaml",
        "voice_triage/data/prompts/en/flow.yaml",
        "voice_triage/data/prompts/ko/kiosk.yaml",
        "voice_triage/data/grammar/ko/numbers.yaml",
        "voice_triage/kiosk/static/kiosk.js",
        "voice_triage/kiosk/static/staff.css",
        "voice_triage/core/dialogue.py",
        "voice_triage/speech/asr.py",
    ):
        assert needed in names, needed


def test_an_installed_kiosk_serves_its_page(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [sys.executable, "-c", "import voice_triage.core.paths as p; print(p.PACKAGE)"],
        cwd=elsewhere,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(target), where.stdout  # not the checkout
    with KioskProcess.start(tmp_path / "kiosk", cwd=elsewhere, extra_env={"PYTHONPATH": str(target)}) as kiosk:
        with urllib.request.urlopen(kiosk.url + "/", timeout=10) as page:
            html = page.read().decode()
        assert page.status == 200 and "/static/kiosk.js" in html
        for name in ("kiosk.js", "kiosk.css"):
            with urllib.request.urlopen(f"{kiosk.url}/static/{name}", timeout=10) as response:
                assert response.status == 200 and len(response.read()) > 100


def test_the_editable_install_that_dev_makes_prints_no_setuptools_warning(tmp_path: Path) -> None:
    """``./dev`` installs with ``pip install -e``: on a clean clone that build must say nothing either."""
    clone = tmp_path / "clone"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            (clone / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name.decode())
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--no-deps",
            "-v",
            "-e",
            str(clone),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    # setuptools says "Editable installation." (a notice about import precedence) on every editable
    # build; anything else (a package absent from the configuration, data as a package) is ours to fix
    warnings = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if ("warning" in line.lower() or "absent from the" in line or "deprecat" in line.lower())
        and "Editable installation." not in line
        and "byte-compiling is disabled" not in line
    ]
    assert warnings == [], "\n".join(warnings)
