"""How long ``autograd-lite verify`` takes at its work limit (``verify.MAX_WORK``).

``verify`` refuses more than MAX_WORK = points × (the numbers, names and operations
of EXPR and of every claim). This script runs it right at the limit on a few
workloads, each the way a worst case looks: many cheap ops, transcendental ops,
and several variables with a claim each. Each round runs every
workload once, in turn; the table gives the CPU time per run (median over the
rounds, with the spread lowest–highest).

Run: ``python benchmarks/bench_verify.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time

from autograd_lite.cli import main
from autograd_lite.cli import verify as verify_command


def _sum(term: str, count: int) -> str:
    return " + ".join([term] * count)


# name -> (EXPR, claims): each about 150 to 300 numbers, names and operations in all.
WORKLOADS = {
    "x*x x50": (_sum("x*x", 50), [_sum("2*x", 50)]),
    "tanh/exp x20": (
        _sum("tanh(x)*exp(x/3)", 20),
        [_sum("(1 - tanh(x)**2)*exp(x/3) + tanh(x)*exp(x/3)/3", 10) + " + " + _sum("0*x", 1)],
    ),
    "3 variables": (
        _sum("tanh(w*x + b)", 12),
        [f"w={_sum('x*(1 - tanh(w*x + b)**2)', 4)}", f"b={_sum('1 - tanh(w*x + b)**2', 4)}"],
    ),
}


def run_at_the_limit(expression: str, claims: list[str]) -> tuple[float, int]:
    """(CPU seconds, points) of one verify run with as many points as MAX_WORK allows."""
    size = sum(verify_command._size(text.split("=", 1)[-1]) for text in [expression, *claims])
    points = min(verify_command.MAX_POINTS, verify_command.MAX_WORK // size)
    argv = ["verify", expression, *(f"--claim={c}" for c in claims), "--points", str(points)]
    start = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    if code == 2:
        raise RuntimeError(f"verify refused {argv}")
    return time.process_time() - start, points


def main_bench(rounds: int) -> None:
    """Print the median CPU time per workload at the limit."""
    times: dict[str, list[float]] = {name: [] for name in WORKLOADS}
    points: dict[str, int] = {}
    for _ in range(rounds):
        for name, (expression, claims) in WORKLOADS.items():
            seconds, points[name] = run_at_the_limit(expression, claims)
            times[name].append(seconds)
    print(f"verify at MAX_WORK = {verify_command.MAX_WORK:,} (CPU s per run, {rounds} rounds)")
    for name, values in times.items():
        print(
            f"  {name:14s} {points[name]:6,} points  median {statistics.median(values):5.2f} s  "
            f"[{min(values):.2f}-{max(values):.2f}]"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    main_bench(parser.parse_args().rounds)
