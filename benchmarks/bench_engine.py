"""autograd-lite against micrograd, side by side, on micrograd's own demo workload.

The workload is micrograd's demo notebook: an MLP 2-16-16-1 (ReLU) on 100
two-moons points, SVM max-margin loss + 1e-4·L2, backward, SGD update
(about 65,000 nodes a step). Both engines start from the same weights and the
script checks that they compute the same loss at every step.

Steps alternate between the two engines in one process. Each timed step
includes reclaiming its graph (``gc.collect()`` right after it): micrograd's
closures form reference cycles that only the cyclic collector frees, and
without this the collection of one engine's garbage lands on the other's
clock. A second table times each engine alone for consecutive steps, with no
forced collection, as a user would run it.

Run: ``make bench`` or ``python benchmarks/bench_engine.py [--steps N]``.
Needs the ``bench`` extra (``pip install -e .[bench]``: micrograd from PyPI).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import micrograd.engine
import micrograd.nn

import nn
from autograd_lite import Value, topological_order


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


def timed(fn: Callable[[], Any], collect: bool) -> tuple[float, Any]:
    if collect:
        gc.collect()
    start = time.perf_counter()
    result = fn()
    if collect:
        gc.collect()
    return time.perf_counter() - start, result


def graph_stats(model: Any, X: Any, y: Any) -> dict[str, float]:
    """Forward/backward nodes per second and bytes per node (tracemalloc) for our engine."""
    gc.collect()
    tracemalloc.start()
    total = loss_of(model, Value, X, y)
    allocated, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    nodes = len(topological_order(total))
    del total
    forward, backward = [], []
    for _ in range(5):
        gc.collect()
        start = time.perf_counter()
        total = loss_of(model, Value, X, y)
        middle = time.perf_counter()
        total.backward()
        forward.append(middle - start)
        backward.append(time.perf_counter() - middle)
        del total
    return {
        "nodes": nodes,
        "bytes_per_node": allocated / nodes,
        "forward_nodes_per_s": nodes / statistics.median(forward),
        "backward_nodes_per_s": nodes / statistics.median(backward),
    }


def micrograd_bytes_per_node(model: Any, X: Any, y: Any) -> float:
    gc.collect()
    tracemalloc.start()
    total = loss_of(model, micrograd.engine.Value, X, y)
    allocated, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    seen, stack = {id(total)}, [total]
    while stack:
        for child in stack.pop()._prev:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return allocated / len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=7, help="timed steps per engine")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    X, y01 = nn.data.make_moons(100, noise=0.1, seed=0)
    y = y01 * 2 - 1  # labels -1 / +1 for the max-margin loss
    ours, theirs = make_models(args.seed)

    side_by_side: dict[str, list[float]] = {"autograd-lite": [], "micrograd": []}
    for step in range(args.steps):
        lr = 1.0 - 0.9 * step / 100  # the demo's learning-rate schedule
        t_ours, loss_ours = timed(lambda lr=lr: sgd_step(ours, Value, X, y, lr), collect=True)
        t_micro, loss_micro = timed(
            lambda lr=lr: sgd_step(theirs, micrograd.engine.Value, X, y, lr), collect=True
        )
        if abs(loss_ours - loss_micro) > 1e-9 * max(1.0, abs(loss_micro)):
            raise SystemExit(f"step {step}: losses differ: {loss_ours!r} vs {loss_micro!r}")
        side_by_side["autograd-lite"].append(t_ours)
        side_by_side["micrograd"].append(t_micro)

    alone: dict[str, float] = {}
    for name, model, value in (
        ("autograd-lite", ours, Value),
        ("micrograd", theirs, micrograd.engine.Value),
    ):
        gc.collect()
        times = [
            timed(lambda m=model, v=value: sgd_step(m, v, X, y, 0.01), collect=False)[0]
            for _ in range(args.steps + 2)
        ]
        alone[name] = statistics.median(times[2:])  # after two warm-up steps
    gc.collect()

    stats = graph_stats(ours, X, y)
    micro_bytes = micrograd_bytes_per_node(theirs, X, y)
    ours_t = statistics.median(side_by_side["autograd-lite"])
    micro_t = statistics.median(side_by_side["micrograd"])

    print("micrograd demo step: MLP 2-16-16-1, 100 moons points, SVM loss + L2, SGD")
    print(f"graph: {stats['nodes']:,} nodes a step; losses equal at every step\n")
    print(f"{'':34}{'autograd-lite':>15}{'micrograd':>12}{'ratio':>9}")
    print(
        f"{'step, alternating (incl. gc) [s]':34}{ours_t:15.4f}{micro_t:12.4f}"
        f"{micro_t / ours_t:8.1f}x"
    )
    a, m = alone["autograd-lite"], alone["micrograd"]
    print(f"{'step, each alone [s]':34}{a:15.4f}{m:12.4f}{m / a:8.1f}x")
    print(
        f"{'bytes per node (tracemalloc)':34}{stats['bytes_per_node']:15.0f}{micro_bytes:12.0f}"
        f"{micro_bytes / stats['bytes_per_node']:8.1f}x"
    )
    print(f"{'forward nodes / s':34}{stats['forward_nodes_per_s']:15,.0f}")
    print(f"{'backward nodes / s':34}{stats['backward_nodes_per_s']:15,.0f}")


if __name__ == "__main__":
    main()
