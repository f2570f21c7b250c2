"""``make lab``, dry run: the JupyterLab command it would run, and the URL it prints.

``LAB_DRY_RUN=1 make lab`` prints the install step, the step that signs the
lessons as trusted, the ``jupyter lab`` command (with its login token in
``JUPYTER_TOKEN``) and the URL, and installs or starts nothing.
``tests/test_lab.py`` runs that command for real.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*variables: str, display: str | None = None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("MAKEFLAGS", None)
    if display is not None:
        env["DISPLAY"] = display
    env["LAB_DRY_RUN"] = "1"
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "lab", *variables],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_lab_dry_run_prints_install_command_and_url() -> None:
    installed = (ROOT / ".venv" / ".installed-lab").exists()
    install, trust, command, url = dry_run()
    assert install == "make -s .venv/.installed-lab"
    assert trust == ".venv/bin/python notebooks/build.py --trust"  # stored pictures show
    token = re.fullmatch(r"JUPYTER_TOKEN=([0-9a-f]{32}) (.*)", command)
    assert token, command
    argv = token.group(2).split()
    assert argv[:2] == [".venv/bin/jupyter", "lab"]
    assert "--ServerApp.root_dir=." in argv  # the repository: links to docs/ resolve
    assert "--LabApp.default_url=/lab/tree/notebooks" in argv  # opens the lessons
    assert "--config=notebooks/jupyter_lab_config.py" in argv  # saves in the stored form
    assert "--ServerApp.port=8888" in argv
    assert "--ServerApp.port_retries=0" in argv  # the printed URL is the one it serves
    if sys.platform != "darwin":  # macOS opens its browser without an X display
        assert "--no-browser" in argv  # no display here: a server
    assert ("--allow-root" in argv) == (os.geteuid() == 0)  # jupyter refuses root without it
    assert url == f"JupyterLab: http://localhost:8888/lab/tree/notebooks?token={token.group(1)}"
    assert (ROOT / ".venv" / ".installed-lab").exists() == installed  # nothing installed


def test_lab_dry_run_takes_port_token_and_arguments() -> None:
    _, _, command, url = dry_run("LAB_PORT=9999", "LAB_TOKEN=abc", "LAB_ARGS=--ip=0.0.0.0")
    assert command.startswith("JUPYTER_TOKEN=abc .venv/bin/jupyter lab ")
    assert command.split()[-1] == "--ip=0.0.0.0"
    assert "--ServerApp.port=9999" in command.split()
    assert url == "JupyterLab: http://localhost:9999/lab/tree/notebooks?token=abc"


def test_lab_opens_a_browser_where_there_is_a_display() -> None:
    _, _, command, _ = dry_run(display=":0")
    assert "--no-browser" not in command.split()


def test_each_dry_run_makes_a_new_token() -> None:
    assert dry_run()[2].split()[0] != dry_run()[2].split()[0]


# ---- what `make test` installs from the system, and says so first ---------------------------


def fake_system(tmp_path: Path, *, uid: int, tools: tuple[str, ...] = ()) -> dict[str, str]:
    """An environment whose PATH holds only a fake ``id`` (printing ``uid``), a fake
    ``apt-get`` that logs its arguments, and fake ``tools``: make's recipes see a machine
    without Graphviz or Chromium, and nothing is installed for real."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "log"
    scripts = {"id": f"echo {uid}", "apt-get": 'echo "apt-get $*" >> "$LOG"'}
    scripts.update({tool: "exit 0" for tool in tools})
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    return {"PATH": str(bin_dir), "LOG": str(log), "HOME": str(tmp_path)}


def make_log(tmp_path: Path, target: str, env: dict[str, str]) -> list[str]:
    """Run ``make target``; its output and the fake apt-get's calls, in the order they came."""
    log = tmp_path / "log"
    with open(log, "a") as out:
        result = subprocess.run(
            [shutil.which("make"), "-s", "--no-print-directory", target],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines()


def test_make_test_as_root_says_once_what_it_installs_and_why_before_apt_get(tmp_path) -> None:
    lines = make_log(tmp_path, "tools", fake_system(tmp_path, uid=0))
    assert lines == [
        "Installing Debian packages with apt-get (as root): graphviz chromium chromium-driver "
        "(graphviz: Graphviz's dot draws the computation graphs; chromium chromium-driver: "
        "the player's tests run in a real headless browser)",
        "apt-get update -qq",
        "apt-get install -y -qq graphviz chromium chromium-driver",
    ]


def test_only_what_is_missing_is_installed_and_nothing_when_all_is_there(tmp_path) -> None:
    env = fake_system(tmp_path, uid=0, tools=("chromium", "chromedriver"))
    lines = make_log(tmp_path, "tools", env)
    assert lines[0].endswith(": graphviz (graphviz: Graphviz's dot draws the computation graphs)")
    assert lines[1:] == ["apt-get update -qq", "apt-get install -y -qq graphviz"]
    (tmp_path / "log").unlink()
    (tmp_path / "bin" / "dot").write_text("#!/bin/sh\nexit 0\n")
    (tmp_path / "bin" / "dot").chmod(0o755)
    assert make_log(tmp_path, "tools", env) == []


def test_not_root_prints_the_command_and_installs_nothing(tmp_path) -> None:
    lines = make_log(tmp_path, "tools", fake_system(tmp_path, uid=1000))
    assert lines[0].startswith("Missing: graphviz chromium chromium-driver (graphviz: ")
    assert "  sudo apt-get install graphviz chromium chromium-driver   (Debian/Ubuntu)" in lines
    assert not any(line.startswith("apt-get") for line in lines)


def test_make_test_checks_the_system_once() -> None:
    """`test` depends on `tools` (dot and browser together), not on dot and browser apart."""
    makefile = (ROOT / "Makefile").read_text()
    rule = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert "tools" in rule.split() and "dot" not in rule.split() and "browser" not in rule.split()
