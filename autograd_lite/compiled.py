"""``compile``: trace one sample's graph once, then replay it for a whole batch with NumPy.

The scalar engine builds the same graph for every sample of every step: an MLP's
loss on 100 points is 100 copies of one sample's graph, each node a Python
object. ``compile`` records that graph *once*, as a *tape* (a list of ops and the
positions of their arguments, with the leaves sorted into parameters, inputs
``x``, targets ``y`` and constants), and then runs the tape on all samples at
once, each tape node becoming one column of a NumPy array with a row per sample.

Running the tape one NumPy call per node is only ~20× faster than the scalar
engine: a NumPy call costs a microsecond whatever its size. What makes it fast
is doing *fewer, bigger* calls:

1. **Grouping.** Nodes at the same topological level (the longest path from a
   leaf) that apply the same op run as one call on a block of columns.
2. **Fused sums.** A chain of additions ``((b + t0) + t1) + ...`` whose partial
   sums are used nowhere else is one n-ary sum (its gradient reaches every term
   unchanged, so nothing is lost).
3. **Matrix products.** The terms ``w·v`` of such sums, with ``w`` computed from
   parameters only and ``v`` from the sample, are what a layer ``W·h + b`` is
   made of: all sums of a level together are one matrix product.
4. **Parameter-only values** (an L2 penalty written inside ``loss_fn``) do not
   depend on the sample: they are computed once per call, not once per row.

The scalar engine stays the reference: each op's vectorised forward and local
derivatives (:func:`vector_ops`) are tested against the op table's on the same
points, and a zero local derivative contributes exactly 0 even against an
infinite gradient, as in ``backward``. Only first derivatives: the replay has
no ``create_graph``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from .ops import OPS
from .value import ANOMALY, COMPARISONS, NO_GRAD, Value, _modes, topological_order

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
    xs = [Value(float(v), label=f"x[{j}]") for j, v in enumerate(x)]
    ys = [Value(float(v), label=f"y[{j}]") for j, v in enumerate(y)]
    where = f" (sample row {row})" if row is not None else ""
    token = _modes.set(_modes.get() & ~NO_GRAD)  # record, even inside no_grad()
    comparisons: list[tuple[str, Value, Any, bool]] = []
    recording = COMPARISONS.set(comparisons)
    try:
        result = loss_fn(xs, ys)
    except (ValueError, ArithmeticError) as e:  # an op's domain, or detect_anomaly()
        raise type(e)(f"{e}{where}") from None
    finally:
        COMPARISONS.reset(recording)
        _modes.reset(token)
    aux = None
    if isinstance(result, tuple) and len(result) == 2:
        result, aux = result
    if not isinstance(result, Value):
        raise TypeError(
            f"compile: loss_fn must return a Value (the loss of one sample), got {result!r}"
        )
    leaves: dict[int, tuple[str, int]] = {id(p): ("param", k) for k, p in enumerate(params)}
    leaves.update({id(v): ("x", j) for j, v in enumerate(xs)})
    leaves.update({id(v): ("y", j) for j, v in enumerate(ys)})
    position: dict[int, int] = {}
    entries: list[TapeEntry] = []
    operands = [v for c in comparisons for v in c[1:3] if isinstance(v, Value)]
    if operands or any(p.parents for p in params):
        seen: set[int] = set()
        order = _order([result], leaves, seen)
        # Values compared but not below the loss go in before it: the loss stays last.
        order[-1:-1] = _order(operands, leaves, seen)
    else:
        order = topological_order(result)
    for v in order:
        kind = leaves.get(id(v))
        if kind is not None:
            entries.append(TapeEntry(kind[0], (), kind[1]))
        elif not v.parents:
            entries.append(TapeEntry("const" if v.is_constant else "value", (), v.data))
        else:
            entries.append(TapeEntry(v.op, tuple(position[id(p)] for p in v.parents)))
        position[id(v)] = len(entries) - 1
    labels = [p.label for p in params]
    guards = list(
        dict.fromkeys(  # each distinct comparison once, in the order made
            Guard(op, position[id(a)], position[id(b)], 0.0, outcome)
            if isinstance(b, Value)
            else Guard(op, position[id(a)], None, float(b), outcome)
            for op, a, b, outcome in comparisons
        )
    )
    aux_nodes = None
    if aux is not None:
        aux_list = [aux] if isinstance(aux, Value) else list(aux)
        aux_nodes = [_aux_position(a, position) for a in aux_list]
    return Tape(entries, labels, guards), aux_nodes


def _aux_position(a: Any, position: dict[int, int]) -> int:
    if not isinstance(a, Value) or id(a) not in position:
        raise ValueError(
            "compile: loss_fn's aux values must be Values the loss depends on "
            f"(e.g. the model's outputs), got {a!r}"
        )
    return position[id(a)]


def _order(roots: Sequence[Value], leaves: dict[int, Any], seen: set[int]) -> list[Value]:
    """The nodes below ``roots`` not yet ``seen``, each after its parents (as
    ``topological_order``), stopping at parameters (a parameter is a leaf here)."""
    order: list[Value] = []
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack: list[tuple[Value, int]] = [(root, 0)]
        while stack:
            v, i = stack.pop()
            parents = () if id(v) in leaves else v.parents
            if i < len(parents):
                stack.append((v, i + 1))
                p = parents[i]
                if id(p) not in seen:
                    seen.add(id(p))
                    stack.append((p, 0))
            else:
                order.append(v)
    return order


_WORDS = {"const": "constant", "value": "Value"}


def _same_leaf(a: Any, b: Any) -> bool:
    return a == b or (a != a and b != b)  # NaN equals NaN here


def compare_tapes(first: Tape, second: Tape, rows: tuple[int, int]) -> None:
    """Raise ValueError at the first node where two samples' tapes differ."""
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


