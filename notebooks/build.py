"""Build the teaching notebooks from their percent-format sources, with jupytext and nbclient.

Each lesson is written as ``src/NN_name.py`` in Jupytext's "percent" format
(``# %%`` starts a code cell, ``# %% [markdown]`` a Markdown cell of ``# ``
comment lines) and paired with ``NN_name.ipynb`` by ``jupytext.toml`` (so
JupyterLab with jupytext keeps both in step). This script reads every source
with jupytext, runs it top to bottom with nbclient in a fresh kernel of the
Python running it (the project's venv), and stores the notebook with its
outputs, so it reads well on GitHub:

    python notebooks/build.py          # every source in notebooks/src/
    python notebooks/build.py 02 04    # the ones whose names start with 02 or 04

A rebuilt notebook is byte-for-byte the same when nothing changed: cells get
fixed ids, no timings are recorded, stream chunks are merged, memory addresses
are scrubbed, the Python version is left out of the metadata and the kernel
runs with ``PYTHONHASHSEED=0``. An unchanged file is not rewritten.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import jupytext
import nbformat
import zmq
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
SOURCE_FORMAT = "py:percent"  # as paired in jupytext.toml: ipynb,src//py:percent
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
KERNEL_NAME = "python3"
KERNEL_SPEC = {"name": KERNEL_NAME, "display_name": "Python 3 (ipykernel)", "language": "python"}


def sources() -> list[Path]:
    """Every lesson source, in name order: each ``notebooks/src/*.py`` is one notebook."""
    return sorted(SRC.glob("*.py"))


def source_of(notebook: Path) -> Path:
    """The source a notebook is paired with: ``NN_name.ipynb`` -> ``src/NN_name.py``."""
    return notebook.parent / "src" / f"{notebook.stem}.py"


def notebook_of(source: Path) -> Path:
    """The notebook a source builds: ``src/NN_name.py`` -> ``NN_name.ipynb``."""
    return source.parent.parent / f"{source.stem}.ipynb"


def read_source(source: Path) -> nbformat.NotebookNode:
    """The unexecuted notebook of a percent-format source, with fixed cell ids ``cell-00``, ..."""
    nb = jupytext.read(source, fmt=SOURCE_FORMAT)
    nb.metadata = {"kernelspec": dict(KERNEL_SPEC), "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"
        cell.metadata = {}
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
    """Run every cell of ``nb`` in place with nbclient, in a fresh kernel started in ``cwd``.

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


def strip_volatile(nb: nbformat.NotebookNode) -> None:
    """Drop what changes from run to run or machine to machine, not with the lesson.

    Memory addresses in plain-text fallbacks (``<Drawing at 0x7f...>``), the
    Python version the kernel reports, and any cell metadata.
    """
    nb.metadata["kernelspec"] = dict(KERNEL_SPEC)  # the kernel's own name may differ
    nb.metadata.get("language_info", {}).pop("version", None)
    for cell in nb.cells:
        cell.metadata = {}
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/plain" in data:
                data["text/plain"] = ADDRESS.sub("", data["text/plain"])


def build(source: Path) -> tuple[Path, bool]:
    """Run one source and store its notebook; return (the notebook's path, whether it changed)."""
    nb = read_source(source)
    execute(nb, cwd=HERE)
    strip_volatile(nb)
    nbformat.validate(nb)
    target = notebook_of(source)
    text = nbformat.writes(nb)
    text += "" if text.endswith("\n") else "\n"  # as nbformat.write ends a file
    changed = not target.exists() or target.read_text(encoding="utf-8") != text
    if changed:
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)  # atomically: never half a notebook
    return target, changed


def main(argv: Sequence[str] | None = None) -> int:
    """Build the notebooks whose names start with any of ``argv`` (all without arguments)."""
    prefixes = list(sys.argv[1:] if argv is None else argv)
    chosen = [s for s in sources() if not prefixes or any(s.stem.startswith(p) for p in prefixes)]
    if not chosen:
        print(f"no notebook source in {SRC} matches {prefixes}", file=sys.stderr)
        return 1
    for source in chosen:
        start = time.perf_counter()
        target, changed = build(source)
        status = "rebuilt" if changed else "unchanged"
        print(f"{target.relative_to(HERE.parent)}: {status}, {time.perf_counter() - start:.1f} s")
    orphans = sorted({p.stem for p in HERE.glob("*.ipynb")} - {s.stem for s in sources()})
    for stem in orphans:
        print(f"warning: notebooks/{stem}.ipynb has no source src/{stem}.py", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
