"""benchmarks/bench_compile.py runs and prints its table (a smoke test: no timing is checked)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("micrograd", reason="the bench extra is not installed")
SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_compile.py"


def test_bench_compile_prints_every_engine(monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("bench_compile", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(
        sys, "argv", ["bench_compile.py", "--sizes", "12", "--rounds", "1", "--block-ms", "1"]
    )
    bench.main()
    out = capsys.readouterr().out
    for row in ("compiled replay", "scalar engine", "micrograd 0.1.0"):
        assert row in out
    assert "compiled vs scalar: loss" in out
    if importlib.util.find_spec("torch") is not None:
        assert "PyTorch batched f64" in out