# ---------------------------------------------------------------------------
# The vectorised op table: each op of OPS on NumPy arrays, with the same domain.


class VectorOp(NamedTuple):
    """An op on arrays: ``forward(*xs)``, ``rule(out, *xs)`` (the local derivatives,
    as in the op table) and ``bad(out, *xs)``: where the scalar forward raises."""

    forward: Callable[..., Any]
    rule: Callable[..., tuple[Any, ...]]
    bad: Callable[..., Any] | None = None


_VECTOR_OPS: dict[str, VectorOp] = {}
_add: Any = None  # numpy.add, set by vector_ops()


def vector_ops() -> dict[str, VectorOp]:
    """The op table on NumPy float64 arrays (NumPy is imported here, on first use).

    Call under ``np.errstate(all="ignore")``: domain errors are found by ``bad``
    and re-raised by the scalar op itself, so the messages are the engine's.
    """
    global _add
    if _VECTOR_OPS:
        return _VECTOR_OPS
    import numpy as np

    _add = np.add
    inf = math.inf

    def overflow(out: Any, *xs: Any) -> Any:  # a finite input gave an infinite result
        finite = np.isfinite(xs[0])
        for x in xs[1:]:
            finite = finite & np.isfinite(x)
        return np.isinf(out) & finite

    def power(x: Any, k: Any) -> Any:  # x^k, with 0^k = +inf for k < 0 (the op table's pole)
        return np.where((x == 0) & (k < 0), inf, x**k)

    def pow_rule(out: Any, x: Any, k: Any) -> tuple[Any, Any]:
        p = power(x, k - 1.0)
        d = np.where(np.isinf(p) & np.isfinite(x) & (x != 0), k * out / x, k * p)  # overflow
        return np.where(k == 0, 0.0, d), 0.0

    def pow_bad(out: Any, x: Any, k: Any) -> Any:
        return ((x < 0) & (k != np.floor(k))) | ((x == 0) & (k < 0)) | overflow(out, x, k)

    def powv_rule(out: Any, x: Any, y: Any) -> tuple[Any, Any]:
        # Base 0 (y ≥ 0): d/dx = y·0^(y−1) (0 at y = 0), d/dy = 0, as the op table.
        zero = x == 0
        dx = np.where(zero, np.where(y == 0, 0.0, y * power(x, y - 1.0)), y * out / x)
        return dx, np.where(zero, 0.0, out * np.log(x))

    def sigmoid(x: Any) -> Any:  # the two branches of the op table, through e = exp(−|x|)
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def max_rule(out: Any, x: Any, y: Any) -> tuple[Any, Any]:
        # 1 to the larger side, ½ each at a tie, 1 to both with a NaN
        tie_or_nan = np.where(x == y, 0.5, 1.0)
        return np.where(x > y, 1.0, np.where(x < y, 0.0, tie_or_nan)), np.where(
            x > y, 0.0, np.where(x < y, 1.0, tie_or_nan)
        )

    def sign(x: Any) -> Any:  # 1, −1, and 0 at 0 and for NaN
        return np.where(x > 0, 1.0, np.where(x < 0, -1.0, 0.0))

    table = {
        "add": VectorOp(np.add, lambda out, x, y: (1.0, 1.0)),
        "sub": VectorOp(np.subtract, lambda out, x, y: (1.0, -1.0)),
        "neg": VectorOp(np.negative, lambda out, x: (-1.0,)),
        "mul": VectorOp(np.multiply, lambda out, x, y: (y, x)),
        "div": VectorOp(np.divide, lambda out, x, y: (1.0 / y, -out / y), lambda o, x, y: y == 0),
        "pow": VectorOp(np.power, pow_rule, pow_bad),
        "powv": VectorOp(
            np.power,
            powv_rule,
            lambda out, x, y: (x < 0) | ((x == 0) & (y < 0)) | overflow(out, x, y),
        ),
        "exp": VectorOp(np.exp, lambda out, x: (out,), overflow),
        "log": VectorOp(np.log, lambda out, x: (1.0 / x,), lambda out, x: x <= 0),
        "tanh": VectorOp(np.tanh, lambda out, x: (1.0 - out * out,)),
        "sigmoid": VectorOp(sigmoid, lambda out, x: (out * (1.0 - out),)),
        "relu": VectorOp(
            lambda x: np.where(x <= 0, 0.0, x), lambda out, x: (np.where(x <= 0, 0.0, 1.0),)
        ),
        "max": VectorOp(lambda x, y: np.where((x < y) | (y != y), y, x), max_rule),
        "abs": VectorOp(np.abs, lambda out, x: (sign(x),)),
        "sin": VectorOp(np.sin, lambda out, x: (np.cos(x),), lambda out, x: np.isinf(x)),
        "cos": VectorOp(np.cos, lambda out, x: (-np.sin(x),), lambda out, x: np.isinf(x)),
        "sqrt": VectorOp(
            np.sqrt,
            lambda out, x: (0.5 / out,),  # ±inf at ±0, as the op table
            lambda out, x: x < 0,
        ),
    }
    _VECTOR_OPS.update(table)
    return _VECTOR_OPS


