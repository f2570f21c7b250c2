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

    python notebooks/build.py --trust  # sign the lessons as trusted (what `make lab` does)

A rebuilt notebook is byte-for-byte the same when nothing changed: cells get
fixed ids, no timings are recorded, stream chunks are merged, memory addresses
are scrubbed, the Python version is left out of the metadata and the kernel
runs with ``PYTHONHASHSEED=0``. An unchanged file is not rewritten.

**The stored form is a fixed point of JupyterLab + jupytext.** Opened in
JupyterLab, a paired notebook's inputs are read from its source with the
project's ``jupytext.toml`` (which gives cells jupytext's ``lines_to_next_cell``
metadata where the source has two blank lines, and the notebook a ``jupytext``
block naming the metadata filters), and its kernel fills in
``language_info`` with the Python version. So the notebook is stored the way
jupytext reads it, with ``language_info`` as the kernel reports it minus the
version; and :func:`pre_save_hook` (which ``make lab`` installs through
``notebooks/jupyter_lab_config.py``) turns what JupyterLab saves back into
that form: looking at a lesson, or running it top to bottom, leaves the file
as it was.
"""

from __future__ import annotations

import copy
import os
import re
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from jupytext.config import JupytextConfiguration, load_jupytext_config

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
SOURCE_FORMAT = "py:percent"  # as paired in jupytext.toml: ipynb,src//py:percent
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
KERNEL_NAME = "python3"
KERNEL_SPEC = {"name": KERNEL_NAME, "display_name": "Python 3 (ipykernel)", "language": "python"}
MAX_JOBS = 4  # lessons built at once
# The only cell metadata a lesson keeps: what jupytext reads from the source's blank lines.
JUPYTEXT_CELL_KEYS = ("lines_to_next_cell",)


def sources() -> list[Path]:
    """Every lesson source, in name order: each ``notebooks/src/*.py`` is one notebook."""
    return sorted(SRC.glob("*.py"))


def source_of(notebook: Path) -> Path:
    """The source a notebook is paired with: ``NN_name.ipynb`` -> ``src/NN_name.py``."""
    return notebook.parent / "src" / f"{notebook.stem}.py"


def notebook_of(source: Path) -> Path:
    """The notebook a source builds: ``src/NN_name.py`` -> ``NN_name.ipynb``."""
    return source.parent.parent / f"{source.stem}.ipynb"


def config() -> JupytextConfiguration:
    """The project's jupytext configuration, ``notebooks/jupytext.toml``, as JupyterLab reads it."""
    found = load_jupytext_config(str(HERE / "lesson.ipynb"))
    if found is None:
        raise FileNotFoundError(f"{HERE / 'jupytext.toml'} is missing")
    return found


def read_source(source: Path) -> nbformat.NotebookNode:
    """The unexecuted notebook of a percent-format source, as jupytext reads it in JupyterLab.

    Cells get the fixed ids ``cell-00``, ``cell-01``, ... and keep only the
    metadata jupytext reads from the source (``lines_to_next_cell``); the
    notebook keeps jupytext's ``jupytext`` block (the metadata filters), as
    jupytext saves it into a paired ``.ipynb``.
    """
    nb = jupytext.read(source, fmt=SOURCE_FORMAT, config=config())
    read = nb.metadata.get("jupytext", {})
    # jupytext drops these two when it saves the .ipynb of a Python notebook
    kept = {k: v for k, v in read.items() if k not in ("text_representation", "main_language")}
    nb.metadata = {"kernelspec": dict(KERNEL_SPEC), "language_info": {"name": "python"}}
    if kept:
        nb.metadata["jupytext"] = kept
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"
    strip_volatile(nb)
    return nb


def canonical_source(source: Path) -> str:
    """The source as jupytext writes it back (what JupyterLab saves when the lesson is saved)."""
    nb = jupytext.read(source, fmt=SOURCE_FORMAT, config=config())
    return jupytext.writes(nb, fmt=SOURCE_FORMAT, config=config())


def _this_python_kernel_specs() -> Any:
    """Kernel specs where ``python3`` always means the Python running this process.

    A user-wide ``python3`` kernel spec may point at another interpreter (one
    without autograd_lite); the notebooks must run in the project's venv.
    """
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name=KERNEL_SPEC["display_name"],
                language="python",
                resource_dir=str(HERE),
                metadata={"supported_encryption": ["curve"]},  # ipykernel ≥ 7 speaks CurveZMQ
            )

    return ThisPython()


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 120) -> nbformat.NotebookNode:
    """Run every cell of ``nb`` in place with nbclient, in a fresh kernel started in ``cwd``.

    Raises ``nbclient.exceptions.CellExecutionError`` (showing the traceback)
    when a cell fails, and ``CellTimeoutError`` when one runs over ``timeout`` seconds.
    """
    import zmq
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("MPLBACKEND", None)  # let ipykernel choose the inline backend, so plots are kept
    manager = AsyncKernelManager(
        kernel_name=KERNEL_NAME,
        kernel_spec_manager=_this_python_kernel_specs(),
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


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def strip_volatile(nb: nbformat.NotebookNode, keep: Sequence[str] = JUPYTEXT_CELL_KEYS) -> None:
    """Drop what changes from run to run or machine to machine, not with the lesson.

    Memory addresses in plain-text fallbacks (``<Drawing at 0x7f...>``), the
    Python version the kernel reports, any cell metadata but jupytext's
    and those in ``keep`` (JupyterLab adds ``scrolled``, ``collapsed``,
    ``execution`` timings, ...), and widgets: their state (random model ids)
    and their views, which without that state show nothing; a widget's output
    keeps its HTML fallback (``viz.live`` gives one), which a reader sees.
    """
    nb.metadata["kernelspec"] = dict(KERNEL_SPEC)  # the kernel's own name may differ
    nb.metadata.get("language_info", {}).pop("version", None)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata = {k: cell.metadata[k] for k in keep if k in cell.metadata}
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            data.pop(WIDGET_VIEW, None)
            if "text/plain" in data:
                data["text/plain"] = ADDRESS.sub("", data["text/plain"])


def stored_text(nb: nbformat.NotebookNode) -> str:
    """The file's text, as nbformat (and so Jupyter's server) writes it."""
    text = nbformat.writes(nb)
    return text + ("" if text.endswith("\n") else "\n")


def _write_if_changed(target: Path, text: str) -> bool:
    """Write ``text`` to ``target`` atomically unless it already holds it; whether it wrote."""
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return False
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)  # atomically: never half a file
    return True


def build(source: Path) -> tuple[Path, bool]:
    """Run one source and store its notebook; return (the notebook's path, whether it changed).

    A source that jupytext would write differently (so that saving the lesson
    in JupyterLab would rewrite it) is first rewritten in jupytext's form.
    """
    if _write_if_changed(source, canonical_source(source)):
        print(f"notebooks/src/{source.name}: rewritten as jupytext writes it", file=sys.stderr)
    nb = read_source(source)
    execute(nb, cwd=HERE)
    strip_volatile(nb)
    nbformat.validate(nb)
    target = notebook_of(source)
    return target, _write_if_changed(target, stored_text(nb))


def is_lesson(path: Path) -> bool:
    """Whether ``path`` is one of the lessons: ``notebooks/NN_name.ipynb`` with a source."""
    path = path.resolve()
    return path.suffix == ".ipynb" and path.parent == HERE and source_of(path).exists()


def pre_save_hook(model: dict[str, Any], path: str, contents_manager: Any, **_: Any) -> None:
    """Jupyter's pre-save hook: a lesson is saved in its stored form (see the module docstring).

    Leaves the cells, their sources and outputs as JupyterLab sends them; drops
    what :func:`strip_volatile` drops. ``model["content"]`` is replaced by a
    copy, since jupytext writes the paired source from the same cells after
    this (with their ``lines_to_next_cell``).
    """
    if model.get("type") != "notebook" or not model.get("content"):
        return
    if not is_lesson(Path(contents_manager.root_dir) / path):
        return
    nb = nbformat.from_dict(copy.deepcopy(model["content"]))
    # "trusted" is the server's own transient flag: it re-signs a trusted notebook by it,
    # then strips it from the file.
    strip_volatile(nb, keep=(*JUPYTEXT_CELL_KEYS, "trusted"))
    model["content"] = nb


def trust(notebooks: Sequence[Path]) -> None:
    """Sign ``notebooks`` as trusted in this user's Jupyter notary (as ``jupyter trust`` does).

    A trusted notebook's stored HTML and SVG outputs are shown as they are
    (the players run), where JupyterLab would otherwise sanitise them.
    """
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary()
    for path in notebooks:
        notary.sign(nbformat.read(path, as_version=4))


def _timed_build(source: Path) -> tuple[Path, bool, float]:
    start = time.perf_counter()
    target, changed = build(source)
    return target, changed, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    """Build the notebooks whose names start with any of ``argv`` (all without arguments).

    ``--trust`` signs the lessons' notebooks as trusted instead. Lessons run
    side by side, one process and kernel each (at most ``MAX_JOBS``, one per
    core). A lesson that fails is reported (its notebook is left as it was)
    and the others are still built; the exit status is then 1.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--trust"]:
        lessons = [notebook_of(s) for s in sources() if notebook_of(s).exists()]
        trust(lessons)
        print(f"trusted the {len(lessons)} lessons in notebooks/ (their pictures and players show)")
        return 0
    prefixes = [a for a in args if not a.startswith("-")]
    if len(prefixes) != len(args):
        print("usage: build.py [--trust | NN ...]", file=sys.stderr)
        return 2
    chosen = [s for s in sources() if not prefixes or any(s.stem.startswith(p) for p in prefixes)]
    if not chosen:
        print(f"no notebook source in {SRC} matches {prefixes}", file=sys.stderr)
        return 1
    failed = []
    jobs = min(len(chosen), os.cpu_count() or 1, MAX_JOBS)
    with ProcessPoolExecutor(jobs) as pool:  # one kernel per lesson, `jobs` at a time
        started = {pool.submit(_timed_build, source): source for source in chosen}
        for done in as_completed(started):
            source = started[done]
            try:
                target, changed, seconds = done.result()
            except Exception as error:  # a cell raised or timed out: say which lesson, go on
                failed.append(source.stem)
                print(f"notebooks/src/{source.name}: FAILED\n{error}", file=sys.stderr)
                continue
            status = "rebuilt" if changed else "unchanged"
            print(f"{target.relative_to(HERE.parent)}: {status}, {seconds:.1f} s", flush=True)
    orphans = sorted({p.stem for p in HERE.glob("*.ipynb")} - {s.stem for s in sources()})
    for stem in orphans:
        print(f"warning: notebooks/{stem}.ipynb has no source src/{stem}.py", file=sys.stderr)
    if failed:
        print(f"{len(failed)} lesson(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
