"""benchmarks/bench_compile.py runs and prints its tables (a smoke test: no timing is checked)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn", reason="the digits workload needs the data extra")
SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_compile.py"


def test_bench_compile_quick_prints_every_workload_and_engine(capsys):
    spec = importlib.util.spec_from_file_location("bench_compile", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        spec.loader.exec_module(bench)
        results = bench.main(["--quick", "--no-peers", "--sizes", "3", "--markdown"])
    finally:
        sys.path.remove(str(SCRIPT.parent))
    out = capsys.readouterr().out
    for workload in ("demo:", "spirals:", "digits:"):
        assert workload in out
    engines = {"compiled", "compiled flat", "compiled f32", "NumPy floor", "NumPy floor f32"}
    assert set(results) == {("demo", 3), ("spirals", 3), ("digits", 3)}
    for times in results.values():
        assert engines | {"scalar"} <= set(times)
        assert all(t > 0 for ts in times.values() for t in ts)
    assert "goals (ratios of medians" in out and "OPENBLAS_CORETYPE=" in out
    assert "torch/flat" in out and "jax/flat" in out  # the peers over both steps
    assert "| workload | n | flat step [ms] |" in out  # --markdown: docs/compile.md's table
    assert "| demo | 3 |" in out