# ---------------------------------------------------------------------------
# Building the replay: fusion, levels, groups, columns.


class _Node:
    """A node of the replay program (after fusion).

    kind: "leaf", "op" or "sum". A sum has ``terms`` (same space as the sum),
    ``lin`` pairs (w, v): w parameter-only, v per-sample, and ``bias`` (one
    parameter-only node added to a per-sample sum, or None).
    """

    __slots__ = ("kind", "op", "args", "terms", "lin", "bias", "static", "tape", "level")

    def __init__(self, kind: str, static: bool, tape: int | None = None) -> None:
        self.kind = kind
        self.static = static
        self.tape = tape
        self.op = ""
        self.args: list[int] = []
        self.terms: list[int] = []
        self.lin: list[tuple[int, int]] = []
        self.bias: int | None = None
        self.level = 0

    def inputs(self) -> list[int]:
        if self.kind == "op":
            return self.args
        out = list(self.terms)
        for w, v in self.lin:
            out += (w, v)
        if self.bias is not None:
            out.append(self.bias)
        return out


def _fuse(tape: Tape, keep: Sequence[int] = ()) -> tuple[list[_Node], list[bool]]:
    """The replay's nodes: add chains fused into sums, w·v terms and bias split off.

    The nodes of ``keep`` (and the loss) are never fused away: their values are read.
    """
    n = len(tape)
    static = [False] * n
    uses = [0] * n
    uses[-1] = 1  # the loss
    for i in keep:
        uses[i] += 1
    for i, e in enumerate(tape):
        if e.op in LEAVES:
            static[i] = e.op == "param" or e.op in FIXED
        else:
            static[i] = all(static[p] for p in e.parents)
            for p in e.parents:
                uses[p] += 1
    nodes: list[_Node | None] = [None] * n
    sums: dict[int, list[int]] = {}
    absorbed = [False] * n
    for i, e in enumerate(tape):
        if e.op in LEAVES:
            nodes[i] = _Node("leaf", static[i], i)
            continue
        if e.op != "add":
            node = _Node("op", static[i], i)
            node.op, node.args = e.op, list(e.parents)
            nodes[i] = node
            continue
        terms: list[int] = []
        for p in e.parents:
            if tape[p].op == "add" and uses[p] == 1 and static[p] == static[i]:
                part = sums.pop(p)
                absorbed[p] = True
                if terms:
                    terms.extend(part)
                else:
                    terms = part  # steal the chain's list: a long chain stays linear
            else:
                terms.append(p)
        sums[i] = terms
    extra: list[_Node] = []
    for i, terms in sums.items():
        node = _Node("sum", static[i], i)
        nodes[i] = node
        if static[i]:
            node.terms = terms
            continue
        fixed = []
        for t in terms:
            e = tape[t]
            if static[t]:
                fixed.append(t)
            elif e.op == "mul" and uses[t] == 1 and static[e.parents[0]] != static[e.parents[1]]:
                a, b = e.parents
                node.lin.append((a, b) if static[a] else (b, a))
                absorbed[t] = True
            else:
                node.terms.append(t)
        if len(fixed) == 1:
            node.bias = fixed[0]
        elif fixed:
            bias = _Node("sum", True)
            bias.terms = fixed
            node.bias = n + len(extra)
            extra.append(bias)
    program = [node if not absorbed[i] else None for i, node in enumerate(nodes)] + extra
    needs = [False] * len(program)
    for i, e in enumerate(tape):  # a node needs a gradient if a parameter is below it
        needs[i] = e.op == "param" or any(needs[p] for p in e.parents)
    for j, node in enumerate(extra):
        needs[n + j] = any(needs[t] for t in node.terms)
    # Levels: the longest path from a leaf. Extra nodes read only tape nodes.
    order = [i for i in range(n + len(extra)) if program[i] is not None]
    order.sort(key=lambda i: (i >= n, i))
    _levels(program, order)
    return program, needs


