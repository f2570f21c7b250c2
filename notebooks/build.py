"""Build the teaching notebooks from their readable sources in ``notebooks/src/``.

Each source is a Python file in the "percent" format that Jupytext and VS Code
also read: a line ``# %%`` starts a code cell and ``# %% [markdown]`` a
Markdown cell, whose lines are comments (``# text``). The builder turns
``src/NN_name.py`` into ``NN_name.ipynb``, runs it top to bottom in a fresh
kernel of the Python running this script (the project's venv) and stores it
with its outputs, so it reads well on GitHub.

    python notebooks/build.py          # every notebook
    python notebooks/build.py 02 04    # the ones whose names start with 02 or 04

Outputs are kept reproducible: cells get fixed ids, no timings are recorded,
stream chunks are merged, memory addresses are scrubbed and the kernel runs
with ``PYTHONHASHSEED=0``.
``tests/test_notebooks.py`` uses :func:`parse_source` to check that each
stored notebook matches its source, and :func:`execute` to run it again.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import nbformat
import zmq
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
CELL_MARKER = "# %%"
MARKDOWN_MARKER = "# %% [markdown]"
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
KERNEL_NAME = "python3"
KERNEL_SPEC = {"name": KERNEL_NAME, "display_name": "Python 3 (ipykernel)", "language": "python"}

Cell = tuple[str, str]  # (cell type: "markdown" or "code", source)


def parse_source(text: str) -> list[Cell]:
    """The cells of a percent-format source, in order, without surrounding blank lines.

    Markdown lines lose their leading ``# `` (a bare ``#`` is an empty line).
    Raises ValueError for text before the first marker or a Markdown line
    that is not a comment.
    """
    cells: list[Cell] = []
    kind: str | None = None
    lines: list[str] = []

    def close() -> None:
        if kind is not None:
            cells.append((kind, "\n".join(lines).strip("\n")))

    for number, line in enumerate(text.splitlines(), start=1):
        if line.rstrip() == MARKDOWN_MARKER or line.rstrip() == CELL_MARKER:
            close()
            kind = "markdown" if line.rstrip() == MARKDOWN_MARKER else "code"
            lines = []
        elif kind is None:
            if line.strip():
                raise ValueError(f"line {number}: text before the first '# %%' marker: {line!r}")
        elif kind == "markdown":
            if line.strip() and not line.startswith("#"):
                raise ValueError(f"line {number}: a Markdown line must be a comment: {line!r}")
            lines.append(line[2:] if line.startswith("# ") else line[1:])
        else:
            lines.append(line)
    close()
    return cells


def source_of(notebook: Path) -> Path:
    """The source file a notebook is built from: ``NN_name.ipynb`` -> ``src/NN_name.py``."""
    return notebook.parent / "src" / f"{notebook.stem}.py"


def new_notebook(cells: Sequence[Cell]) -> nbformat.NotebookNode:
    """An unexecuted notebook of ``cells``, with fixed cell ids ``cell-00``, ``cell-01``, ..."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNEL_SPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, source) in enumerate(cells):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(make(source, id=f"cell-{i:02d}"))
    return nb


class _ThisPython(KernelSpecManager):
    """Kernel specs where ``python3`` always means the Python running this process.

    A user-wide ``python3`` kernel spec may point at another interpreter (one
    without autograd_lite); the notebooks must run in the project's venv.
    """

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=KERNEL_SPEC["display_name"],
            language="python",
            resource_dir=str(HERE),
            metadata={"supported_encryption": ["curve"]},  # ipykernel ≥ 7 speaks CurveZMQ
        )


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 120) -> nbformat.NotebookNode:
    """Run every cell of ``nb`` in place, in a fresh kernel started in ``cwd``.

    Raises ``nbclient.exceptions.CellExecutionError`` (showing the traceback)
    when a cell fails, and ``CellTimeoutError`` when one runs over ``timeout`` seconds.
    """
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("MPLBACKEND", None)  # let ipykernel choose the inline backend, so plots are kept
    manager = AsyncKernelManager(
        kernel_name=KERNEL_NAME,
        kernel_spec_manager=_ThisPython(),
        # Encrypt the kernel's local sockets when pyzmq can (it also silences ipykernel's warning).
        transport_encryption="auto" if zmq.has("curve") else "disabled",
    )
    client = NotebookClient(
        nb,
        km=manager,
        kernel_name=KERNEL_NAME,
        timeout=timeout,
        record_timing=False,
        coalesce_streams=True,  # one output per stream, however the kernel chunked it
        resources={"metadata": {"path": str(cwd)}},
    )
    # nbclient stops only kernels of managers it made itself; this one it must be told to stop.
    client.execute(env=env, cleanup_kc=True)
    return nb


def scrub(nb: nbformat.NotebookNode) -> None:
    """Drop memory addresses from outputs' plain-text fallbacks (``<Drawing at 0x7f...>``)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/plain" in data:
                data["text/plain"] = ADDRESS.sub("", data["text/plain"])


def build(source: Path) -> Path:
    """Make, run and store the notebook of one source file; return the notebook's path."""
    nb = new_notebook(parse_source(source.read_text(encoding="utf-8")))
    execute(nb, cwd=HERE)
    scrub(nb)
    nb.metadata["kernelspec"] = dict(KERNEL_SPEC)  # the kernel's own name may differ
    target = HERE / f"{source.stem}.ipynb"
    nbformat.validate(nb)
    nbformat.write(nb, target)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """Build the notebooks whose names start with any of ``argv`` (all without arguments)."""
    prefixes = list(sys.argv[1:] if argv is None else argv)
    sources = sorted(SRC.glob("[0-9]*.py"))
    chosen = [s for s in sources if not prefixes or any(s.stem.startswith(p) for p in prefixes)]
    if not chosen:
        print(f"no notebook source in {SRC} matches {prefixes}", file=sys.stderr)
        return 1
    for source in chosen:
        start = time.perf_counter()
        target = build(source)
        print(f"{target.relative_to(HERE.parent)}: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
