"""How big and how slow is a player of a 500-node graph (the default ``max_nodes``)?

The target: a 500-Value player page under 1 MB, built in under 1 s (Graphviz's
layout included). The graph is an MLP's loss on one point, as ``nn`` builds it
(parameters labelled ``L0.N3.w1``), grown to exactly 500 Values with a chain of
tanh neurons, so it looks like what a student draws. Reported: the page's size,
and the median build time of several rounds with its spread (min .. max), as
wall-clock time and as CPU time (this process plus Graphviz's ``dot``): on a
shared machine the wall clock also counts the waits for a core, the CPU time
does not.

Run: ``make bench`` or ``python benchmarks/bench_player.py [--rounds N]``.
Needs Graphviz's ``dot``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import viz
from autograd_lite import Value, topological_order

TARGET_NODES = 500
MAX_BYTES = 1_000_000
MAX_SECONDS = 1.0


def graph(nodes: int = TARGET_NODES) -> Value:
    """A loss of exactly ``nodes`` Values: tanh neurons of 2 inputs, chained, then squared."""
    h = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    k = 0
    # Each neuron adds 8 Values (w0, w1, b, two products, two sums, tanh).
    while len(topological_order((h[-1] - 1.0) ** 2)) + 8 <= nodes:
        w0, w1 = Value(0.3, label=f"L{k}.N0.w0"), Value(-0.2, label=f"L{k}.N0.w1")
        b = Value(0.1, label=f"L{k}.N0.b")
        h.append((b + w0 * h[-2] + w1 * h[-1]).tanh())
        k += 1
    loss = (h[-1] - 1.0) ** 2
    n = len(topological_order(loss))
    while n < nodes:  # top up with one op at a time
        loss = loss * 1.0 if nodes - n >= 2 else -loss
        n = len(topological_order(loss))
    loss.label = "L"
    loss.backward()
    return loss


def cpu_seconds() -> float:
    """CPU time used so far by this process and its finished children (Graphviz's dot)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed builds (default 5)")
    args = parser.parse_args()
    root = graph()
    n = len(topological_order(root))
    times, cpu, size = [], [], 0
    for _ in range(args.rounds):
        start, start_cpu = time.perf_counter(), cpu_seconds()
        page = viz.player(root).html()
        times.append(time.perf_counter() - start)
        cpu.append(cpu_seconds() - start_cpu)
        size = len(page.encode("utf-8"))
    print(f"player of {n} Values: {size / 1e6:.3f} MB (target < {MAX_BYTES / 1e6:g} MB)")
    for what, xs in (("wall-clock", times), ("CPU (python + dot)", cpu)):
        print(
            f"build time, {what}: median {statistics.median(xs):.3f} s over {args.rounds} "
            f"rounds (min {min(xs):.3f} .. max {max(xs):.3f}; target < {MAX_SECONDS:g} s)"
        )
    ok = size < MAX_BYTES and statistics.median(cpu) < MAX_SECONDS
    print("within target" if ok else "OVER TARGET")


if __name__ == "__main__":
    main()
