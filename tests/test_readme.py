"""The README and docs/*.md: every Python example runs on its own and prints what it states.

The convention, for README.md and every ``docs/*.md``:

- Each ```` ```python ```` block is a whole program. It runs on its own in a
  fresh interpreter (this venv's Python), with a new empty temporary
  directory as its working directory (files it writes land there).
- When the next fenced block after it (only blank lines between) is a
  ```` ```text ```` block, that is the output the example states: the
  program's stdout must equal it line for line, where a line holding only
  ``...`` stands for any number of lines (none included). Otherwise the
  program only has to exit with status 0.
- A block that draws (uses ``viz``) needs Graphviz's ``dot`` and skips where
  it is absent.

And the README stays a front door: at most 250 lines, linking each of
docs/reference.md, docs/performance.md and docs/robustness.md once.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


def examples(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, program, stated output or None) for each python block of ``path``."""
    text = path.read_text(encoding="utf-8")
    fences = list(FENCE.finditer(text))
    found = []
    for block, after in zip(fences, [*fences[1:], None]):
        if block.group(1) != "python":
            continue
        stated = None
        if after is not None and after.group(1) == "text":
            if not text[block.end() : after.start()].strip():
                stated = after.group(2)
        found.append((text[: block.start()].count("\n") + 1, block.group(2), stated))
    return found


EXAMPLES = [
    pytest.param(program, stated, id=f"{path.relative_to(ROOT)}:{line}")
    for path in DOCUMENTS
    for line, program, stated in examples(path)
]


def matches(stated: str, printed: str) -> bool:
    """Whether ``printed`` is ``stated``, where a line ``...`` matches any run of lines."""
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if line.strip() == "..." else re.escape(line) + r"\n"
        for line in stated.splitlines()
    )
    return re.fullmatch(pattern, printed.rstrip("\n") + "\n") is not None


def test_matches_reads_the_convention() -> None:
    assert matches("a\nb\n", "a\nb\n")
    assert matches("a\n...\nd\n", "a\nb\nc\nd\n")
    assert matches("a\n...\nd\n", "a\nd\n")
    assert not matches("a\nb\n", "a\nc\n")
    assert not matches("a\n...\nd\n", "a\nb\nc\n")


def test_the_readme_has_examples_with_stated_output() -> None:
    stated = [e for e in examples(README) if e[2] is not None]
    assert len(stated) >= 3


@pytest.mark.parametrize(("program", "stated"), EXAMPLES)
def test_example_runs_on_its_own_and_prints_what_it_states(
    program: str, stated: str | None, tmp_path: Path
) -> None:
    if "viz" in program and shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    (tmp_path / "example.py").write_text(program, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(MPLBACKEND="Agg", PYTHONIOENCODING="utf-8")
    done = subprocess.run(
        [sys.executable, "example.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    if stated is not None:
        assert matches(stated, done.stdout), (
            f"the example states:\n{stated}\nbut prints:\n{done.stdout}"
        )


def test_readme_is_a_front_door() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    for doc in ("reference", "performance", "robustness"):
        links = re.findall(rf"\]\(docs/{doc}\.md(?:#[^)]*)?\)", text)
        assert len(links) == 1, f"README links docs/{doc}.md {len(links)} times"
