"""Stage 1 of ``compile``, the trace: one sample's graph recorded as a :class:`Tape`.

``trace`` runs ``loss_fn`` once with the scalar engine and walks the graph it
built, each node one :class:`TapeEntry` (an op of the table and its parents'
positions; a leaf sorted into ``param``, ``x``, ``y`` or a number). The
comparisons ``loss_fn`` made on Values become :class:`Guard` s, which the replay
checks on every row. ``check_row`` runs ``loss_fn`` on another row and compares its
graph with the tape, ``compare_tapes`` says where two samples' tapes differ, and
``rows_to_check`` picks the rows the first call checks. Standard
library only (NumPy is imported inside the functions that take arrays).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from ..value import COMPARISONS, NO_GRAD, Value, _modes, topological_order

LEAVES = ("param", "x", "y", "const", "value")
FIXED = ("const", "value")  # leaves replayed as the number they held when traced


class TapeEntry(NamedTuple):
    """One node of the tape: ``op`` (an op-table name, or for a leaf ``"param"``,
    ``"x"``, ``"y"``, ``"const"`` (a number the engine wrapped, ``Value.is_constant``)
    or ``"value"`` (any other Value: made inside ``loss_fn`` or captured, not in
    ``params``, so replayed as a number without a gradient)), the tape positions of
    its ``parents`` in argument order, and for a leaf its index (param, x, y) or
    its number (const, value)."""

    op: str
    parents: tuple[int, ...]
    leaf: float | int | None = None


class Guard(NamedTuple):
    """A comparison ``loss_fn`` made on Values while traced: ``%a op %b`` (or ``%a op
    number``) came out ``outcome``. The replay checks it on every row of every call:
    a row where it comes out otherwise would take another branch of ``loss_fn``."""

    op: str  # "<", "<=", ">", ">="
    a: int  # tape position of the left Value
    b: int | None  # tape position of the right Value, or None for a number
    number: float  # the right number when b is None
    outcome: bool

    def text(self) -> str:
        right = f"%{self.b}" if self.b is not None else repr(self.number)
        return f"%{self.a} {self.op} {right} is {self.outcome}"


class Tape(list):
    """The recorded program of one sample: a list of :class:`TapeEntry`, parents first;
    the last entry is the loss. ``guards`` are the comparisons made on Values while
    tracing (:class:`Guard`). ``str(tape)`` prints one line per node, then the guards."""

    def __init__(
        self,
        entries: Sequence[TapeEntry] = (),
        labels: Sequence[str] = (),
        guards: Sequence[Guard] = (),
    ) -> None:
        super().__init__(entries)
        self.labels = list(labels)  # the parameters' labels, for printing
        self.guards = list(guards)

    def line(self, i: int) -> str:
        """Node ``i`` as one line: ``%3 = mul %1 %2``, ``%0 = x[0]``, ``%5 = const 2.0``."""
        e = self[i]
        if e.op in FIXED:
            return f"%{i} = {e.op} {e.leaf!r}"
        if e.op in LEAVES:
            name = f"%{i} = {e.op}[{e.leaf}]"
            label = self.labels[e.leaf] if e.op == "param" and e.leaf < len(self.labels) else ""
            return f"{name}  {label}" if label else name
        return f"%{i} = {e.op} " + " ".join(f"%{p}" for p in e.parents)

    def __str__(self) -> str:
        lines = [self.line(i) for i in range(len(self))]
        if self:
            lines.append(f"loss = %{len(self) - 1}")
        lines += [f"guard {g.text()}" for g in self.guards]
        return "\n".join(lines)


def trace(
    loss_fn: Callable[[list[Value], list[Value]], Any],
    params: Sequence[Value],
    x: Sequence[float],
    y: Sequence[float],
    *,
    row: int | None = None,
) -> tuple[Tape, Any]:
    """Run ``loss_fn`` on one sample with the scalar engine and record its graph as a Tape.

    Leaves are sorted by identity: a Value of ``params`` is ``param[k]``, the
    Values given for ``x`` and ``y`` are ``x[j]`` and ``y[j]``; any other leaf
    is recorded by its number, as ``const`` (``is_constant``: a number the engine
    wrapped) or ``value`` (a Value made or captured by ``loss_fn``). Returns the tape and the second
    element of ``loss_fn``'s result when it returns ``(loss, aux)`` (else None).
    """
    sample = _Sample(loss_fn, x, y, row)
    tape, position = _record(sample, params)
    if sample.aux is None:
        return tape, None
    return tape, [_aux_position(a, position) for a in sample.aux_values()]


def check_row(
    tape: Tape,
    loss_fn: Callable[[list[Value], list[Value]], Any],
    params: Sequence[Value],
    x: Sequence[float],
    y: Sequence[float],
    rows: tuple[int, int],
) -> None:
    """Run ``loss_fn`` on the sample of row ``rows[1]`` and raise ValueError (as
    :func:`compare_tapes`) if its tape would differ from ``tape``, traced on row ``rows[0]``.

    The first call checks several rows, so the common case (the same graph) is made
    cheap: :func:`_same_graph` pairs the tape with the new graph without recording it.
    Only when that finds a difference (or cannot tell) is the graph recorded as a Tape,
    for :func:`compare_tapes` to name the first differing node. An aux value that is
    not a node of this row's graph raises as on the traced row.
    """
    sample = _Sample(loss_fn, x, y, rows[1])
    if not _same_graph(tape, sample, params):
        other, position = _record(sample, params)
        compare_tapes(tape, other, rows)
        for a in sample.aux_values():
            _aux_position(a, position)


class _Sample:
    """``loss_fn`` run once on one sample with the scalar engine, recording (even inside
    ``no_grad()``): its ``loss``, ``aux`` (the second element of a ``(loss, aux)``
    result, else None), the Values ``xs`` and ``ys`` it was given, and the
    ``comparisons`` it made on Values, as ``(op, a, b, outcome)``."""

    def __init__(
        self,
        loss_fn: Callable[[list[Value], list[Value]], Any],
        x: Sequence[float],
        y: Sequence[float],
        row: int | None,
    ) -> None:
        self.xs = [Value(float(v), label=f"x[{j}]") for j, v in enumerate(x)]
        self.ys = [Value(float(v), label=f"y[{j}]") for j, v in enumerate(y)]
        where = f" (sample row {row})" if row is not None else ""
        token = _modes.set(_modes.get() & ~NO_GRAD)  # record, even inside no_grad()
        self.comparisons: list[tuple[str, Value, Any, bool]] = []
        recording = COMPARISONS.set(self.comparisons)
        try:
            result = loss_fn(self.xs, self.ys)
        except (ValueError, ArithmeticError) as e:  # an op's domain, or detect_anomaly()
            raise type(e)(f"{e}{where}") from None
        finally:
            COMPARISONS.reset(recording)
            _modes.reset(token)
        self.aux = None
        if isinstance(result, tuple) and len(result) == 2:
            result, self.aux = result
        if not isinstance(result, Value):
            raise TypeError(
                f"compile: loss_fn must return a Value (the loss of one sample), got {result!r}"
            )
        self.loss: Value = result

    def operands(self) -> list[Value]:
        """The Values compared (a number compared with a Value is not one)."""
        return [v for c in self.comparisons for v in c[1:3] if isinstance(v, Value)]

    def aux_values(self) -> list[Any]:
        """The aux values as a list (one Value or a sequence of them; [] without aux)."""
        if self.aux is None:
            return []
        return [self.aux] if isinstance(self.aux, Value) else list(self.aux)


def _record(sample: _Sample, params: Sequence[Value]) -> tuple[Tape, dict[Value, int]]:
    """The tape of ``sample``'s graph, and each node's position (Values are hashed by
    identity)."""
    leaves: dict[Value, tuple[str, int]] = {p: ("param", k) for k, p in enumerate(params)}
    leaves.update({v: ("x", j) for j, v in enumerate(sample.xs)})
    leaves.update({v: ("y", j) for j, v in enumerate(sample.ys)})
    position: dict[Value, int] = {}
    entries: list[TapeEntry] = []
    operands = sample.operands()
    if operands or any(p.parents for p in params):
        seen: set[Value] = set()
        order = _order([sample.loss], leaves, seen)
        # Values compared but not below the loss go in before it: the loss stays last.
        order[-1:-1] = _order(operands, leaves, seen)
    else:
        order = topological_order(sample.loss)
    # One pass over the nodes, written for speed: the plain version is
    #     entries.append(TapeEntry(v.op, tuple(position[p] for p in v.parents)))
    # here the parents are read from _a/_b and the NamedTuple is made by tuple.__new__.
    make = tuple.__new__
    append = entries.append
    for k, v in enumerate(order):
        kind = leaves.get(v)
        a = v._a
        if kind is not None:
            append(make(TapeEntry, (kind[0], (), kind[1])))
        elif a is None:
            append(make(TapeEntry, ("const" if v.is_constant else "value", (), v.data)))
        else:
            b = v._b
            parents = (position[a],) if b is None else (position[a], position[b])
            append(make(TapeEntry, (v.op, parents, None)))
        position[v] = k
    labels = [p.label for p in params]
    guards = list(
        dict.fromkeys(  # each distinct comparison once, in the order made
            Guard(op, position[a], position[b], 0.0, outcome)
            if isinstance(b, Value)
            else Guard(op, position[a], None, float(b), outcome)
            for op, a, b, outcome in sample.comparisons
        )
    )
    return Tape(entries, labels, guards), position


def _same_graph(tape: Tape, sample: _Sample, params: Sequence[Value]) -> bool:
    """True when recording ``sample``'s graph would give ``tape`` again (guards aside: the
    replay checks those on every row); a quick yes/no for the rows the first call checks.

    Walks the tape from the loss down, pairing each position with the Value the new
    graph has there: the loss with the new loss, then each node's parents with the
    new node's parents in argument order. A position reached twice must meet the
    same Value, and each must hold the same op, the same parameter, input or target,
    or the same number; at the end no Value may sit at two positions. Then the two
    graphs are one up to their Values, so their depth-first orders, and their tapes,
    are equal. No position is computed, no entry made. False also when it cannot
    tell this way: a compared Value not below the loss, or a parameter with parents
    (both placed by :func:`_order`), or an aux value not in the graph; then the caller
    records the graph in full.
    """
    if any(p._a is not None for p in params):
        return False
    named: dict[str, Sequence[Value]] = {"param": params, "x": sample.xs, "y": sample.ys}
    leaves: set[Value] | None = None  # the named Values as a set, made for a "value" leaf
    nodes: list[Value | None] = [None] * len(tape)
    nodes[-1] = sample.loss
    k = len(tape)
    # Written for speed (it runs on every node of every checked row): the two parents
    # are paired one after the other, not in a loop over zip(parents, (v._a, v._b)).
    for op, parents, leaf in reversed(tape):
        k -= 1
        v = nodes[k]
        if v is None:  # a compared node, not below the loss
            return False
        if parents:
            if v.op != op:
                return False
            b = v._b
            if len(parents) == 2:
                if b is None:
                    return False
                there = nodes[parents[1]]
                if there is None:
                    nodes[parents[1]] = b
                elif there is not b:
                    return False
            elif b is not None:
                return False
            a = v._a
            there = nodes[parents[0]]
            if there is None:
                nodes[parents[0]] = a
            elif there is not a:
                return False
        elif op in FIXED:
            if v._a is not None or v.is_constant != (op == "const"):
                return False
            if not _same_leaf(v.data, leaf):
                return False
            if op == "value":  # not a parameter, input or target
                leaves = leaves or {u for vs in named.values() for u in vs}
                if v in leaves:
                    return False
        elif v is not named[op][leaf]:
            return False
    placed = set(nodes)  # one Value per position, else the new graph shares a node
    if len(placed) != len(tape):
        return False
    return all(v in placed for v in sample.operands()) and all(
        isinstance(a, Value) and a in placed for a in sample.aux_values()
    )


def _aux_position(a: Any, position: dict[Value, int]) -> int:
    if not isinstance(a, Value) or a not in position:
        raise ValueError(
            "compile: loss_fn's aux values must be Values the loss depends on "
            f"(e.g. the model's outputs), got {a!r}"
        )
    return position[a]


def _order(roots: Sequence[Value], leaves: dict[Value, Any], seen: set[Value]) -> list[Value]:
    """The nodes below ``roots`` not yet ``seen``, each after its parents (as
    ``topological_order``), stopping at parameters (a parameter is a leaf here)."""
    order: list[Value] = []
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack: list[tuple[Value, int]] = [(root, 0)]
        while stack:
            v, i = stack.pop()
            parents = () if v in leaves else v.parents
            if i < len(parents):
                stack.append((v, i + 1))
                p = parents[i]
                if p not in seen:
                    seen.add(p)
                    stack.append((p, 0))
            else:
                order.append(v)
    return order


_WORDS = {"const": "constant", "value": "Value"}


def _same_leaf(a: Any, b: Any) -> bool:
    return a == b or (a != a and b != b)  # NaN equals NaN here


def compare_tapes(first: Tape, second: Tape, rows: tuple[int, int]) -> None:
    """Raise ValueError at the first node where two samples' tapes differ."""
    if first == second:  # the common case, compared in C (a NaN leaf falls through)
        return
    r0, r1 = rows
    for i in range(max(len(first), len(second))):
        a = first[i] if i < len(first) else None
        b = second[i] if i < len(second) else None
        if a is not None and b is not None and a.op == b.op and a.parents == b.parents:
            if _same_leaf(a.leaf, b.leaf):
                continue
            if a.op in FIXED:
                raise ValueError(
                    f"compile: node %{i} is the {_WORDS[a.op]} {a.leaf!r} for sample row {r0} but "
                    f"{b.leaf!r} for row {r1}: loss_fn turns a number of the sample into a "
                    "constant (float(v), v.data, or X/Y read directly); use the Values x and y "
                    "it receives instead"
                )
        one = first.line(i) if a is not None else "(none: the tape ended)"
        two = second.line(i) if b is not None else "(none: the tape ended)"
        raise ValueError(
            f"compile: the graphs of sample rows {r0} and {r1} differ at node %{i} "
            f"({one!r} vs {two!r}): loss_fn branches on the data (an `if` on v.data or a "
            "comparison of Values), so each sample records another graph; write the choice "
            "with an op (relu, max, abs) instead"
        )


