"""The differential test against PyTorch at a larger size: 10⁵ random graphs by default.

``tests/test_torch_differential.py`` runs 10⁴ graphs (500 structures × 20 points)
in ``make test``. This script runs the same comparison, with the same documented
differences, on more structures and another seed, and prints what it met:

    python benchmarks/torch_differential.py                 # 5,000 × 20 = 10⁵ graphs
    python benchmarks/torch_differential.py --structures 50000 --seed 7

Exit status 0 when every graph agrees, 1 otherwise (the first disagreements are
printed). Needs torch (``make torch-oracle``) and NumPy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np  # noqa: E402
import test_torch_differential as differential  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Compare ``--structures`` × 20 random graphs with torch; 0 when all agree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=int, default=5_000, help="default 5000 (×20 points)")
    parser.add_argument("--seed", type=int, default=20261205)
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("torch is not installed: run `make torch-oracle`", file=sys.stderr)
        return 2
    differential.STRUCTURES = args.structures
    rng = np.random.default_rng(args.seed)
    seen = dict.fromkeys(differential.DIFFERENCES, 0)
    failures: list[str] = []
    start = time.process_time()
    for n_leaves, nodes in differential.structures(rng):
        points = differential.leaf_values(rng, n_leaves)
        theirs = differential.torch_run(torch, n_leaves, nodes, points)
        for s in range(differential.POINTS):
            problem = differential.compare_point(nodes, n_leaves, points[s], theirs, s, seen)
            if problem:
                failures.append(f"{nodes} at {points[s].tolist()}: {problem}")
    graphs = args.structures * differential.POINTS
    print(
        f"{graphs:,} graphs in {time.process_time() - start:.0f} s of CPU; "
        f"documented differences met: {seen}"
    )
    if failures:
        print(f"{len(failures)} disagreements, e.g.:\n" + "\n".join(failures[:10]))
        return 1
    print("every graph agrees with torch (up to the documented differences)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
