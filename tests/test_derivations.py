"""The registry of docs/derivations.md: every closed form equals the engine's gradient.

Besides the registry itself, independent checks: every section of the page is
covered by a check and every check names a section of the page, a wrong formula
is caught, the §4 closed forms agree with HIPS autograd and with central
differences, and the inputs are non-degenerate (ReLU masks really mask).
"""

import os
import re
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from nn import derivations
from nn.derivations import REGISTRY, SECTIONS, Derivation, check, run_all

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / derivations.DOC
# A section heading of the page: ### <a id="anchor"></a>1.2 Title
HEADING = re.compile(r'^### <a id="([a-z0-9-]+)"></a>(\d+\.\d+) (.+)$')


def page_sections() -> list[tuple[str, str, str]]:
    """(number, anchor, title) of every ### section of docs/derivations.md, in order."""
    sections = []
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            match = HEADING.match(line)
            assert match, f"a section without an explicit anchor: {line!r}"
            anchor, number, title = match.groups()
            sections.append((f"§{number}", anchor, title))
    return sections


def test_the_page_and_the_registry_name_the_same_sections():
    assert page_sections() == [(s.number, s.anchor, s.title) for s in SECTIONS.values()]
    anchors = [s.anchor for s in SECTIONS.values()]
    assert len(set(anchors)) == len(anchors)


def test_every_section_is_covered_and_every_check_names_a_section():
    named = {entry.section for entry in REGISTRY}
    missing = [s for s in SECTIONS if s not in named]
    assert not missing, f"sections of {derivations.DOC} without a check: {missing}"
    unknown = [(e.section, e.title) for e in REGISTRY if e.section not in SECTIONS]
    assert not unknown, f"checks naming a section {derivations.DOC} does not have: {unknown}"


def test_links_into_the_page_resolve():
    """Every link to docs/derivations.md#anchor anywhere in the project names an anchor of it."""
    anchors = {anchor for _, anchor, _ in page_sections()}
    files = [ROOT / "README.md", PAGE, *ROOT.glob("notebooks/src/*.py")]
    files += [*ROOT.glob("autograd_lite/**/*.py"), *ROOT.glob("nn/*.py")]
    linked = 0
    for path in files:
        for anchor in re.findall(r"derivations\.md#([A-Za-z0-9_-]+)", path.read_text("utf-8")):
            assert anchor in anchors, f"{path.name}: no section #{anchor} in {derivations.DOC}"
            linked += 1
        for anchor in re.findall(r"\]\(#([A-Za-z0-9_-]+)\)", path.read_text("utf-8")):
            if path == PAGE:  # the page's own table of contents
                assert anchor in anchors, f"the contents link to a missing #{anchor}"
    assert linked >= 5


@pytest.mark.parametrize("entry", REGISTRY, ids=[f"{e.section} {e.title}" for e in REGISTRY])
def test_closed_form_equals_automatic(entry):
    closed, automatic = entry.compute()
    assert closed.shape == automatic.shape
    assert np.any(closed != 0), "a closed form of all zeros would check nothing"
    np.testing.assert_allclose(automatic, closed, rtol=0, atol=1e-10)


def test_registry_in_page_order_with_unique_titles():
    sections = [e.section for e in REGISTRY]
    order = list(SECTIONS)
    assert sections == sorted(sections, key=order.index)  # grouped, in the page's order
    titles = [e.title for e in REGISTRY]
    assert len(set(titles)) == len(titles)
    assert all(len(t) <= 80 for t in titles)  # fits a table row
    must_have = [
        "ReLU'",
        "σ'(x) = σ(x)(1 − σ(x))",
        "tanh'(x) = 4/(e^x + e^−x)²",
        "batch, columns",
        "batch, rows",
        "i = j",
        "i ≠ j",
        "worked example",
        "2 classes",
        "final linear layer: ∂L/∂W",
        "final linear layer: ∂L/∂b",
        "MLP, rows: dW1",
        "MLP, rows: dA1",
        "MLP, rows: dZ1",
        "MLP, rows: db1",
        "recursion, columns",
        "tanh layer",
        "sigmoid layer",
    ]
    for phrase in must_have:
        assert any(phrase in t for t in titles), phrase


def test_run_all_rows():
    rows = run_all()
    assert len(rows) == len(REGISTRY)
    assert all(row.ok for row in rows)
    assert all(0.0 <= row.max_abs_error <= 1e-10 for row in rows)
    assert [(r.section, r.title) for r in rows] == [(e.section, e.title) for e in REGISTRY]
    assert run_all() == rows  # deterministic, to the last bit


def test_a_wrong_formula_is_caught():
    sigmoid_op = next(e for e in REGISTRY if e.title.endswith("sigmoid op"))

    def wrong():  # σ' = σ: a classic slip
        _, automatic = sigmoid_op.compute()
        return 1 / (1 + np.exp(-derivations._X1)), automatic

    row = check(Derivation("§1.2", "wrong", wrong))
    assert not row.ok and row.max_abs_error > 0.1
    shape = check(Derivation("§1.2", "shape", lambda: (np.zeros(3), np.zeros(4))))
    assert not shape.ok and shape.max_abs_error == float("inf")


def test_worked_example_is_the_notes_numbers():
    entry = next(e for e in REGISTRY if "worked example" in e.title)
    closed, automatic = entry.compute()
    assert closed.tolist() == [-0.3, 0.2, 0.1]
    np.testing.assert_allclose(automatic, [-0.3, 0.2, 0.1], atol=1e-15)


