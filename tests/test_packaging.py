"""The project installs and imports like any package.

- ``autograd-lite --version`` prints the installed distribution's version;
- the engine imports in a bare Python (no numpy, graphviz, matplotlib, tqdm);
- the wheel-facing files exist: LICENSE, one ``py.typed`` per top-level package;
- ``import nn`` and ``import viz`` leave the heavy libraries unimported until a
  function needs them (their import time is measured in benchmarks/bench_import.py).
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import autograd_lite
from autograd_lite.cli import main, version

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("autograd_lite", "nn", "viz")
HEAVY = ("numpy", "graphviz", "matplotlib", "tqdm")


def test_version_flag_prints_the_metadata_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    installed = importlib.metadata.version("autograd-lite")
    assert capsys.readouterr().out == f"autograd-lite {installed}\n"


def test_metadata_version_is_the_package_version() -> None:
    assert version() == autograd_lite.__version__, (
        "the installed metadata is stale: reinstall with `make .venv/.installed-dev`"
    )


def test_version_falls_back_to_the_package_without_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert version() == autograd_lite.__version__


def test_license_and_typed_markers_ship() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python ≥ 3.11
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert "LICENSE" in meta["project"]["license-files"]
    package_data = meta["tool"]["setuptools"]["package-data"]
    for package in PACKAGES:
        assert (ROOT / package / "py.typed").is_file()
        assert "py.typed" in package_data[package]
    assert set(PACKAGES) <= set(meta["tool"]["setuptools"]["packages"])


def _bare_python(tmp_path: Path) -> Path:
    """A new venv with no packages at all (not even pip): only the standard library."""
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(tmp_path / "bare")
    bindir = "Scripts" if os.name == "nt" else "bin"
    return tmp_path / "bare" / bindir / ("python.exe" if os.name == "nt" else "python")


def _run(python: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(ROOT)  # the source tree, as an uninstalled checkout
    return subprocess.run(
        [str(python), "-c", code, *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_engine_imports_in_a_bare_venv(tmp_path: Path) -> None:
    python = _bare_python(tmp_path)
    code = f"""
import importlib.util, sys
heavy = {HEAVY!r}
missing = [m for m in heavy if importlib.util.find_spec(m) is None]
assert missing == list(heavy), f"the venv is not bare: it has {{set(heavy) - set(missing)}}"
import autograd_lite
from autograd_lite import Value, grad
x = Value(3.0)
(dx,) = grad(x * x + x.tanh(), [x])
print(round(dx.data, 6))
import autograd_lite.cli
print(autograd_lite.cli.version())
print(sorted(m for m in heavy if m in sys.modules))
"""
    result = _run(python, code)
    assert result.returncode == 0, result.stderr
    d, v, imported = result.stdout.splitlines()
    assert float(d) == pytest.approx(6.0 + (1 - 0.9950547536867305**2), abs=1e-6)
    assert v == autograd_lite.__version__  # no metadata there: the package's own version
    assert imported == "[]"


def test_cli_version_runs_in_a_bare_venv(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(_bare_python(tmp_path)), "-m", "autograd_lite", "--version"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "")},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"autograd-lite {autograd_lite.__version__}\n"


@pytest.mark.parametrize("package", ["nn", "viz"])
def test_import_leaves_heavy_libraries_for_later(package: str) -> None:
    code = f"import sys, {package}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    allowed = {"viz": ["graphviz"], "nn": []}[package]  # viz draws with graphviz: its core
    assert result.stdout.strip() == repr(allowed)


@pytest.mark.slow
def test_wheel_ships_three_packages_license_and_markers(tmp_path: Path) -> None:
    """What ``pip install .`` installs: built here as a wheel, read as a zip."""
    import zipfile

    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("autograd_lite-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    top_level = zipfile.ZipFile(wheel).read(f"{info}/top_level.txt").decode().split()
    assert sorted(top_level) == sorted(PACKAGES)
    for package in PACKAGES:
        assert f"{package}/py.typed" in names
    assert f"{info}/licenses/LICENSE" in names
    metadata = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    assert f"\nVersion: {autograd_lite.__version__}\n" in metadata
    assert "\nLicense-Expression: MIT\n" in metadata
    assert "autograd_lite/cli/__init__.py" in names
    for page in ("viz/playground/app.py", "viz/playground.js", "viz/playground.css"):
        assert page in names  # the playground's server and the files its page loads


def test_lazy_names_load_on_first_use() -> None:
    code = """
import sys
import nn, viz
assert "numpy" not in sys.modules and "matplotlib" not in sys.modules
assert {"data", "derivations"} <= set(dir(nn)) and "plot_loss" in dir(viz)
X, y = nn.data.make_moons(10, seed=0)
from nn import derivations
from nn.derivations import run_all
assert derivations.run_all is run_all and nn.derivations is derivations
assert viz.plot_loss is viz.plots.plot_loss
assert viz.plot_decision_boundary is sys.modules["viz.plots"].plot_decision_boundary
for module, name in ((nn, "nope"), (viz, "nope")):
    try:
        getattr(module, name)
    except AttributeError as e:
        assert f"has no attribute {name!r}" in str(e)
    else:
        raise AssertionError(name)
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"
