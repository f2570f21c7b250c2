"""The compiled replay against the scalar engine, micrograd and PyTorch, in one run.

The workload is micrograd's demo step: an MLP 2-16-16-1 (ReLU) on n two-moons
points, mean SVM max-margin loss + 1e-4·Σp², backward, SGD update. Four engines
take turns, round after round, each on its own copy of the same weights:

- ``compiled``: ``autograd_lite.compile`` of one sample's loss, the L2 term
  written inside ``loss_fn`` (computed once per call by the replay);
- ``scalar``: autograd-lite's scalar engine, the graph of the whole batch;
- ``micrograd``: micrograd 0.1.0 from PyPI, the same graph (skipped above
  ``--micrograd-max`` points: a step of 1,000 points takes it seconds);
- ``torch``: PyTorch float64, batched (one matrix product per layer), when installed,
  on one thread (NumPy's small matrix products run on one core too).

All four follow the same SGD trajectory, and the script stops if their losses
ever differ by more than 1e-9. Each round times every engine once, in turn, on
a block of steps long enough to time (one step for the slow engines); the table
gives per-step medians over the rounds with their spread (min–max), wall and CPU
time. Python's cyclic garbage collector is paused inside each timed block and
run between blocks, as ``nn.train.fit`` does: with it on, the scalar engines'
times grow with the heap (micrograd's most of all: its closures make cycles that
only the collector frees), and one engine would pay for another's garbage.

Run: ``make bench`` or ``python benchmarks/bench_compile.py [--rounds N] [--sizes 100,1000]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd_lite as ag
import nn
from autograd_lite import Value

L2 = 1e-4


def lr_at(step: int) -> float:
    return 1.0 - 0.9 * step / 100  # the demo's learning-rate schedule


class Scalar:
    """A scalar engine (ours or micrograd's): the graph of the whole batch, every step."""

    def __init__(self, model: Any, value: Callable[[float], Any], X: Any, Y: Any) -> None:
        self.model, self.value = model, value
        self.X = [(float(a), float(b)) for a, b in X]
        self.Y = [float(y) for y in Y]

    def step(self, lr: float) -> float:
        model, value = self.model, self.value
        params = model.parameters()
        scores = [model([value(a), value(b)]) for a, b in self.X]
        losses = [(1 + -y * s).relu() for y, s in zip(self.Y, scores)]
        total = sum(losses) * (1.0 / len(losses)) + L2 * sum(p * p for p in params)
        model.zero_grad()
        total.backward()
        for p in params:
            p.data -= lr * p.grad
        return total.data


class Compiled:
    """``autograd_lite.compile`` of one sample's loss, the L2 term inside it."""

    def __init__(self, model: Any, X: Any, Y: Any) -> None:
        self.model, self.X, self.Y = model, X, Y
        self.params = params = model.parameters()
        self.compiled = ag.compile(
            lambda x, y: (1 + -y[0] * model(x)).relu() + L2 * sum(p * p for p in params), params
        )

    def step(self, lr: float) -> float:
        params = self.params
        for p in params:
            p.grad = 0.0
        loss = self.compiled(self.X, self.Y)
        for p in params:
            p.data -= lr * p.grad
        return loss


class Torch:
    """PyTorch float64, batched: one matrix product per layer."""

    def __init__(self, model: Any, X: Any, Y: Any) -> None:
        import torch

        self.torch = torch
        self.X = torch.tensor(X, dtype=torch.float64)
        self.Y = torch.tensor(Y, dtype=torch.float64)
        self.layers = []
        for layer in model.layers:
            W = [[w.data for w in n.w] for n in layer.neurons]
            b = [n.b.data for n in layer.neurons]
            self.layers.append(
                (
                    torch.tensor(W, dtype=torch.float64, requires_grad=True),
                    torch.tensor(b, dtype=torch.float64, requires_grad=True),
                )
            )
        self.params = [t for pair in self.layers for t in pair]

    def step(self, lr: float) -> float:
        torch = self.torch
        h = self.X
        for k, (W, b) in enumerate(self.layers):
            h = h @ W.T + b
            if k < len(self.layers) - 1:
                h = torch.relu(h)
        data = torch.relu(1 - self.Y * h[:, 0]).mean()
        total = data + L2 * sum((p * p).sum() for p in self.params)
        for p in self.params:
            p.grad = None
        total.backward()
        with torch.no_grad():
            for p in self.params:
                p -= lr * p.grad
        return float(total.detach())


def agreement(n: int) -> tuple[float, float]:
    """Max relative difference, compiled vs scalar, of the loss and of the gradients."""
    X, y01 = nn.data.make_moons(n, noise=0.1, seed=0)
    Y = y01 * 2.0 - 1.0
    ours, theirs = nn.MLP(2, [16, 16, 1], seed=1), nn.MLP(2, [16, 16, 1], seed=1)
    a = Scalar(ours, Value, X, Y)
    b = Compiled(theirs, X, Y)
    loss_a = a.step(0.0)
    loss_b = b.step(0.0)
    ga = np.array([p.grad for p in ours.parameters()])
    gb = np.array([p.grad for p in theirs.parameters()])
    return abs(loss_a - loss_b) / abs(loss_a), float(np.abs(ga - gb).max() / np.abs(ga).max())


def measure(
    n: int, rounds: int, engines: dict[str, Any], block: float = 0.05
) -> dict[str, dict[str, list[float]]]:
    """Per-step wall and CPU seconds of each engine, round after round, in turn."""
    reps = {}
    step = 0
    first = {}
    for name, engine in engines.items():  # warm up, and size each engine's block to ≥ 50 ms
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        engine.step(0.0)  # lr 0: the weights stay the same (compile traces here)
        first[name] = time.perf_counter() - start
        start = time.perf_counter()
        engine.step(0.0)
        elapsed = time.perf_counter() - start
        gc.enable()
        reps[name] = max(1, min(500, int(block / max(elapsed, 1e-6))))
    times: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": []} for k in engines}
    for r in range(rounds):
        names = list(engines) if r % 2 == 0 else list(reversed(engines))
        losses = {}
        for name in names:
            engine = engines[name]
            gc.collect()
            gc.disable()  # as nn.train.fit: no engine pays for another's garbage
            wall, cpu = time.perf_counter(), time.process_time()
            for k in range(reps[name]):
                loss = engine.step(lr_at(step))
                if k == 0:
                    losses[name] = loss
            times[name]["wall"].append((time.perf_counter() - wall) / reps[name])
            times[name]["cpu"].append((time.process_time() - cpu) / reps[name])
            gc.enable()
        step += 1
        # Engines ran different numbers of steps per block; compare the first step's loss
        # only in round 0, where every engine starts from the same weights.
        if r == 0:
            ref = losses["scalar"]
            for name, loss in losses.items():
                if abs(loss - ref) > 1e-9 * max(1.0, abs(ref)):
                    raise SystemExit(f"n={n}: {name} loss {loss!r} differs from scalar {ref!r}")
    times["first call"] = first  # type: ignore[assignment]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--sizes", default="100,1000", help="numbers of points (default 100,1000)")
    parser.add_argument(
        "--micrograd-max", type=int, default=1000, help="largest n micrograd runs (default 1000)"
    )
    parser.add_argument(
        "--block-ms", type=float, default=50.0, help="time each engine ≥ this long a round"
    )
    args = parser.parse_args()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))  # micrograd's recursive sort
    try:
        import micrograd.engine
        import micrograd.nn
    except ImportError:
        micrograd = None
    try:
        import torch

        torch.set_num_threads(1)  # as NumPy's small matrix products: one core each
    except ImportError:
        torch = None

    print("micrograd's demo step: MLP 2-16-16-1 (relu), n moons points, SVM loss + 1e-4·Σp², SGD")
    print(
        f"per-step time, median of {args.rounds} alternating rounds (min–max); "
        "CPU time beside wall time"
    )
    for n in [int(s) for s in args.sizes.split(",")]:
        X, y01 = nn.data.make_moons(n, noise=0.1, seed=0)
        Y = y01 * 2.0 - 1.0
        engines: dict[str, Any] = {
            "compiled": Compiled(nn.MLP(2, [16, 16, 1], seed=1), X, Y),
            "scalar": Scalar(nn.MLP(2, [16, 16, 1], seed=1), Value, X, Y),
        }
        if micrograd is not None and n <= args.micrograd_max:
            theirs = micrograd.nn.MLP(2, [16, 16, 1])
            for p, q in zip(nn.MLP(2, [16, 16, 1], seed=1).parameters(), theirs.parameters()):
                q.data = p.data
            engines["micrograd"] = Scalar(theirs, micrograd.engine.Value, X, Y)
        if torch is not None:
            engines["torch"] = Torch(nn.MLP(2, [16, 16, 1], seed=1), X, Y)
        times = measure(n, args.rounds, engines, args.block_ms / 1e3)
        first = times.pop("first call")
        scalar = statistics.median(times["scalar"]["wall"])
        scalar_cpu = statistics.median(times["scalar"]["cpu"])
        print(f"\nn = {n:,} points")
        print(
            f"  {'engine':22}{'wall [ms]':>11}{'(min–max)':>21}{'CPU [ms]':>11}"
            f"{'scalar/this':>13}{'(CPU)':>8}"
        )
        labels = {
            "compiled": "compiled replay",
            "scalar": "scalar engine",
            "micrograd": "micrograd 0.1.0",
            "torch": "PyTorch batched f64",
        }
        for name, t in times.items():
            wall = statistics.median(t["wall"])
            cpu = statistics.median(t["cpu"])
            spread = f"({min(t['wall']) * 1e3:.3f}–{max(t['wall']) * 1e3:.3f})"
            print(
                f"  {labels[name]:22}{wall * 1e3:11.3f}{spread:>21}{cpu * 1e3:11.3f}"
                f"{scalar / wall:12.1f}x{scalar_cpu / cpu:7.1f}x"
            )
        if "torch" in times:
            torch_t, ours_t = times["torch"], times["compiled"]
            wall = statistics.median(torch_t["wall"]) / statistics.median(ours_t["wall"])
            cpu = statistics.median(torch_t["cpu"]) / statistics.median(ours_t["cpu"])
            print(
                f"  PyTorch batched / compiled: {wall:.2f}x wall, {cpu:.2f}x CPU "
                "(> 1: compiled is faster)"
            )
        print(
            f"  compiled, first call: {first['compiled'] * 1e3:.1f} ms (tracing two samples "
            "and building the replay, once)"
        )
        loss_rel, grad_rel = agreement(n)
        print(f"  compiled vs scalar: loss {loss_rel:.1e}, gradients {grad_rel:.1e} (max relative)")
    print(
        "\nThe cyclic garbage collector is paused while a step runs (as nn.train.fit does);\n"
        "with it on, micrograd's time (and the scalar engine's, less so) grows with the heap."
    )


if __name__ == "__main__":
    main()
