"""``autograd-lite graph``: good input draws a file; hostile input exits 2 and does nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograd_lite.cli import main

ROOT = Path(__file__).resolve().parents[1]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")
NEURON = ["graph", "tanh(x*w + b)", "x=0.5", "w=-3", "b=2"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- good expressions -----------------------------------------------------------------------


@needs_dot
def test_graph_writes_an_svg_file(tmp_path, capsys):
    path = tmp_path / "neuron.svg"
    code, out, err = run(capsys, *NEURON, "-o", str(path))
    assert (code, out, err) == (0, f"wrote {path}\n", "")  # the line train prints too
    svg = path.read_text(encoding="utf-8")
    texts = [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    for label in ("x", "w", "b", "tanh", "*", "+", "data 0.5", "data -3.0", "data 0.4621"):
        assert label in texts
    # backward has run: d tanh(xw + b)/dx = w (1 − tanh²) = −3 · 0.786448 = −2.35934
    assert "grad -2.359" in texts
    assert [p.name for p in tmp_path.iterdir()] == ["neuron.svg"]


@needs_dot
def test_graph_writes_svg_on_stdout_with_dash(tmp_path, capsys):
    code, out, err = run(capsys, *NEURON, "-o", "-")
    assert code == 0 and err == ""
    ET.fromstring(out)  # one whole SVG document
    assert "data 0.4621" in out
    assert list(tmp_path.iterdir()) == []


def test_graph_dot_output_and_options(tmp_path, capsys):
    path = tmp_path / "neuron.dot"
    code, _, err = run(
        capsys, *NEURON, "-o", str(path), "--rankdir", "TB", "--no-grad", "--number-backward"
    )
    assert code == 0, err
    source = path.read_text(encoding="utf-8")
    assert source.startswith("digraph")
    assert "rankdir=TB" in source and "grad " not in source and '"#1\\n' in source


@needs_dot
@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_graph_binary_formats(tmp_path, capsys, suffix, magic):
    path = tmp_path / f"g{suffix}"
    assert run(capsys, "graph", "x*x + exp(x)", "x=2", "-o", str(path))[0] == 0
    assert path.read_bytes().startswith(magic)


# ---- refused input: exit 2, a reason on the last stderr line, no file, nothing run ----------

HOSTILE = [
    ("__import__('os').system('touch {marker}')", "only calls of these functions"),
    ("open('{marker}', 'w')", "calling 'open' is not allowed"),
    ("eval(\"open('{marker}', 'w')\")", "calling 'eval' is not allowed"),
    ("exec('import os')", "calling 'exec' is not allowed"),
    ("x.__class__", "attribute access"),
    ("x[0]", "subscripts"),
    ("(lambda: 1)()", "only calls of these functions"),
    ("lambda: x", "lambda is not allowed"),
    ("'{marker}'", "strings are not allowed"),
    ("f'{{x}}'", "f-strings are not allowed"),
    ("max(x, b=1)", "keyword arguments"),
    ("[c for c in 'ab']", "comprehensions"),
    ("x" * 1001, "too long"),
    ("(" * 10_000 + "x" + ")" * 10_000, "too long"),
    ("(" * 60 + "x" + ")" * 60, "nested too deeply"),
    ("9**9**9**9", "overflows a float"),
    ("x + y", "unbound name 'y'"),
    ("log(-1)", "log of -1.0 is undefined"),
    ("x / 0", "division by zero"),
    ("exp(1000)", "overflows"),
    ("1e308 * 10", "produced inf"),
    ("x +", "syntax error"),
]


@pytest.mark.parametrize("template, reason", HOSTILE, ids=[h[0][:30] for h in HOSTILE])
def test_refused_expressions_exit_2_with_a_reason_and_no_output(tmp_path, capsys, template, reason):
    marker = tmp_path / "pwned"
    out_file = tmp_path / "out.svg"
    expression = template.replace("{marker}", str(marker)).replace("{{x}}", "{x}")
    code, out, err = run(capsys, "graph", expression, "x=0.5", "-o", str(out_file))
    assert code == 2
    assert out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith("autograd-lite: error: ")
    assert reason in last
    assert "Traceback" not in err
    assert not out_file.exists()
    assert not marker.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "bindings, reason",
    [
        (["x=abc"], "the value of x is not a number: 'abc'"),
        (["x"], "expected NAME=VALUE"),
        (["x=1", "x=2"], "x is given twice"),
        (["x=nan"], "must be finite"),
        (["1x=2"], "not a valid name"),
        ([], "unbound name 'x'"),
    ],
)
def test_bad_bindings_exit_2(tmp_path, capsys, bindings, reason):
    out_file = tmp_path / "out.svg"
    code, out, err = run(capsys, "graph", "x * 2", *bindings, "-o", str(out_file))
    assert code == 2 and out == ""
    assert reason in err.strip().splitlines()[-1]
    assert not out_file.exists()


def test_unknown_suffix_exits_2_before_computing(tmp_path, capsys):
    code, _, err = run(capsys, "graph", "log(-1)", "-o", str(tmp_path / "out.txt"))
    assert code == 2
    assert ".svg, .png, .pdf, .dot, .gv or .html" in err.strip().splitlines()[-1]
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_exits_2(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    code, _, err = run(capsys, "graph", "x", "x=1", "-o", str(tmp_path / "file" / "g.dot"))
    assert code == 2
    assert err.startswith(f"autograd-lite: error: cannot write {tmp_path / 'file' / 'g.dot'}: ")
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_usage_errors_exit_2_without_traceback(capsys):
    code, out, err = run(capsys, "graph", "x", "x=1")  # no -o
    assert code == 2 and "required" in err and "Traceback" not in err
    code, _, err = run(capsys, "graph", "x", "x=1", "--bogus", "-o", "-")
    assert code == 2 and "unrecognized arguments: --bogus" in err and "Traceback" not in err
    assert run(capsys, "graph", "--help")[0] == 0


def test_missing_dot_exits_2_and_says_how_to_install(tmp_path, capsys, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, _, err = run(capsys, *NEURON, "-o", str(tmp_path / "g.svg"))
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert "dot" in last and "apt-get install graphviz" in last and ".dot" in last
    assert not (tmp_path / "g.svg").exists()
    assert run(capsys, *NEURON, "-o", str(tmp_path / "g.dot"))[0] == 0


# ---- real processes -------------------------------------------------------------------------


def python_m(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "autograd_lite", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )


@needs_dot
def test_subprocess_draws_to_stdout(tmp_path):
    done = python_m(*NEURON, "-o", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert ET.fromstring(done.stdout).tag.endswith("svg")
    assert list(tmp_path.iterdir()) == []


def test_subprocess_refuses_code_injection(tmp_path):
    marker = tmp_path / "pwned"
    done = python_m(
        "graph", f"__import__('os').system('touch {marker}')", "-o", "g.svg", cwd=tmp_path
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "only calls of these functions" in done.stderr.strip().splitlines()[-1]
    assert list(tmp_path.iterdir()) == []


# ---- hardening (issue 11 items 5, 6, 11; issue 12 item 5) -----------------------------------


@pytest.mark.parametrize(
    ("expression", "binding", "op"),
    [("x**0.5", "x=0", "pow"), ("x/x", "x=5e-324", "div"), ("log(x)", "x=0.0", "log")],
)
def test_infinite_or_nan_gradients_are_an_error_not_a_picture(
    tmp_path, capsys, expression, binding, op
):
    path = tmp_path / "g.svg"
    code, out, err = run(capsys, "graph", expression, binding, "-o", str(path))
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    if op != "log":  # log(0) = -inf is refused already by the forward pass
        assert err.startswith(f"autograd-lite: error: cannot draw {expression!r} at these values")
        assert f"{op}: backward produced" in err
    assert list(tmp_path.iterdir()) == []


def test_graph_creates_missing_folders_like_train_out(tmp_path, capsys):
    path = tmp_path / "sub" / "dir" / "x.dot"
    code, out, err = run(capsys, "graph", "x*2", "x=3", "-o", str(path))
    assert (code, out, err) == (0, f"wrote {path}\n", "")
    assert path.read_text(encoding="utf-8").startswith("digraph")


@pytest.mark.parametrize("expression", ["-x**2", "-x", "-(x*2)", "-2*x"])
def test_an_expression_may_start_with_a_minus(tmp_path, capsys, expression):
    path = tmp_path / "a.dot"
    code, out, err = run(capsys, "graph", expression, "x=3", "-o", str(path))
    assert (code, err) == (0, ""), err
    assert "data -" in path.read_text(encoding="utf-8")  # -9, -3, -6, -6


def test_options_still_parse_around_a_minus_expression(tmp_path, capsys):
    path = tmp_path / "a.dot"
    code, _, err = run(capsys, "graph", "-o", str(path), "--rankdir", "TB", "-x**2", "x=3")
    assert code == 0, err
    assert "rankdir=TB" in path.read_text(encoding="utf-8")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_graph_writes_through_a_symlink(tmp_path, capsys):
    target = tmp_path / "real.dot"
    target.write_text("old")
    link = tmp_path / "link.dot"
    link.symlink_to(target)
    assert run(capsys, "graph", "x*2", "x=3", "-o", str(link))[0] == 0
    assert link.is_symlink() and "data 6.0" in target.read_text(encoding="utf-8")


def test_bindings_are_normalised_like_names_in_the_expression(tmp_path, capsys):
    path = tmp_path / "a.dot"
    # A fullwidth x (U+FF58) on both sides, or on one side only: NFKC makes both 'x'.
    for expression, binding in [("ｘ**2", "ｘ=3"), ("x**2", "ｘ=3"), ("ｘ**2", "x=3")]:
        code, _, err = run(capsys, "graph", expression, binding, "-o", str(path))
        assert (code, err) == (0, "")
        assert "data 9.0" in path.read_text(encoding="utf-8")


def test_an_unused_binding_gets_a_warning(tmp_path, capsys):
    code, out, err = run(capsys, "graph", "x*2", "x=3", "y=2.5", "-o", str(tmp_path / "a.dot"))
    assert code == 0
    assert err == "autograd-lite: warning: y=2.5 is not used: y does not appear in the expression\n"


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["x\udcff", "x=1"], "the expression is not valid UTF-8 text (byte 0xff at character 2)"),
        (
            ["x", "x=\udce91"],
            "a NAME=VALUE binding is not valid UTF-8 text (byte 0xe9 at character 3)",
        ),
        (
            ["x", "\udcffx=1"],
            "a NAME=VALUE binding is not valid UTF-8 text (byte 0xff at character 1)",
        ),
    ],
)
def test_invalid_utf8_arguments_get_their_own_message(tmp_path, capsys, argv, what):
    code, _, err = run(capsys, "graph", *argv, "-o", str(tmp_path / "a.dot"))
    assert code == 2 and err == f"autograd-lite: error: {what}; write it in UTF-8\n"


def test_invalid_utf8_from_a_real_shell(tmp_path):
    done = subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"autograd_lite", b"graph", b"x\xff", b"x=1"]
        + [b"-o", b"a.dot"],
        capture_output=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"},
        timeout=60,
    )
    assert done.returncode == 2
    assert b"not valid UTF-8 text (byte 0xff" in done.stderr and b"Traceback" not in done.stderr


SIGMOID_TO_STDOUT = ["graph", "sigmoid(x)", "x=1", "-o", "-"]  # σ: not in every encoding


def _cli(tmp_path, argv, stdout, closed=False, **env) -> subprocess.CompletedProcess[bytes]:
    """``python -m autograd_lite ARGV`` with this stdout (``closed``: file descriptor 1 closed)."""
    return subprocess.run(
        [sys.executable, "-m", "autograd_lite", *argv],
        stdout=stdout,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        preexec_fn=(lambda: os.close(1)) if closed else None,  # what the shell's >&- does
        timeout=120,
    )


@needs_dot
def test_stdout_gets_utf8_bytes_whatever_its_encoding(tmp_path):
    done = _cli(tmp_path, SIGMOID_TO_STDOUT, subprocess.PIPE, PYTHONIOENCODING="cp1252")
    assert done.returncode == 0, done.stderr
    assert "σ".encode() in done.stdout  # sigmoid's symbol, in UTF-8 as the SVG declares
    ET.fromstring(done.stdout)


def test_text_output_on_a_console_without_greek_escapes_instead_of_crashing(tmp_path):
    done = _cli(tmp_path, ["check"], subprocess.PIPE, PYTHONIOENCODING="cp1252")
    assert done.returncode == 0, done.stderr
    assert b"\\u2260" in done.stdout and b"Traceback" not in done.stderr  # ≠ is not in cp1252


@needs_dot
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file descriptors")
def test_a_closed_stdout_is_a_one_line_error(tmp_path):
    done = _cli(tmp_path, SIGMOID_TO_STDOUT, None, closed=True)
    assert done.returncode == 2
    assert done.stderr == b"autograd-lite: error: cannot write to stdout: it is closed\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(SIGMOID_TO_STDOUT, marks=needs_dot),
        ["graph", "x", "x=1", "-o", "a.dot"],  # the 'wrote' line fails
        ["check"],
    ],
)
def test_any_command_on_a_full_stdout_ends_in_one_line(tmp_path, argv):
    with open("/dev/full", "wb") as full:
        done = _cli(tmp_path, argv, full)
    assert done.returncode == 2
    assert done.stderr == b"autograd-lite: error: cannot write to stdout: No space left on device\n"


# ---- the player and --precision -------------------------------------------------------------


@needs_dot
def test_graph_html_writes_a_self_contained_player(tmp_path, capsys):
    path = tmp_path / "neuron.html"
    assert run(capsys, *NEURON, "-o", str(path))[0] == 0
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'class="agl-player"' in page
    assert "http://" not in page.replace("http://www.w3.org", "")  # nothing to fetch
    assert "https://" not in page and "<link" not in page and " src=" not in page
    code, _, err = run(capsys, *NEURON, "--number-backward", "-o", str(tmp_path / "n2.html"))
    assert code == 2 and "player" in err


@needs_dot
def test_graph_precision_sets_significant_digits_and_small_grads_stay_visible(tmp_path, capsys):
    code, out, _ = run(capsys, "graph", "tanh(x)", "x=10", "-o", "-")
    texts = [t.text for t in ET.fromstring(out).iter("{http://www.w3.org/2000/svg}text")]
    assert "grad 8.245e-09" in texts  # the vanishing gradient of tanh, not 0.0000
    code, out, _ = run(capsys, "graph", "tanh(x)", "x=10", "--precision", "7", "-o", "-")
    texts = [t.text for t in ET.fromstring(out).iter("{http://www.w3.org/2000/svg}text")]
    assert "grad 8.244615e-09" in texts
    assert run(capsys, "graph", "x", "x=1", "--precision", "0", "-o", "-")[0] == 2


@needs_dot
def test_graph_draws_a_number_exponent_as_part_of_its_op_and_constants_without_grad(capsys):
    code, out, _ = run(capsys, "graph", "x**2 + 3*x", "x=2", "-o", "-")
    texts = [t.text for t in ET.fromstring(out).iter("{http://www.w3.org/2000/svg}text")]
    assert "**2" in texts and "2.0" not in texts  # the exponent is inside its op
    assert "3.0" in texts  # the constant 3: its value only
    assert [t for t in texts if t.startswith("grad ")] == ["grad 7.0"] + ["grad 1.0"] * 3


def test_graph_help_lists_every_function_the_parser_accepts(capsys):
    from autograd_lite.expr import FUNCTIONS

    assert main(["graph", "--help"]) == 0
    text = capsys.readouterr().out
    for name in FUNCTIONS:
        assert name in text
