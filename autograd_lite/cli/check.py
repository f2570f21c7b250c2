"""``autograd-lite check``: each built-in derivation, closed form against the engine.

The rows are grouped under the section of docs/derivations.md that derives them,
each section with its link (``docs/derivations.md#sigmoid``).
"""

from __future__ import annotations

import argparse

from .common import Subparsers


def cmd_check(args: argparse.Namespace) -> int:
    """Print each derivation, closed form against automatic; 1 if any fails."""
    return 0 if print_check() else 1


def print_check() -> bool:
    """Print the table of derivations; True if every one agrees within tolerance."""
    from nn import derivations

    entries = list(derivations.REGISTRY)
    print(
        f"check: the {len(entries)} derivations of {derivations.DOC}, "
        "closed form (NumPy) vs backward"
    )
    rows = []  # (section, title, max |error| as text, ok, why it could not be computed)
    for entry in entries:
        try:
            row = derivations.check(entry)
            rows.append((row.section, row.title, f"{row.max_abs_error:.1e}", row.ok, ""))
        except Exception as e:  # a broken entry is a failed check, reported on its row
            rows.append((entry.section, entry.title, "error", False, f"{type(e).__name__}: {e}"))
    width = max((len(title) for _, title, *_ in rows), default=10)
    number = max((len(section) for section, *_ in rows), default=4)
    print(f"{'§':{number}}  {'derivation':<{width}}  {'max |error|':>11}  result")
    previous = None
    for section, title, error, ok, why in rows:
        if section != previous:
            known = derivations.SECTIONS.get(section)
            where = f"{known.title}: {known.link}" if known else "not a section of the page"
            print(f"{section} {where}")
            previous = section
        print(f"{section:{number}}  {title:<{width}}  {error:>11}  {'ok' if ok else 'FAIL'}")
        if why:
            print(f"{'':{number + 2}}{why}")
    failed = sum(not row[3] for row in rows)
    if failed:
        print(f"{failed} of {len(rows)} derivations FAIL (tolerance {derivations.TOLERANCE:g})")
    else:
        print(f"all {len(rows)} derivations ok (tolerance {derivations.TOLERANCE:g})")
    return failed == 0


def register(sub: Subparsers) -> None:
    """Add the ``check`` command."""
    check = sub.add_parser(
        "check",
        help="check every derivation of docs/derivations.md against the engine",
        description=(
            "For each result derived in docs/derivations.md, compute the gradient in closed "
            "form with NumPy and with backward on scalar Values, and print the largest "
            "absolute difference, under the section (and its link) that derives it. "
            "Exit status 1 if any differs by more than the tolerance. "
            "To check a derivative of your own, use `autograd-lite verify`."
        ),
    )
    check.set_defaults(func=cmd_check)
