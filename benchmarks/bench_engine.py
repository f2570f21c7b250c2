"""autograd-lite against micrograd, side by side, on micrograd's own demo workload.

The workload is micrograd's demo notebook: an MLP 2-16-16-1 (ReLU) on 100
two-moons points, SVM max-margin loss + 1e-4·L2, backward, SGD update
(about 65,800 nodes a step). Both engines start from the same weights and the
script checks that they compute the same loss at every step.

How it is timed (so that the figures can be trusted on a busy machine):

- Rounds: each round times every measurement once for each engine, the two
  engines taking turns (which one goes first alternates from round to
  round). The tables give the median over the rounds and the spread
  [min–max]; a ratio is the median of the rounds' own ratios.
- CPU time (``time.process_time``, this process only) beside wall time: CPU
  time is what the engine costs; wall time also counts whatever else the
  machine was doing.
- "step incl. gc": each step is followed by ``gc.collect()`` inside its own
  timing, so the collection of one engine's garbage never lands on the other
  engine's clock. "steps alone": consecutive steps of one engine, no forced
  collection, as a user runs them. "step, gc off": the same step with the
  cyclic garbage collector disabled, which shows how much of each engine's
  time is the collector.
- micrograd's figure depends on the size of the heap: its closures make
  reference cycles, so most of its step is the cyclic collector, whose full
  collections walk every live object of the process. The same micrograd step
  is slower in a process that holds more objects (a notebook, a test run).

Also measured on autograd-lite alone: ``grad()`` against ``backward()`` on the
same graph, bytes per node (tracemalloc), and nodes per second.

Run: ``make bench`` or ``python benchmarks/bench_engine.py [--rounds N]``.
Needs the ``bench`` extra (``pip install -e .[bench]``: micrograd from PyPI).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import micrograd.engine
import micrograd.nn

import nn
from autograd_lite import Value, grad, topological_order

ENGINES = ("autograd-lite", "micrograd")


def make_models(seed: int) -> tuple[Any, Any]:
    """Our MLP and micrograd's, with identical weights (same parameter order)."""
    ours = nn.MLP(2, [16, 16, 1], seed=seed)
    theirs = micrograd.nn.MLP(2, [16, 16, 1])
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        q.data = p.data
    return ours, theirs