CHECKED_ROWS = 8  # rows the first call checks besides the traced one (check_row)


def traced_row(X: Any, Y: Any) -> int:
    """The first row without a NaN (a NaN compares False everywhere, so the branches a
    NaN row takes say nothing of the others), or row 0 when every row has one."""
    import numpy as np

    clean = np.flatnonzero(~(np.isnan(X).any(axis=1) | np.isnan(Y).any(axis=1)))
    return int(clean[0]) if len(clean) else 0


def rows_to_check(X: Any, Y: Any, x0: Any, y0: Any) -> list[int]:
    """Up to CHECKED_ROWS rows, never one with a NaN nor one equal to the traced sample
    (x0, y0): the first row that differs, then the rows that hold the most columns'
    smallest or largest values (a branch on ``v.data > t`` flips at the extremes first)."""
    import numpy as np

    D = np.concatenate([X, Y], axis=1)
    differs = (D != np.concatenate([x0, y0])).any(axis=1) & ~np.isnan(D).any(axis=1)
    rows = np.flatnonzero(differs)
    if not len(rows):
        return []
    sub = D[rows]
    extremes = np.concatenate([sub.argmin(axis=0), sub.argmax(axis=0)])
    counts = np.bincount(extremes, minlength=len(rows))
    counts[0] = len(extremes) + 1  # the first differing row comes first
    ranked = np.argsort(-counts, kind="stable")
    ranked = ranked[counts[ranked] > 0][:CHECKED_ROWS]
    return [int(rows[i]) for i in ranked]
