"""The scalar engine's demo step at another git revision against this checkout, side by side.

What a change to the hot path (Value's operators, ``backward``) quotes in its
commit message: ``python benchmarks/compare_revisions.py REV`` checks REV out
into a temporary git worktree and times micrograd's demo step (the workload
of ``bench_engine.py``: MLP 2-16-16-1, 100 moons points, SVM loss + L2, SGD)
with REV's ``autograd_lite`` and ``nn`` and with this checkout's, in separate
processes that take turns (which goes first alternates from round to round).

Each process runs ``--steps`` steps and reports the median CPU time of one
step (``time.process_time``, this process only), once with the cyclic garbage
collector off (the engine's own work) and once with ``gc.collect()`` after each
step on the step's clock (what a user pays, collector included). The table
gives the median over the rounds, the spread [min–max] and the median of the
rounds' own ratios REV / this checkout (above 1: this checkout is faster).

Run: ``python benchmarks/compare_revisions.py main [--rounds 5] [--steps 15]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_engine  # this checkout's harness; autograd_lite and nn come from PYTHONPATH
from bench_engine import spread

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MODES = {"gc off": "off", "gc after each step": "collect"}


def worker(mode: str, steps: int) -> None:
    """Run in a child process whose PYTHONPATH names the tree to time: print the median step."""
    import nn
    from autograd_lite import Value

    X, y01 = nn.data.make_moons(100, noise=0.1, seed=0)
    y = y01 * 2 - 1
    model = nn.MLP(2, [16, 16, 1], seed=1)
    if mode == "off":
        gc.disable()
    times = []
    for _ in range(steps):
        gc.collect()
        start = time.process_time()
        bench_engine.sgd_step(model, Value, X, y, 0.01)
        if mode == "collect":
            gc.collect()
        times.append(time.process_time() - start)
    print(json.dumps({"engine": nn.__file__, "median": statistics.median(times)}))


def time_tree(tree: Path, mode: str, steps: int) -> float:
    """The median CPU seconds of one step with ``tree``'s engine, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", mode, str(steps)]
    result = json.loads(subprocess.run(command, env=env, check=True, capture_output=True).stdout)
    if not result["engine"].startswith(str(tree)):
        raise SystemExit(f"expected the engine of {tree}, got {result['engine']}")
    return result["median"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the git revision to compare with, e.g. main or HEAD~3")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (>= 5)")
    parser.add_argument("--steps", type=int, default=15, help="steps timed in each process")
    args = parser.parse_args()
    if args.rounds < 5:
        parser.error("--rounds must be at least 5 (medians of fewer rounds are not reported)")
    with tempfile.TemporaryDirectory(prefix="autograd-lite-rev-") as tmp:
        other = Path(tmp) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(other), args.rev],
            check=True,
        )
        try:
            trees = {args.rev: other, "this checkout": ROOT}
            print(f"micrograd's demo step, CPU ms: {args.rev} against this checkout")
            print(f"{args.rounds} rounds, one process per tree, taking turns; {args.steps} steps")
            print(f"{'[ms]':22}{args.rev:>22}{'this checkout':>22}{'ratio':>18}")
            for label, mode in MODES.items():
                samples: dict[str, list[float]] = {name: [] for name in trees}
                for r in range(args.rounds):
                    for name in list(trees)[:: 1 if r % 2 == 0 else -1]:
                        samples[name].append(time_tree(trees[name], mode, args.steps))
                before, after = samples[args.rev], samples["this checkout"]
                ratios = [b / a for b, a in zip(before, after)]
                cells = [spread(before, 1e3), spread(after, 1e3), spread(ratios, 1, 2) + "x"]
                print(f"{label:22}{cells[0]:>22}{cells[1]:>22}{cells[2]:>18}")
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)], check=True
            )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]))
    else:
        main()