def loss_of(model: Any, value: Callable[[float], Any], X: Any, y: Any) -> Any:
    """micrograd's demo loss: mean SVM max-margin loss + 1e-4·Σ p²."""
    inputs = [[value(float(a)), value(float(b))] for a, b in X]
    scores = [model(x) for x in inputs]
    losses = [(1 + -float(yi) * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def sgd_step(model: Any, value: Callable[[float], Any], X: Any, y: Any, lr: float) -> float:
    """One training step of the demo: forward, zero_grad, backward, SGD update."""
    total = loss_of(model, value, X, y)
    model.zero_grad()
    total.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return total.data


def clocks(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(CPU seconds, wall seconds, result) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def spread(values: Sequence[float], scale: float = 1.0, digits: int = 1) -> str:
    """'median [min–max]' of the values times scale."""
    v = [x * scale for x in values]
    return f"{statistics.median(v):.{digits}f} [{min(v):.{digits}f}–{max(v):.{digits}f}]"


class Rows:
    """Per-engine samples of each measurement, one per round."""

    def __init__(self) -> None:
        self.samples: dict[str, dict[str, list[float]]] = {}

    def add(self, row: str, engine: str, seconds: float) -> None:
        self.samples.setdefault(row, {e: [] for e in ENGINES})[engine].append(seconds)

    def print(self) -> None:
        print(f"{'[ms]':28}{'autograd-lite':>22}{'micrograd':>24}{'micrograd / ours':>22}")
        for row, by_engine in self.samples.items():
            ours, theirs = by_engine["autograd-lite"], by_engine["micrograd"]
            ratios = [m / o for o, m in zip(ours, theirs)]
            print(
                f"{row:28}{spread(ours, 1e3):>22}{spread(theirs, 1e3, 0):>24}"
                f"{spread(ratios, digits=1) + 'x':>22}"
            )


def bytes_per_node(
    model: Any, value: Callable[[float], Any], parents: Callable[[Any], Any], X: Any, y: Any
) -> float:
    gc.collect()
    tracemalloc.start()
    total = loss_of(model, value, X, y)
    allocated, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    seen, stack = {id(total)}, [total]
    while stack:
        for child in parents(stack.pop()):
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return allocated / len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds (>= 5)")
    parser.add_argument("--alone", type=int, default=3, help="consecutive steps per round")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.rounds < 5:
        parser.error("--rounds must be at least 5 (medians of fewer rounds are not reported)")

    X, y01 = nn.data.make_moons(100, noise=0.1, seed=0)
    y = y01 * 2 - 1  # labels -1 / +1 for the max-margin loss
    ours, theirs = make_models(args.seed)
    setups = {"autograd-lite": (ours, Value), "micrograd": (theirs, micrograd.engine.Value)}

    rows = Rows()
    engine_only: dict[str, list[float]] = {"fwd": [], "bwd": [], "grad": [], "ratio": []}
    step = 0
    for r in range(args.rounds):
        order = ENGINES if r % 2 == 0 else ENGINES[::-1]
        # 1. one step each, its garbage collected on its own clock; losses must agree
        losses = {}
        for engine in order:
            model, value = setups[engine]
            lr = 1.0 - 0.9 * step / 100  # the demo's learning-rate schedule

            def collected(m: Any = model, v: Any = value, lr: float = lr) -> float:
                loss = sgd_step(m, v, X, y, lr)
                gc.collect()
                return loss

            gc.collect()
            cpu, wall, losses[engine] = clocks(collected)
            rows.add("step incl. gc, CPU", engine, cpu)
            rows.add("step incl. gc, wall", engine, wall)
        step += 1
        a, m = losses["autograd-lite"], losses["micrograd"]
        if abs(a - m) > 1e-9 * max(1.0, abs(m)):
            raise SystemExit(f"round {r}: losses differ: {a!r} vs {m!r}")
        # 2. consecutive steps, no forced collection (the per-step mean of the block)
        for engine in order:
            model, value = setups[engine]

            def block(m: Any = model, v: Any = value) -> None:
                for _ in range(args.alone):
                    sgd_step(m, v, X, y, 0.01)

            gc.collect()
            cpu, wall, _ = clocks(block)
            rows.add("steps alone, CPU", engine, cpu / args.alone)
            rows.add("steps alone, wall", engine, wall / args.alone)
        # 3. one step with the cyclic collector off
        for engine in order:
            model, value = setups[engine]
            gc.collect()
            gc.disable()
            try:
                cpu, _, _ = clocks(lambda m=model, v=value: sgd_step(m, v, X, y, 0.01))
            finally:
                gc.enable()
            rows.add("step, gc off, CPU", engine, cpu)
        # 4. ours alone: forward, backward, and grad() on the same graph
        gc.collect()
        cpu_f, _, total = clocks(lambda: loss_of(ours, Value, X, y))
        params = ours.parameters()
        cpu_g, _, _ = clocks(lambda t=total, p=params: grad(t, p))
        ours.zero_grad()
        cpu_b, _, _ = clocks(total.backward)
        engine_only["fwd"].append(cpu_f)
        engine_only["bwd"].append(cpu_b)
        engine_only["grad"].append(cpu_g)
        engine_only["ratio"].append(cpu_g / cpu_b)
        nodes = len(topological_order(total))
        del total
        gc.collect()

    print("micrograd demo step: MLP 2-16-16-1, 100 moons points, SVM loss + L2, SGD")
    print(f"graph: {nodes:,} nodes a step; losses equal at every step")
    print(
        f"{args.rounds} rounds, the engines taking turns; median [min–max] over the rounds; "
        "CPU = this process's CPU time\n"
    )
    rows.print()
    print(
        "\nmicrograd's time depends on the heap: most of its step is the cyclic garbage\n"
        "collector (compare the gc-off row), whose full collections walk every live\n"
        "object of the process, so the same step is slower in a bigger process.\n"
    )
    f, b, g = engine_only["fwd"], engine_only["bwd"], engine_only["grad"]
    ours_bytes = bytes_per_node(ours, Value, lambda v: v.parents, X, y)
    micro_bytes = bytes_per_node(theirs, micrograd.engine.Value, lambda v: v._prev, X, y)
    print("autograd-lite alone, CPU [ms]")
    print(f"{'forward (build the graph)':34}{spread(f, 1e3):>22}")
    print(f"{'backward()':34}{spread(b, 1e3):>22}")
    print(f"{'grad(loss, params), same graph':34}{spread(g, 1e3):>22}")
    print(f"{'grad() / backward()':34}{spread(engine_only['ratio'], digits=2) + 'x':>22}")
    print(f"{'forward nodes / s':34}{nodes / statistics.median(f):>22,.0f}")
    print(f"{'backward nodes / s':34}{nodes / statistics.median(b):>22,.0f}")
    print(
        f"{'bytes per node (tracemalloc)':34}{ours_bytes:>22.0f}"
        f"   micrograd {micro_bytes:.0f} ({micro_bytes / ours_bytes:.1f}x)"
    )


if __name__ == "__main__":
    main()