def _levels(program: list[_Node | None], order: list[int]) -> None:
    done: set[int] = set()
    pending = list(order)
    while pending:  # extra nodes come last in order but may feed earlier sums: iterate
        later = []
        for i in pending:
            node = program[i]
            inputs = node.inputs() if node.kind != "leaf" else []
            if any(j not in done for j in inputs):
                later.append(i)
                continue
            node.level = 1 + max((program[j].level for j in inputs), default=-1)
            done.add(i)
        if len(later) == len(pending):
            raise RuntimeError("compile: cyclic tape")  # cannot happen for a traced graph
        pending = later


def _finite(a: Any) -> bool:
    """All entries finite? (One reduction: a NaN or an infinity makes the sum non-finite;
    a finite sum that overflows only sends the caller to its careful path.)"""
    return math.isfinite(_add.reduce(a, axis=None))


class _Columns:
    """A gather from (or a scatter-add into) columns of one space's array."""

    def __init__(self, space: int, cols: Sequence[int]) -> None:
        import numpy as np

        self.space = space
        self.cols = np.asarray(cols, dtype=np.intp)
        k = len(cols)
        contiguous = k > 0 and all(cols[j] == cols[0] + j for j in range(k))
        self.sel: Any = slice(cols[0], cols[0] + k) if contiguous else self.cols
        self.dup = len(set(cols)) < k
        if self.dup:
            order = np.argsort(self.cols, kind="stable")
            sorted_cols = self.cols[order]
            starts = np.flatnonzero(np.r_[True, sorted_cols[1:] != sorted_cols[:-1]])
            self.order, self.starts, self.unique = order, starts, sorted_cols[starts]

    def add(self, G: Any, c: Any) -> None:
        """G[:, cols] += c, summing repeated columns (and rows, into the static space)."""
        import numpy as np

        if self.space == 1 and c.shape[0] > 1:
            c = _add.reduce(c, axis=0, keepdims=True)
        if not self.dup:
            G[:, self.sel] += c
        elif self.space == 1:
            G[0] += np.bincount(self.cols, weights=c[0], minlength=G.shape[1])
        else:
            G[:, self.unique] += np.add.reduceat(c[:, self.order], self.starts, axis=1)


class _OpGroup:
    """Nodes of one level applying one op: one call on a block of columns."""

    def __init__(self, op: str, space: int, out: _Columns, args: list[_Columns], tape_nodes: list):
        self.op, self.vop = op, vector_ops()[op]
        self.space, self.out, self.args, self.tape_nodes = space, out, args, tape_nodes
        self.needs: list[bool] = []

    def forward(self, A: list[Any], run: _Run) -> Any:
        xs = [A[a.space][:, a.sel] for a in self.args]
        out = self.vop.forward(*xs)
        if self.vop.bad is not None:
            bad = self.vop.bad(out, *xs)
            if bad.any():
                run.domain_error(self, bad, xs)
        A[self.space][:, self.out.sel] = out
        return xs

    def backward(self, A: list[Any], G: list[Any], xs: Any) -> None:
        import numpy as np

        g = G[self.space][:, self.out.sel]
        out = A[self.space][:, self.out.sel]
        local = self.vop.rule(out, *xs)
        for a, d, needs in zip(self.args, local, self.needs):
            if not needs:
                continue
            if not isinstance(d, np.ndarray) and d == 0:
                continue
            c = d * g
            if not _finite(c):  # 0 × anything = 0, as backward: a zero local derivative
                # passes on nothing even against an infinite gradient, and a zero gradient
                # passes nothing on even through an infinite slope
                c = np.where((g == 0) | (d == 0), 0.0, c)
            a.add(G[a.space], c)


