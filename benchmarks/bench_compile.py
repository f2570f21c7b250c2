"""compile against its peers on three workloads, n = 1 … 100,000 rows, one thread, CPU time.

Workloads (relu between layers, SGD steps from the same weights):

- ``demo``: micrograd's demo, MLP 2-16-16-1 on two moons, mean hinge loss + 1e-4·Σp²
  (the L2 term written inside ``loss_fn``, computed once per call by the replay);
- ``spirals``: MLP 2-16-16-3 on three spirals, softmax cross-entropy;
- ``digits``: MLP 64-32-10 on scikit-learn's 8×8 digits (tiled to n rows), softmax CE.

Engines, each timed as a user pays a step (zero the grads, the step, the update):

- ``compiled``: ``autograd_lite.compile``, gradients into ``p.grad``, SGD on the Values;
- ``compiled flat``: the same replay on the step's flat array, as ``fit(compile=True)``;
- ``compiled f32``: ``compile(..., dtype="float32")`` (flat);
- ``NumPy floor`` f64 / f32: the hand-written forward + backward of benchmarks/numpy_floor.py;
- ``PyTorch`` f64 / f32 on one thread, when installed (``make torch-oracle``);
- ``JAX jit`` f64, when installed (``pip install jax jaxlib``; optional), on one thread
  (synchronous dispatch);
- ``scalar``: the scalar engine, the graph of the whole batch (up to ``--scalar-max`` rows).

Every engine's first loss must agree with the compiled one (1e-9 relative in
float64, 1e-3 in float32) or the script stops. Rounds alternate the engines'
order; each round times each engine on a block of steps long enough to time
(``--block-ms``); the table gives per-step CPU time (``time.process_time``),
the median over rounds with [min–max], and the ratio to ``compiled flat``.
The goals of issue 18 are summarised at the end, each with the measurement it
was judged on. ``--quick`` is a smoke run (tests/test_bench_compile.py).

One thread: OMP/OPENBLAS/MKL threads are set to 1 before NumPy loads (and checked
with threadpoolctl when installed), XLA's CPU threads before JAX loads. On machines
where OPENBLAS_CORETYPE is set (see the environment's notes) OpenBLAS runs an older
kernel; unset both it and
OPENBLAS_L2_SIZE for that command alone to measure the current one:
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_compile.py``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread, before NumPy (and torch) load
# JAX (XLA on the CPU) on one thread too, before it loads
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "")
    + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
).strip()

import argparse  # noqa: E402
import gc  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from numpy_floor import Floor  # noqa: E402

import autograd_lite as ag  # noqa: E402
import nn  # noqa: E402
from autograd_lite import Value  # noqa: E402

L2 = 1e-4
LR = 0.05
WORKLOADS = {
    "demo": ("MLP 2-16-16-1, hinge + 1e-4·Σp²", [2, 16, 16, 1], "hinge"),
    "spirals": ("MLP 2-16-16-3, softmax CE", [2, 16, 16, 3], "softmax_cross_entropy"),
    "digits": ("MLP 64-32-10, softmax CE", [64, 32, 10], "softmax_cross_entropy"),
}


def data(workload: str, n: int) -> tuple[Any, Any]:
    """n rows of the workload's data: X, and Y (±1 for the hinge, one-hot else)."""
    if workload == "demo":
        X, y = nn.data.make_moons(max(n, 2), noise=0.1, seed=0)
        return X[:n], (y[:n] * 2.0 - 1.0)[:, None]
    if workload == "spirals":
        X, y = nn.data.make_spirals(max(n, 3), seed=0)
        return X[:n], np.eye(3)[y[:n]]
    X, y = nn.data.load_digits()
    reps = -(-n // len(X))
    return np.tile(X / 16.0, (reps, 1))[:n], np.eye(10)[np.tile(y, reps)[:n]]


def model(workload: str) -> nn.MLP:
    sizes = WORKLOADS[workload][1]
    return nn.MLP(sizes[0], sizes[1:], "relu", seed=1)


def layers(m: nn.MLP) -> list[tuple[Any, Any]]:
    return [
        ([[w.data for w in u.w] for u in layer.neurons], [u.b.data for u in layer.neurons])
        for layer in m.layers
    ]


def loss_fn(workload: str, m: nn.MLP) -> Callable[[list[Value], list[Value]], Value]:
    params = m.parameters()
    if workload == "demo":
        return lambda x, y: (1 + -y[0] * m(x)).relu() + L2 * sum(p * p for p in params)
    return lambda x, y: nn.softmax_cross_entropy(m(x), y)


class Compiled:
    """compile's step as a user pays it: zero the grads, step(X, Y), SGD on the Values."""

    def __init__(self, workload: str, X: Any, Y: Any, flat: bool, dtype: str = "float64"):
        self.m = model(workload)
        self.params = self.m.parameters()
        self.step_fn = ag.compile(loss_fn(workload, self.m), self.params, dtype=dtype)
        self.X, self.Y, self.flat = X, Y, flat

    def step(self) -> float:
        if self.flat:
            loss, grad = self.step_fn.flat(self.X, self.Y)
            self.step_fn.theta -= LR * grad
            return loss
        for p in self.params:
            p.grad = 0.0
        loss = self.step_fn(self.X, self.Y)
        for p in self.params:
            p.data -= LR * p.grad
        return loss


class Scalar:
    """The scalar engine: the graph of the whole batch, every step."""

    def __init__(self, workload: str, X: Any, Y: Any) -> None:
        self.m = model(workload)
        self.fn = loss_fn(workload, self.m)
        self.workload = workload
        self.rows = [([float(v) for v in x], [float(v) for v in y]) for x, y in zip(X, Y)]

    def step(self) -> float:
        params = self.m.parameters()
        if self.workload == "demo":  # micrograd's demo: the L2 term once, not per sample
            losses = [(1 + -y[0] * self.m([Value(v) for v in x])).relu() for x, y in self.rows]
        else:
            losses = [self.fn([Value(v) for v in x], [Value(v) for v in y]) for x, y in self.rows]
        total = sum(losses[1:], losses[0]) * (1.0 / len(losses))
        if self.workload == "demo":
            total = total + L2 * sum(p * p for p in params)
        for p in params:
            p.grad = 0.0
        total.backward()
        for p in params:
            p.data -= LR * p.grad
        return total.data


class NumpyFloor:
    def __init__(self, workload: str, X: Any, Y: Any, dtype: Any) -> None:
        loss = WORKLOADS[workload][2]
        self.floor = Floor(layers(model(workload)), loss, L2 if loss == "hinge" else 0.0, dtype)
        self.X, self.Y = X.astype(dtype), Y.astype(dtype)

    def step(self) -> float:
        return self.floor.step(self.X, self.Y, LR)


class Torch:
    """PyTorch on one thread: one matrix product per layer, autograd, SGD."""

    def __init__(self, workload: str, X: Any, Y: Any, dtype: str) -> None:
        import torch

        self.torch, self.hinge = torch, WORKLOADS[workload][2] == "hinge"
        t = getattr(torch, dtype)
        self.X, self.Y = torch.tensor(X, dtype=t), torch.tensor(Y, dtype=t)
        self.labels = self.Y.argmax(dim=1)
        self.params = [
            torch.tensor(a, dtype=t, requires_grad=True)
            for pair in layers(model(workload))
            for a in pair
        ]

    def step(self) -> float:
        torch, ps = self.torch, self.params
        h = self.X
        for k in range(0, len(ps), 2):
            h = h @ ps[k].T + ps[k + 1]
            if k + 2 < len(ps):
                h = torch.relu(h)
        if self.hinge:
            loss = torch.relu(1 - self.Y * h).mean() + L2 * sum((p * p).sum() for p in ps)
        else:
            loss = torch.nn.functional.cross_entropy(h, self.labels)
        for p in ps:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in ps:
                p -= LR * p.grad
        return float(loss.detach())


class Jax:
    """JAX: value_and_grad and the SGD update under one jit, float64."""

    def __init__(self, workload: str, X: Any, Y: Any) -> None:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        # One thread: with async dispatch (the default) XLA runs a step on a second
        # thread while Python waits, and the process's CPU time counts both (and the
        # waiting thread's wake-ups): 2× a step's work, and unsteady from run to run.
        jax.config.update("jax_cpu_enable_async_dispatch", False)
        hinge = WORKLOADS[workload][2] == "hinge"

        def loss(ps: list[Any], X: Any, Y: Any) -> Any:
            h = X
            for k in range(0, len(ps), 2):
                h = h @ ps[k].T + ps[k + 1]
                if k + 2 < len(ps):
                    h = jnp.maximum(h, 0.0)
            if hinge:
                return jnp.maximum(1 - Y * h, 0.0).mean() + L2 * sum((p * p).sum() for p in ps)
            lse = jax.scipy.special.logsumexp(h, axis=1)
            return (lse - (h * Y).sum(axis=1)).mean()

        @jax.jit
        def update(ps: list[Any], X: Any, Y: Any) -> Any:
            value, grads = jax.value_and_grad(loss)(ps, X, Y)
            return value, [p - LR * g for p, g in zip(ps, grads)]

        self.update = update
        self.X, self.Y = jnp.asarray(X, dtype=jnp.float64), jnp.asarray(Y, dtype=jnp.float64)
        self.params = [
            jnp.asarray(a, dtype=jnp.float64) for pair in layers(model(workload)) for a in pair
        ]

    def step(self) -> float:
        value, self.params = self.update(self.params, self.X, self.Y)
        return float(value)  # waits for the result


def measure(engines: dict[str, Any], rounds: int, block: float) -> dict[str, list[float]]:
    """Per-step CPU seconds of each engine, round after round, in alternating order."""
    reps = {}
    for name, engine in engines.items():  # warm up (compile traces, jit compiles) and size
        engine.step()
        start = time.process_time()
        engine.step()
        reps[name] = max(1, min(2000, int(block / max(time.process_time() - start, 1e-6))))
    times: dict[str, list[float]] = {k: [] for k in engines}
    for r in range(rounds):
        for name in list(engines) if r % 2 == 0 else list(reversed(engines)):
            engine = engines[name]
            gc.collect()
            gc.disable()  # as nn.train.fit: no engine pays for another's garbage
            start = time.process_time()
            for _ in range(reps[name]):
                engine.step()
            times[name].append((time.process_time() - start) / reps[name])
            gc.enable()
    return times


def first_losses_agree(fresh: dict[str, Any]) -> None:
    """Every engine's first loss (fresh weights) against compiled's: stop if one differs."""
    losses = {name: engine.step() for name, engine in fresh.items()}
    ref = losses["compiled"]
    for name, loss in losses.items():
        tol = 1e-3 if "f32" in name else 1e-9
        if abs(loss - ref) > tol * max(1.0, abs(ref)):
            raise SystemExit(f"{name}: first loss {loss!r} differs from compiled {ref!r}")


def engines_for(workload: str, n: int, args: Any, torch: Any, jax: Any) -> dict[str, Any]:
    X, Y = data(workload, n)
    engines: dict[str, Any] = {
        "compiled": Compiled(workload, X, Y, flat=False),
        "compiled flat": Compiled(workload, X, Y, flat=True),
        "compiled f32": Compiled(workload, X, Y, flat=True, dtype="float32"),
        "NumPy floor": NumpyFloor(workload, X, Y, np.float64),
        "NumPy floor f32": NumpyFloor(workload, X, Y, np.float32),
    }
    if torch is not None:
        engines["PyTorch"] = Torch(workload, X, Y, "float64")
        engines["PyTorch f32"] = Torch(workload, X, Y, "float32")
    if jax is not None:
        engines["JAX jit"] = Jax(workload, X, Y)
    if n <= args.scalar_max:
        engines["scalar"] = Scalar(workload, X, Y)
    return engines


def first_call(width: int, repeats: int) -> tuple[float, float]:
    """CPU seconds of compile's first call (trace, check, plan, run) on an MLP 2-w-w-1 hinge
    on 100 rows, and of one scalar forward + backward of one sample."""
    m = nn.MLP(2, [width, width, 1], seed=1)
    X, y = nn.data.make_moons(100, noise=0.1, seed=0)
    Y = y * 2.0 - 1.0
    fn = lambda x, t: (1 + -t[0] * m(x)).relu()  # noqa: E731
    firsts, scalars = [], []
    for _ in range(repeats):
        step = ag.compile(fn, m.parameters())
        start = time.process_time()
        step(X, Y)
        firsts.append(time.process_time() - start)
        start = time.process_time()
        fn([Value(X[0, 0]), Value(X[0, 1])], [Value(Y[0])]).backward()
        scalars.append(time.process_time() - start)
    return statistics.median(firsts), statistics.median(scalars)


def memory_per_row(workload: str, n: int) -> tuple[float, float]:
    """(bytes per row the program holds: values and gradients, peak bytes per row that a
    step allocates beyond them), float64, measured with tracemalloc on a second call."""
    import tracemalloc

    X, Y = data(workload, n)
    engine = Compiled(workload, X, Y, flat=True)
    engine.step()  # the buffers for n rows are made here
    tracemalloc.start()
    engine.step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    held = 2 * engine.step_fn.program.width[0] * 8
    return held, peak / n


def main(argv: list[str] | None = None) -> dict[tuple[str, int], dict[str, list[float]]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--sizes", default="1,10,100,1000,10000,100000", help="batch sizes")
    parser.add_argument("--workloads", default="demo,spirals,digits")
    parser.add_argument(
        "--scalar-max", type=int, default=100, help="largest n for the scalar engine"
    )
    parser.add_argument("--block-ms", type=float, default=50.0, help="each engine's block, a round")
    parser.add_argument("--no-peers", action="store_true", help="without PyTorch and JAX")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round, tiny blocks")
    parser.add_argument(
        "--markdown", action="store_true", help="also the goals as docs/compile.md's table"
    )
    args = parser.parse_args(argv)
    if args.quick:  # sizes 1 and 10 unless given
        args.rounds, args.block_ms, args.scalar_max = 1, 1.0, 10
        if args.sizes == parser.get_default("sizes"):
            args.sizes = "1,10"
    torch = jax = None
    if not args.no_peers:
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:
            torch = None
        try:
            import jax
        except ImportError:
            jax = None
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(
            f"{i['internal_api']} {i.get('architecture', '?')} ×{i['num_threads']}"
            for i in threadpool_info()
        )
    except ImportError:
        blas = "threadpoolctl not installed"
    print(
        f"per-step CPU time [ms], median of {args.rounds} alternating rounds [min–max]; "
        f"÷ flat: this engine's time over compiled flat's"
    )
    print(
        f"NumPy {np.__version__}; BLAS: {blas}; OPENBLAS_CORETYPE="
        f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}"
    )
    results = {}
    for workload in args.workloads.split(","):
        print(f"\n{workload}: {WORKLOADS[workload][0]}")
        for n in [int(s) for s in args.sizes.split(",")]:
            engines = engines_for(workload, n, args, torch, jax)
            first_losses_agree(engines_for(workload, n, args, torch, jax))
            times = measure(engines, args.rounds, args.block_ms / 1e3)
            results[(workload, n)] = times
            base = statistics.median(times["compiled flat"])
            print(f"  n = {n:,}")
            for name, t in times.items():
                med = statistics.median(t)
                spread = f"[{min(t) * 1e3:.3f}–{max(t) * 1e3:.3f}]"
                print(f"    {name:18}{med * 1e3:11.3f}  {spread:24}{med / base:9.2f}")
    summary(results)
    if args.markdown:
        summary(results, markdown=True)
    if not args.quick:
        n = max(int(s) for s in args.sizes.split(","))
        print(f"\nmemory per row (float64, n = {n:,}): held by the program + a step's peak")
        for workload in args.workloads.split(","):
            held, peak = memory_per_row(workload, n)
            print(f"  {workload:8}{held:8.0f} B held + {peak:6.0f} B allocated by a step")
        print("\nfirst call (trace + check + plan + run, 100 rows) ÷ one scalar forward+backward")
        for width in (16, 64, 256):
            first, scalar = first_call(width, 3)
            print(
                f"  MLP 2-{width}-{width}-1: {first * 1e3:.1f} ms ÷ {scalar * 1e3:.2f} ms = "
                f"{first / scalar:.1f}×"
            )
    return results


def summary(results: dict[tuple[str, int], dict[str, list[float]]], markdown: bool = False) -> None:
    """Issue 18's goals, each ratio a median over rounds (≤ 1.5 means within 1.5×; a
    peer's time over ours > 1 means ours is faster), for the step paid with Values
    (``cmp``) and the flat step as ``fit(compile=True)`` pays it (``flat``).
    ``markdown``: the same as the table docs/compile.md quotes."""
    med = statistics.median
    peers = [("PyTorch", "torch"), ("JAX jit", "jax")]
    rows = []
    for (workload, n), t in results.items():
        floor = med(t["NumPy floor"])
        ratios = [
            med(t["compiled"]) / floor,
            med(t["compiled flat"]) / floor,
            med(t["compiled f32"]) / med(t["NumPy floor f32"]),
        ] + [
            med(t[name]) / med(t[ours]) if name in t else None
            for name, _ in peers
            for ours in ("compiled", "compiled flat")
        ]
        rows.append((workload, n, med(t["compiled flat"]) * 1e3, ratios))
    if markdown:
        print(
            "\n| workload | n | flat step [ms] | Values step ÷ floor | flat step ÷ floor "
            "| f32 ÷ f32 floor | PyTorch ÷ Values step | PyTorch ÷ flat | JAX ÷ Values step "
            "| JAX ÷ flat |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        )
        for workload, n, ms, ratios in rows:
            cells = " | ".join("—" if r is None else f"{r:.2f}" for r in ratios)
            print(f"| {workload} | {n:,} | {ms:.3f} | {cells} |")
        return
    print("\ngoals (ratios of medians; cmp = a step paid with Values, flat = as fit):")
    head = "".join(f"{f'{p}/{ours}':>11}" for _, p in peers for ours in ("cmp", "flat"))
    print(f"  {'workload':9}{'n':>8}{'cmp/floor':>11}{'flat/floor':>11}{'f32/floor32':>12}{head}")
    for workload, n, _, ratios in rows:
        cells = "".join(f"{'—':>11}" if r is None else f"{r:11.2f}" for r in ratios[3:])
        print(f"  {workload:9}{n:>8,}{ratios[0]:11.2f}{ratios[1]:11.2f}{ratios[2]:12.2f}" + cells)


if __name__ == "__main__":
    main()
