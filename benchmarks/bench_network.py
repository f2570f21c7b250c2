"""How big and how slow is the demo's network view (2-16-16-3, 150 epochs, spirals)?

The targets (issue 15): ``network.html`` of the demo's trained model with its film
≤ 3 MB, built in ≤ 5 s, interactive within 1 s in headless Chromium. The model is
trained as ``autograd-lite demo`` trains it (with compile, for speed: the same
numbers), recording the snapshots ``demo`` records. Reported: the page's size; the
median build time of several rounds with its spread (CPU time of this process and
Graphviz's ``dot``, which lays out the neurons' players, and wall clock); and the
median time from navigation to the end of the page's load event in headless
Chromium (the view's script runs inline, so the view is mounted and drawn by then),
from ``file://``.

Run: ``python benchmarks/bench_network.py [--rounds N]``. Needs Graphviz's ``dot``
and, for the browser figure, Chromium and chromedriver (else it says so and skips it).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nn
import viz
from autograd_lite.cli.train import DEMO, film_every

MAX_BYTES = 3_000_000
MAX_BUILD = 5.0
MAX_INTERACTIVE = 1.0


def cpu_seconds() -> float:
    """CPU time used so far by this process and its finished children (Graphviz's dot)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def demo_run() -> tuple:
    """The demo's data, trained model and recorded history."""
    X, y = nn.data.make_spirals(DEMO["points"], seed=DEMO["seed"])
    model = nn.MLP(2, [*DEMO["hidden"], 3], DEMO["activation"], seed=DEMO["seed"])
    history = nn.train.fit(
        model,
        X,
        y,
        optimizer=nn.optim.Adam(model.parameters(), lr=DEMO["lr"]),
        epochs=DEMO["epochs"],
        batch_size=DEMO["batch_size"],
        seed=DEMO["seed"],
        progress=False,
        compile=True,
        record=film_every(DEMO["epochs"], len(model.parameters())),
    )
    return model, X, y, history


def spread(xs: list[float]) -> str:
    return f"median {statistics.median(xs):.3f} s (min {min(xs):.3f} .. max {max(xs):.3f})"


def time_to_interactive(path: Path, rounds: int) -> list[float] | None:
    """Seconds from navigation to the end of the load event, per round; None without a browser."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from browser import browser_missing, chromium

    reason = browser_missing()
    if reason:
        print(f"time to interactive: skipped ({reason})")
        return None
    seconds = []
    with chromium() as driver:
        for _ in range(rounds):
            driver.get("about:blank")
            driver.get(path.as_uri())
            timing = driver.execute_script(
                "var t = performance.timing, r = document.querySelector("
                "'[data-autograd-lite=network][data-ready]');"
                "return [t.loadEventEnd - t.navigationStart, r !== null];"
            )
            if not timing[1]:
                raise RuntimeError("the view was not mounted by the end of the load event")
            seconds.append(timing[0] / 1000)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed builds and loads (3)")
    args = parser.parse_args()
    model, X, y, history = demo_run()
    wall, cpu, page = [], [], ""
    for _ in range(args.rounds):
        start, start_cpu = time.perf_counter(), cpu_seconds()
        page = viz.network(model, X, y, history=history).html()
        wall.append(time.perf_counter() - start)
        cpu.append(cpu_seconds() - start_cpu)
    size = len(page.encode("utf-8"))
    snapshots = len(history.snapshots)
    print(
        f"network view of the demo (2-16-16-3, {DEMO['epochs']} epochs, {snapshots} "
        f"snapshots): {size / 1e6:.3f} MB (target ≤ {MAX_BYTES / 1e6:g} MB)"
    )
    print(
        f"build, CPU (python + dot): {spread(cpu)} over {args.rounds} rounds "
        f"(target ≤ {MAX_BUILD:g} s)"
    )
    print(f"build, wall-clock: {spread(wall)}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "network.html"
        path.write_text(page, encoding="utf-8")
        loads = time_to_interactive(path, max(args.rounds, 5))
    ok = size <= MAX_BYTES and statistics.median(cpu) <= MAX_BUILD
    if loads is not None:
        print(
            f"time to interactive in headless Chromium (navigation to load end, view "
            f"mounted): {spread(loads)} over {len(loads)} loads (target ≤ {MAX_INTERACTIVE:g} s)"
        )
        ok = ok and statistics.median(loads) <= MAX_INTERACTIVE
    print("within target" if ok else "OVER TARGET")


if __name__ == "__main__":
    main()