class _SumGroup:
    """Sums of one level: Σ terms + Σ w·v (a matrix product) + a parameter-only bias."""

    def __init__(
        self, space: int, out: _Columns, nodes: list[_Node], col: Any, needs: list[bool]
    ) -> None:
        import numpy as np

        # Which inputs need a gradient at all (a parameter below them).
        self.t_needs = any(needs[t] for node in nodes for t in node.terms)
        self.b_needs = any(needs[node.bias] for node in nodes if node.bias is not None)
        self.v_needs = any(needs[v] for node in nodes for _, v in node.lin)

        self.space, self.out, S = space, out, len(nodes)
        # Ragged terms, sorted by sum.
        tcols, tsum, starts, which = [], [], [], []
        for s, node in enumerate(nodes):
            if node.terms:
                starts.append(len(tcols))
                which.append(s)
                for t in node.terms:
                    tcols.append(col[t][1])
                    tsum.append(s)
        self.terms = _Columns(space, tcols) if tcols else None
        self.tstarts = np.asarray(starts, dtype=np.intp)
        self.twhich: Any = slice(None) if len(which) == S else np.asarray(which, dtype=np.intp)
        self.tsum = np.asarray(tsum, dtype=np.intp)
        # Bias: one static column per sum that has one.
        bias = [(s, col[node.bias][1]) for s, node in enumerate(nodes) if node.bias is not None]
        self.bias = _Columns(1, [c for _, c in bias]) if bias else None
        self.bwhich: Any = (
            slice(None) if len(bias) == S else np.asarray([s for s, _ in bias], dtype=np.intp)
        )
        # Linear terms w·v: V gathers the distinct v's; terms sorted by sum.
        lin = [(s, w, v) for s, node in enumerate(nodes) for w, v in node.lin]
        self.lin = bool(lin)
        if lin:
            vs = sorted({v for _, _, v in lin}, key=lambda v: col[v][1])
            vpos = {v: k for k, v in enumerate(vs)}
            self.V = _Columns(0, [col[v][1] for v in vs])
            self.tv = np.asarray([vpos[v] for _, _, v in lin], dtype=np.intp)
            self.tw = np.asarray([col[w][1] for _, w, _ in lin], dtype=np.intp)
            self.ts = np.asarray([s for s, _, _ in lin], dtype=np.intp)
            self.W = _Columns(1, self.tw.tolist())
            lwhich = sorted({s for s, _, _ in lin})
            self.lstarts = np.searchsorted(self.ts, lwhich).astype(np.intp)
            self.lwhich: Any = (
                slice(None) if len(lwhich) == S else np.asarray(lwhich, dtype=np.intp)
            )
            K = len(vs)
            self.dense = K * S <= 4 * len(lin) and len(set(zip(self.tv, self.ts))) == len(lin)
            if self.dense:  # W as a K × S matrix of static columns, 0 = the constant zero
                index = np.zeros((K, S), dtype=np.intp)
                index[self.tv, self.ts] = self.tw
                self.windex = index
        self.S = S

    def forward(self, A: list[Any], run: _Run) -> Any:
        import numpy as np

        Z = A[self.space]
        out = Z[:, self.out.sel]  # written in place (column-major: a contiguous block)
        saved = None
        if self.lin:
            V = A[0][:, self.V.sel]
            W, ok = None, False
            if self.dense:
                W = A[1][0][self.windex]
                ok = _finite(V) and _finite(W)
                if ok:  # out = V @ W, computed as (Wᵀ Vᵀ)ᵀ straight into the block
                    np.matmul(W.T, V.T, out=out.T)
            if not ok:  # term by term, exactly as the scalar products (NaN where 0·inf)
                out[...] = 0.0
                products = V[:, self.tv] * A[1][0][self.tw]
                out[:, self.lwhich] = np.add.reduceat(products, self.lstarts, axis=1)
            saved = (V, W, ok)
        else:
            out[...] = 0.0
        if self.bias is not None:
            if isinstance(self.bwhich, slice):
                out += A[1][:, self.bias.sel]
            else:
                out[:, self.bwhich] += A[1][0, self.bias.sel]
        if self.terms is not None:
            r = np.add.reduceat(Z[:, self.terms.sel], self.tstarts, axis=1)
            if isinstance(self.twhich, slice):
                out += r
            else:
                out[:, self.twhich] += r
        return saved

    def backward(self, A: list[Any], G: list[Any], saved: Any) -> None:
        import numpy as np

        g = G[self.space][:, self.out.sel]
        if self.terms is not None and self.t_needs:
            self.terms.add(G[self.space], g[:, self.tsum])
        if self.bias is not None and self.b_needs:
            self.bias.add(G[1], g[:, self.bwhich] if not isinstance(self.bwhich, slice) else g)
        if not self.lin:
            return
        V, W, ok = saved
        if ok and _finite(g):
            if self.v_needs:
                self.V.add(G[0], (W @ g.T).T)  # column-major, as G
            G[1][0] += np.bincount(
                self.windex.ravel(), weights=(V.T @ g).ravel(), minlength=G[1].shape[1]
            )
            return
        # Term by term, so that a zero factor passes on exactly 0 even against inf
        # (a zero local derivative, or a zero gradient through an infinite slope).
        gt = g[:, self.ts]
        w = A[1][0][self.tw]
        vt = V[:, self.tv]
        dw = np.where((vt == 0) | (gt == 0), 0.0, vt * gt).sum(axis=0)
        self.W.add(G[1], dw[None, :])
        if self.v_needs:
            dv = np.where((w == 0) | (gt == 0), 0.0, w * gt)
            _Columns(0, self.V.cols[self.tv].tolist()).add(G[0], dv)


