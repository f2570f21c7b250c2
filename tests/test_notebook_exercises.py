"""Notebook 6's exercises: blank, each answers NOT YET; with the reference answers, each is OK.

The reference answers live in ``tests/notebook_answers.py``, never in the
notebook. They are put in place of the blanks (``return None  # your answer``)
of the notebook's source, which then runs top to bottom as a script; every
exercise must answer OK. A wrong answer in their place must answer WRONG, so
the exercises can tell the difference.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import notebook_answers
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "notebooks" / "src" / "06_check_your_derivation.py"
NOTEBOOK = ROOT / "notebooks" / "06_check_your_derivation.ipynb"
VERDICT = re.compile(r"^Exercise (\d): (OK|WRONG|NOT YET|NOT CHECKED)", re.M)
EXERCISES = 5


def with_answers(source: str, answers: dict[str, str]) -> str:
    """The source with each blank ``def NAME(...): return None  # ...`` replaced."""
    for name, code in answers.items():
        blank = re.compile(rf"^def {name}\(.*\):\n    return None  # your answer.*$", re.M)
        source, count = blank.subn(lambda _, code=code: code.strip(), source)
        assert count == 1, f"no blank for {name} in {SOURCE.name}"
    return source


def run_script(source: str, tmp_path: Path) -> str:
    script = tmp_path / "exercises.py"
    script.write_text(source, encoding="utf-8")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def verdicts(output: str) -> list[tuple[str, str]]:
    return VERDICT.findall(output)


REFERENCE = {f.__name__: inspect.getsource(f) for f in notebook_answers.ANSWERS}


def test_blank_exercises_answer_not_yet(tmp_path):
    output = run_script(SOURCE.read_text(encoding="utf-8"), tmp_path)
    assert verdicts(output) == [(str(i), "NOT YET") for i in range(1, EXERCISES + 1)]


def test_reference_answers_are_all_ok(tmp_path):
    output = run_script(with_answers(SOURCE.read_text(encoding="utf-8"), REFERENCE), tmp_path)
    assert verdicts(output) == [(str(i), "OK") for i in range(1, EXERCISES + 1)], output


def test_wrong_answers_are_caught(tmp_path):
    """Each reference answer with a slip (a sign, or a factor 2) answers WRONG."""
    wrong = {}
    for name, code in REFERENCE.items():
        body = code.replace("def ", "def _right_", 1)
        wrong[name] = (
            f"{body}\n\ndef {name}(*xs):\n"
            f"    d = _right_{name}(*xs)\n"
            f"    return tuple(-v for v in d) if isinstance(d, tuple) else 2 * d\n"
        )
    output = run_script(with_answers(SOURCE.read_text(encoding="utf-8"), wrong), tmp_path)
    assert verdicts(output) == [(str(i), "WRONG") for i in range(1, EXERCISES + 1)], output
    exercises = output[output.index("Exercise 1:") :]
    assert exercises.count("off by a constant factor 2") == EXERCISES - 1
    assert "the claim for z0, z1, z2 is of opposite sign" in exercises


@pytest.mark.skipif(not NOTEBOOK.exists(), reason="notebook not built yet")
def test_stored_notebook_shows_not_yet_for_every_exercise():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    text = "".join(
        "".join(output.get("text", ""))
        for cell in cells
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
    )
    assert verdicts(text) == [(str(i), "NOT YET") for i in range(1, EXERCISES + 1)]
    sources = "".join("".join(cell["source"]) for cell in cells)
    for name in REFERENCE:  # the answers are not in the notebook
        assert REFERENCE[name].splitlines()[1].strip() not in sources
