"""The README's Python examples run as written, and say what they claim.

Every ```python block of README.md is executed in order, in one namespace,
in a temporary directory (the examples write files). Graphviz's ``dot`` is
needed for the ``viz.save(..., "neuron.svg")`` line, so the test skips
cleanly where it is absent.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples() -> None:
    assert len(python_blocks()) >= 3


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    # The claims written in the comments of the examples.
    assert namespace["x"].grad == pytest.approx(11.389, abs=1e-3)  # type: ignore[attr-defined]
    assert namespace["d2t"].data == pytest.approx(-0.7269, abs=1e-4)  # type: ignore[attr-defined]
    assert namespace["accuracy"] == pytest.approx(1.0)
    assert not namespace["report"].ok and namespace["right"].ok  # type: ignore[attr-defined]
    assert str(namespace["right"]).startswith("OK: the claimed derivative for x matches")
    for name in ("moons.json", "neuron.svg", "boundary.png", "loss.png"):
        assert (tmp_path / name).stat().st_size > 0