class _Run:
    """Context for error messages while replaying."""

    def __init__(self, program: _Program, row0: int) -> None:
        self.program, self.row0 = program, row0

    def anomaly(self, group: Any, block: Any, where: str, static: bool = False) -> None:
        """detect_anomaly(): raise FloatingPointError at the first NaN or infinity of block."""
        import numpy as np

        if _finite(block):
            return
        bad = ~np.isfinite(block)
        if not bad.any():
            return  # a finite sum that overflowed
        r, c = (int(i) for i in np.argwhere(bad)[0])
        op = getattr(group, "op", "add")
        if static:
            row = "a parameter's gradient"
        elif where == "forward" and group.space == 1:
            row = "a value computed from the parameters alone"
        else:
            row = f"sample row {self.row0 + r}"
        raise FloatingPointError(
            f"{op}: {where} produced {float(block[r, c])!r} (detect_anomaly, {row})"
        )

    def domain_error(self, group: _OpGroup, bad: Any, xs: list[Any]) -> None:
        import numpy as np

        r, c = (int(i) for i in np.argwhere(bad)[0])
        args = [float(np.broadcast_to(x, bad.shape)[r, c]) for x in xs]
        node = group.tape_nodes[c]
        where = (
            f"sample row {self.row0 + r}"
            if group.space == 0
            else "a value computed from the parameters alone"
        )
        try:
            OPS[group.op].forward(*args)
        except (ValueError, ZeroDivisionError, OverflowError) as e:
            raise type(e)(f"{e} ({where}, tape node %{node})") from None
        raise RuntimeError(  # the vectorised op disagrees with the op table: a bug here
            f"compile: {group.op}{tuple(args)} is out of the vectorised op's domain but not "
            "of the op table's"
        )


def _describe(key: tuple, group: Any, k: int) -> str:
    """One group as a line: ``level 3, per sample: relu ×16``."""
    where = "per sample" if key[1] == 0 else "parameters only"
    if key[2] != "sum":
        return f"level {key[0]}, {where}: {key[2]} ×{k}"
    parts = []
    if group.lin:
        shape = f"{len(group.V.cols)}×{k}"
        parts.append(f"matrix product {shape}" if group.dense else f"{len(group.tv)} products")
    if group.bias is not None:
        parts.append("+ bias")
    if group.terms is not None:
        parts.append(f"+ {len(group.terms.cols)} terms")
    return f"level {key[0]}, {where}: sum ×{k} (" + " ".join(parts).lstrip("+ ") + ")"


