"""The teaching notebooks: each matches its source, is stored executed, and runs top to bottom.

Every ``notebooks/NN_name.ipynb`` is paired (``notebooks/jupytext.toml``) with
its percent-format source ``notebooks/src/NN_name.py`` and built from it by
``notebooks/build.py`` (jupytext reads the source, nbclient runs it: ``make
notebooks``). These tests fail when a source has no notebook or the other way
round, a notebook is stale (its cells differ from its source, as jupytext
reads it), was stored without outputs or with volatile metadata, or raises
when run again: each notebook asserts its own claims (closed form vs
engine), so a wrong engine fails here. Runs use a fresh kernel per notebook,
in a temporary directory, on an in-memory copy: the stored file is never
rewritten.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds; each whole notebook takes well under 20


def _load_builder():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOK_DIR / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = _load_builder()
SOURCES = build.sources()


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def test_every_source_has_its_notebook_and_back() -> None:
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOK_DIR}"
    assert [p.stem for p in NOTEBOOKS] == [s.stem for s in SOURCES], (
        "notebooks/*.ipynb and notebooks/src/*.py must pair up; run `make notebooks`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_matches_its_source(path: Path) -> None:
    expected = [(c.cell_type, c.source) for c in build.read_source(build.source_of(path)).cells]
    stored = [(cell.cell_type, cell.source) for cell in _read(path).cells]
    for i, (want, have) in enumerate(zip(expected, stored)):
        assert want == have, (
            f"{path.name}: cell {i} differs from {build.source_of(path).name}; "
            "run `make notebooks` to rebuild it"
        )
    assert len(expected) == len(stored), f"{path.name}: stale; run `make notebooks`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_jupytext_pairs_notebook_with_its_source(path: Path) -> None:
    """What jupytext (and JupyterLab with it) pairs: the source build.py reads, as percent."""
    from jupytext.config import load_jupytext_config
    from jupytext.paired_paths import paired_paths

    config = load_jupytext_config(str(path))
    assert config is not None, "notebooks/jupytext.toml is missing"
    paired = dict(paired_paths(str(path), "ipynb", config.default_formats(str(path))))
    source = str(build.source_of(path))
    assert source in paired, f"jupytext pairs {path.name} with {sorted(paired)}"
    assert paired[source]["format_name"] == "percent"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_no_volatile_metadata(path: Path) -> None:
    """Stored as jupytext reads its source in JupyterLab, without what changes per machine."""
    nb = _read(path)
    assert "version" not in nb.metadata.get("language_info", {}), f"{path.name}: Python version"
    assert nb.metadata["kernelspec"] == build.KERNEL_SPEC
    assert sorted(nb.metadata) == ["jupytext", "kernelspec", "language_info"]
    assert [cell.id for cell in nb.cells] == [f"cell-{i:02d}" for i in range(len(nb.cells))]
    source = build.read_source(build.source_of(path))
    assert nb.metadata["jupytext"] == source.metadata["jupytext"]
    for cell, read in zip(nb.cells, source.cells):
        assert cell.metadata == read.metadata, f"{path.name}: cell {cell.id} {cell.metadata}"
        for output in cell.get("outputs", []):
            assert " at 0x" not in output.get("data", {}).get("text/plain", "")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_form_is_a_fixed_point_of_saving(path: Path) -> None:
    """What JupyterLab saves goes through build.pre_save_hook: the stored file comes back."""
    stored = path.read_text(encoding="utf-8")
    nb = nbformat.reads(stored, as_version=4)
    nb.metadata["language_info"]["version"] = "3.99.0"  # what the kernel reports
    for cell in nb.cells:
        cell.metadata["scrolled"] = True  # what JupyterLab adds
    model = {"type": "notebook", "content": nb}

    class Manager:
        root_dir = str(ROOT)

    build.pre_save_hook(model=model, path=f"notebooks/{path.name}", contents_manager=Manager())
    assert build.stored_text(model["content"]) == stored
    source = build.source_of(path)
    assert build.canonical_source(source) == source.read_text(encoding="utf-8"), (
        f"{source.name} is not as jupytext writes it: saving the lesson would rewrite it"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_graph_has_a_picture_that_needs_no_trust(path: Path) -> None:
    """An untrusted notebook (GitHub, a fresh JupyterLab) shows PNG, never an SVG alone."""
    for cell in _read(path).cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/svg+xml" in data:
                assert "image/png" in data, f"{path.name}: {cell.id} has an SVG without a PNG"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_executed(path: Path) -> None:
    nb = _read(path)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: not executed top to bottom in one run (execution counts {counts})"
    )
    outputs = [output for cell in code for output in cell.outputs]
    assert outputs, f"{path.name}: stored without outputs"
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: stored with an error output: {errors[0].get('ename')}"
    assert any(
        "image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {}) for o in outputs
    ), f"{path.name}: a lesson should have at least one picture"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, tmp_path: Path) -> None:
    nb = _read(path)  # an in-memory copy: the stored notebook is never rewritten
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    build.execute(nb, cwd=tmp_path, timeout=CELL_TIMEOUT)  # raises CellExecutionError
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    if any("viz.player(" in cell.source for cell in code):
        assert any(
            'class="agl-player"' in output.get("data", {}).get("text/html", "")
            for cell in code
            for output in cell.outputs
        ), f"{path.name}: a viz.player(...) cell shows no player"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_that_draws_a_graph_shows_a_player(path: Path) -> None:
    sources = "\n".join(c.source for c in _read(path).cells if c.cell_type == "code")
    if "viz.draw_dot(" in sources:
        assert "viz.player(" in sources, f"{path.name} draws a graph but shows no player"