def test_rows_recursion_recursion_agrees_with_hips_autograd():
    X, labels, Ws, bs = derivations._rows_weights()
    Y = np.eye(Ws[-1].shape[1])[labels]

    def loss(params):
        W1, b1, W2, b2, W3, b3 = params
        A1 = anp.maximum(X @ W1 + b1, 0)
        A2 = anp.maximum(A1 @ W2 + b2, 0)
        Z3 = A2 @ W3 + b3
        Z3 = Z3 - anp.max(Z3, axis=1, keepdims=True)
        log_probs = Z3 - anp.log(anp.sum(anp.exp(Z3), axis=1, keepdims=True))
        return -anp.sum(Y * log_probs) / X.shape[0]

    params = [Ws[0], bs[0], Ws[1], bs[1], Ws[2], bs[2]]
    grads = autograd.grad(loss)(params)
    recursion = derivations._rows_recursion()
    for name, g in zip(["dW1", "db1", "dW2", "db2", "dW3", "db3"], grads):
        np.testing.assert_allclose(recursion[name][0], g, atol=1e-14, err_msg=name)


def test_rows_recursion_relu_masks_are_not_trivial():
    X, _, (W1, W2, _), (b1, b2, _) = derivations._rows_weights()
    Z1 = X @ W1 + b1
    Z2 = np.maximum(Z1, 0) @ W2 + b2
    for Z in (Z1, Z2):
        assert 0.2 < np.mean(Z > 0) < 0.8
        assert np.min(np.abs(Z)) > 1e-6  # no kink inside the central-difference step


def test_columns_recursion_closed_forms_agree_with_central_differences():
    x, ell, layers = derivations._columns_network()
    params = [derivations._layer_matrix(layer) for layer in layers]

    def loss(params):
        return -np.log(derivations._columns_forward(x, params)[-1][ell])

    eps = 1e-6
    numerical = []
    for W, b in params:
        for array in (W, b):
            grad = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                saved = array[index]
                array[index] = saved + eps
                plus = loss(params)
                array[index] = saved - eps
                minus = loss(params)
                array[index] = saved
                grad[index] = (plus - minus) / (2 * eps)
            numerical.append(grad)
    closed = derivations._columns_recursion()
    np.testing.assert_allclose(closed["chain"][0], numerical[0], atol=1e-8)
    np.testing.assert_allclose(
        closed["W"][0], np.concatenate([numerical[i].ravel() for i in (0, 2, 4)]), atol=1e-8
    )
    np.testing.assert_allclose(
        closed["b"][0], np.concatenate([numerical[i] for i in (1, 3, 5)]), atol=1e-8
    )


def test_run_all_is_fast():
    import time

    derivations._rows_recursion.cache_clear()
    derivations._columns_recursion.cache_clear()
    start = time.perf_counter()
    run_all()
    assert time.perf_counter() - start < 5.0


def test_the_page_avoids_what_githubs_math_renderer_gets_wrong():
    """GitHub renders $...$ and $$...$$ with MathJax after its own Markdown pass; these
    constructs come out wrong there, so the page must not use them inside math."""
    text = PAGE.read_text(encoding="utf-8")
    paragraphs = re.split(r"\n\s*\n", text)
    maths = []
    for paragraph in paragraphs:
        if paragraph.lstrip().startswith("$$"):
            assert paragraph.rstrip().endswith("$$") and paragraph.count("$$") == 2, paragraph
            maths.append(paragraph.strip()[2:-2])
            continue
        assert "$$" not in paragraph, f"$$ inside a paragraph: {paragraph[:60]!r}"
        pieces = paragraph.split("$")
        assert len(pieces) % 2 == 1, f"unbalanced $ in {paragraph[:60]!r}"
        for inline in pieces[1::2]:
            assert inline and inline == inline.strip(), f"space inside $...$: {inline!r}"
            maths.append(inline)
    assert len(maths) > 100
    for math in maths:
        assert "<" not in math and ">" not in math, f"use \\lt and \\gt: {math!r}"
        assert not re.search(r"\\[!-/:-@\[-`{-~]", math), f"a Markdown escape: {math!r}"
        assert "*" not in math and "](" not in math, math


def test_the_project_links_to_the_page_and_to_nothing_outside_it():
    """README, `check --help` (tests/test_cli.py) and the lessons point at docs/derivations.md;
    no file of the project points at a file outside the repository."""
    assert "](docs/derivations.md" in (ROOT / "README.md").read_text("utf-8")
    for lesson in ("01", "02", "03", "04", "06"):
        (source,) = ROOT.glob(f"notebooks/src/{lesson}_*.py")
        assert "](../docs/derivations.md" in source.read_text("utf-8"), source.name
    outside = ["MATH" + ".md", "seeds" + "/", "shared" + "/", "seed" + " 00", "the " + "notes"]
    skip = {".git", ".venv", "node_modules", ".pytest_cache", ".ruff_cache", ".hypothesis"}
    skip |= {"__pycache__", "autograd-lite-out"}
    suffixes = {".py", ".md", ".ipynb", ".toml", ".txt", ".cfg", ".json", ".js", ".css", ".html"}
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            path = Path(folder) / name
            if path.suffix in suffixes or name in {"Makefile", "run"}:
                text = path.read_text("utf-8", errors="replace")
                for phrase in outside:
                    assert phrase not in text, f"{path.relative_to(ROOT)} mentions {phrase!r}"