class _Program:
    """A tape turned into grouped NumPy calls over a batch."""

    def __init__(self, tape: Tape, n_params: int, d: int, m: int, keep: Sequence[int] = ()) -> None:
        import numpy as np

        self.tape, self.P, self.d, self.m = tape, n_params, d, m
        program, needs = _fuse(tape, keep)
        # Columns: space 0 (per sample) = x, y, then groups; space 1 (static) = 0, params,
        # constants, then groups.
        col: dict[int, tuple[int, int]] = {}
        consts = []
        for i, e in enumerate(tape):
            if e.op == "x":
                col[i] = (0, e.leaf)
            elif e.op == "y":
                col[i] = (0, d + e.leaf)
            elif e.op == "param":
                col[i] = (1, 1 + e.leaf)
        for i, e in enumerate(tape):
            if e.op in FIXED:
                col[i] = (1, 1 + n_params + len(consts))
                consts.append(e.leaf)
        self.consts = np.asarray(consts, dtype=np.float64)
        width = [d + m, 1 + n_params + len(consts)]
        buckets: dict[tuple, list[int]] = {}
        for i, node in enumerate(program):
            if node is None or node.kind == "leaf":
                continue
            space = 1 if node.static else 0
            if node.kind == "sum":
                key = (node.level, space, "sum")
            else:
                arg_spaces = tuple(1 if program[a].static else 0 for a in node.args)
                key = (node.level, space, node.op, arg_spaces)
            buckets.setdefault(key, []).append(i)
        self.groups: list[Any] = []
        self.plan: list[str] = []  # one line per group, for teaching
        for key in sorted(buckets, key=lambda k: (k[0], k[1], k[2:])):
            members = buckets[key]
            space = key[1]
            start = width[space]
            for j, i in enumerate(members):
                col[i] = (space, start + j)
            width[space] += len(members)
            out = _Columns(space, list(range(start, start + len(members))))
            if key[2] == "sum":
                group: Any = _SumGroup(space, out, [program[i] for i in members], col, needs)
            else:
                nodes = [program[i] for i in members]
                args = [
                    _Columns(key[3][k], [col[node.args[k]][1] for node in nodes])
                    for k in range(len(nodes[0].args))
                ]
                group = _OpGroup(key[2], space, out, args, [node.tape for node in nodes])
                group.needs = [any(needs[node.args[k]] for node in nodes) for k in range(len(args))]
            group.grad = any(needs[i] for i in members)
            self.groups.append(group)
            self.plan.append(_describe(key, group, len(members)))
        self.width = width
        self.root = col[len(tape) - 1]
        self.col = col
        self.guards = [
            (g, col[g.a], col[g.b] if g.b is not None else g.number) for g in tape.guards
        ]

    def run(
        self,
        params: Any,
        X: Any,
        Y: Any,
        *,
        aux: Any = None,
        backward: bool = True,
        anomaly: bool = False,
    ) -> tuple:
        """(mean loss, ∂ mean / ∂ params or None, aux values) for the rows of X and Y.

        ``anomaly``: as inside ``detect_anomaly()``, a NaN or an infinity made by
        any group, forward or backward, raises FloatingPointError naming the op.
        """
        import numpy as np

        n = X.shape[0]
        D = np.empty((n, self.width[0]), order="F")
        D[:, : self.d] = X
        D[:, self.d : self.d + self.m] = Y
        S = np.empty((1, self.width[1]))
        S[0, 0] = 0.0
        S[0, 1 : 1 + self.P] = params
        S[0, 1 + self.P : 1 + self.P + len(self.consts)] = self.consts
        A = [D, S]
        run = _Run(self, 0)
        saved = []
        grads = None
        with np.errstate(all="ignore"):
            for group in self.groups:
                saved.append(group.forward(A, run))
                if anomaly:
                    run.anomaly(group, A[group.space][:, group.out.sel], "forward")
            if self.guards:
                self.check_guards(A)
            space, c = self.root
            losses = A[space][:, c]
            loss = float(losses.sum() * (1.0 / n)) if space == 0 else float(losses[0])
            if backward:
                G = [np.zeros((n, self.width[0]), order="F"), np.zeros((1, self.width[1]))]
                G[space][:, c] = 1.0 / n if space == 0 else 1.0
                for group, s in zip(reversed(self.groups), reversed(saved)):
                    if group.grad:
                        group.backward(A, G, s)
                        if anomaly:
                            run.anomaly(group, G[0], "backward")
                            run.anomaly(group, G[1], "backward", static=True)
                grads = G[1][0, 1 : 1 + self.P]
        values = None
        if aux is not None:
            values = np.empty((n, len(aux)))
            for k, i in enumerate(aux):
                space, c = self.col[i]
                values[:, k] = A[space][:, c]
        return loss, grads, values

    def check_guards(self, A: list[Any]) -> None:
        """Raise ValueError at the first row where a comparison traced on Values comes
        out otherwise: that row would take another branch of ``loss_fn``."""
        import numpy as np

        for guard, (sa, ca), right in self.guards:
            a = A[sa][:, ca]
            b = A[right[0]][:, right[1]] if isinstance(right, tuple) else right
            held = _COMPARE[guard.op](a, b)
            broken = np.flatnonzero(held != guard.outcome)
            if not len(broken):
                continue
            r = int(broken[0])
            per_sample = sa == 0 or (isinstance(right, tuple) and right[0] == 0)
            where = f"sample row {r}" if per_sample else "the parameters as they are now"
            tape = self.tape
            rhs = repr(tape.line(guard.b)) if guard.b is not None else repr(guard.number)
            raise ValueError(
                f"compile: loss_fn compared Values while traced ({guard.text()}: "
                f"{tape.line(guard.a)!r} {guard.op} {rhs}), and the comparison is "
                f"{not guard.outcome} for {where}: loss_fn takes another branch there than "
                "in the traced sample, which the tape cannot replay; write the choice with "
                "an op (relu, max, abs) instead"
            )


_COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class CompiledStep:
    """``step(X, Y)``: the mean loss over the rows, gradients added into ``p.grad``.

    Made by :func:`compile`; see there. ``tape`` is the recorded program (None
    until the first call: its sizes come from the data); ``plan`` lists the
    groups of NumPy calls the tape became, one line each.
    """

    def __init__(
        self,
        loss_fn: Callable[..., Any],
        params: Sequence[Value],
        has_aux: bool = False,
    ) -> None:
        if not callable(loss_fn):
            raise TypeError(f"compile: loss_fn must be callable, got {loss_fn!r}")
        params = list(params)
        for p in params:
            if not isinstance(p, Value):
                raise TypeError(f"compile: every parameter must be a Value, got {p!r}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("compile: a Value appears twice in params")
        self.loss_fn, self.params, self.has_aux = loss_fn, params, has_aux
        self.tape: Tape | None = None
        self.plan: list[str] = []  # the NumPy calls the tape became, one line per group
        self.aux: Any = None  # with has_aux: the aux values of the last call, shape (n, k)
        self._programs: dict[tuple[int, int], tuple[_Program, Any, Any]] = {}

    def __call__(self, X: Any, Y: Any) -> Any:
        try:
            import numpy as np
        except ImportError:
            raise ImportError("autograd_lite.compile needs NumPy: pip install numpy") from None

        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        if X.ndim == 1:
            X = X[:, None]
        if Y.ndim == 1:
            Y = Y[:, None]
        if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y) or len(X) == 0:
            raise ValueError(
                f"compile: X must be (n, d) and Y (n, m) or (n,) with n ≥ 1, got shapes "
                f"{X.shape} and {Y.shape}"
            )
        program, aux = self._program(X, Y)
        params = np.array([p.data for p in self.params], dtype=np.float64)
        mode = _modes.get()
        loss, grads, values = program.run(
            params, X, Y, aux=aux, backward=not mode & NO_GRAD, anomaly=bool(mode & ANOMALY)
        )
        if grads is not None:  # inside no_grad() nothing is added, as backward on a leaf
            for p, g in zip(self.params, grads.tolist()):
                p.grad += g
        if self.has_aux:
            self.aux = values
            return loss, values
        return loss

    def _program(self, X: Any, Y: Any) -> tuple[_Program, Any]:
        """The program for X's and Y's widths: traced on the first call on the first row
        without a NaN, and checked against up to :data:`CHECKED_ROWS` other rows (the
        rows holding the columns' extremes first) as soon as a batch holds a row that
        differs from the traced one."""
        key = (X.shape[1], Y.shape[1])
        entry = self._programs.get(key)
        if entry is None:
            r0 = _traced_row(X, Y)
            tape, aux = trace(self.loss_fn, self.params, X[r0], Y[r0], row=r0)
            self._check_aux(aux)
            keep = [*(aux or ()), *(i for g in tape.guards for i in (g.a, g.b) if i is not None)]
            program = _Program(tape, len(self.params), *key, keep=keep)
            entry = [program, aux, (r0, X[r0].copy(), Y[r0].copy())]
            self._programs[key] = entry
            self.tape, self.plan = tape, program.plan
        program, aux, first = entry
        if first is not None:  # not yet checked against other samples
            r0, x0, y0 = first
            rows = _rows_to_check(X, Y, x0, y0)
            for r in rows:
                other, _ = trace(self.loss_fn, self.params, X[r], Y[r], row=r)
                compare_tapes(program.tape, other, (r0, r))
            if rows:
                entry[2] = None
        return program, aux

    def _check_aux(self, aux: Any) -> None:
        if self.has_aux and aux is None:
            raise TypeError("compile(has_aux=True): loss_fn must return (loss, aux)")
        if not self.has_aux and aux is not None:
            raise TypeError(
                "compile: loss_fn returned a pair; pass has_aux=True to get its second element"
            )


CHECKED_ROWS = 8  # rows the first call traces besides the traced one, to compare tapes


def _traced_row(X: Any, Y: Any) -> int:
    """The first row without a NaN (a NaN compares False everywhere, so the branches a
    NaN row takes say nothing of the others), or row 0 when every row has one."""
    import numpy as np

    clean = np.flatnonzero(~(np.isnan(X).any(axis=1) | np.isnan(Y).any(axis=1)))
    return int(clean[0]) if len(clean) else 0


def _rows_to_check(X: Any, Y: Any, x0: Any, y0: Any) -> list[int]:
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


def compile(
    loss_fn: Callable[[list[Value], list[Value]], Any],
    params: Sequence[Value],
    *,
    has_aux: bool = False,
) -> CompiledStep:
    """Trace ``loss_fn`` once and replay it over whole batches with NumPy.

    ``loss_fn(x, y) -> Value`` is the loss of ONE sample, ``x`` and ``y`` lists
    of Values (the inputs and the targets; a class index is passed as its
    one-hot row). ``params`` are the Values to differentiate.

    ``step = compile(loss_fn, params)``; ``step(X, Y)`` with ``X`` of shape
    (n, d) and ``Y`` of shape (n, m) or (n,) returns the mean of the n losses,
    L = (1/n) Σ_i loss(x_i, y_i), as a float, and adds ∂L/∂p to ``p.grad`` for
    every p in ``params``: what ``backward()`` on the scalar graph of that mean
    adds. Values computed from the parameters alone (an L2 term inside
    ``loss_fn``) are computed once per call.

    The first call traces the graph of one sample (``step.tape``, printable)
    and checks it against a second, different sample: if the graphs differ (an
    ``if`` on ``v.data``) or a constant does (a sample's number baked in),
    ValueError names the first differing node. A value out of an op's domain
    raises the scalar op's error with the sample's row. First derivatives only:
    there is no ``create_graph``.

    With ``has_aux=True``, ``loss_fn`` returns ``(loss, aux)``, aux a list of
    Values of the graph (e.g. the model's outputs), and ``step(X, Y)`` returns
    ``(mean loss, values)``, values of shape (n, len(aux)).

    Inside ``no_grad()`` a step only evaluates (no gradient is added); inside
    ``detect_anomaly()`` a NaN or an infinity made by the replay, forward or
    backward, raises FloatingPointError naming the op and the sample's row.
    """
    return CompiledStep(loss_fn, params, has_aux=has_aux)
