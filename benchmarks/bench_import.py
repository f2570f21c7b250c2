"""How long ``import autograd_lite``, ``nn`` and ``viz`` take, measured by ``python -X importtime``.

Each round starts a fresh interpreter per module, in turn (so a slow moment of
the machine touches every module alike), and reads the cumulative time of the
module's own line in the ``-X importtime`` report: the import alone, without
the interpreter's start-up. The table gives the median over the rounds, the
spread (lowest–highest), and which of the heavy libraries (NumPy, Graphviz's
Python package, matplotlib, tqdm) the import loaded. The heavy libraries'
own import times are measured the same way, for comparison.

Budget: ``import nn`` ≤ 100 ms. nn and viz import NumPy, matplotlib and tqdm
only inside the functions that use them; viz imports graphviz, which it draws
with.

Run: ``make bench`` or ``python benchmarks/bench_import.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout whose packages are measured
MODULES = ("autograd_lite", "nn", "viz")
HEAVY = ("numpy", "graphviz", "matplotlib", "tqdm")
BUDGET_MS = {"nn": 100.0}

# "import time:  self [us] | cumulative | imported package", one line per module.
LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")


def import_once(module: str) -> tuple[float, list[str]]:
    """(cumulative ms of ``import module``, heavy libraries it loaded), in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,  # `-c` puts the working directory first on sys.path: import this checkout
    )
    cumulative = None
    loaded = set()
    for line in result.stderr.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        name = match.group(4)
        if name.split(".")[0] in HEAVY:
            loaded.add(name.split(".")[0])
        if name == module and len(match.group(3)) == 1:  # top level: one space of indent
            cumulative = int(match.group(2)) / 1000.0
    if cumulative is None:
        raise RuntimeError(f"no top-level line for {module} in -X importtime's report")
    return cumulative, sorted(loaded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="fresh interpreters per module")
    args = parser.parse_args(argv)

    names = [*MODULES, *HEAVY]
    times: dict[str, list[float]] = {name: [] for name in names}
    loaded: dict[str, list[str]] = {}
    for _ in range(args.rounds):
        for name in names:
            ms, heavy = import_once(name)
            times[name].append(ms)
            loaded[name] = heavy

    print(f"import time (python -X importtime), median of {args.rounds} fresh interpreters")
    print(f"{'import':<16}{'median [ms]':>12}{'range [ms]':>16}   heavy libraries loaded")
    for name in names:
        values = times[name]
        spread = f"{min(values):.1f}–{max(values):.1f}"
        heavy = ", ".join(h for h in loaded[name] if h != name) or "none"
        if name in HEAVY:
            heavy = "(for comparison)"
        print(f"{name:<16}{statistics.median(values):>12.1f}{spread:>16}   {heavy}")
    for name, budget in BUDGET_MS.items():
        median = statistics.median(times[name])
        verdict = "within" if median <= budget else "OVER"
        print(f"import {name}: {median:.1f} ms, {verdict} the budget of {budget:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
