"""``Value``: a scalar that remembers how it was computed, and ``backward``.

Every operation on Values records one node: its float ``data``, the one or
two ``parents`` it was computed from (in argument order), the ``op`` name from
the op table, and the *local derivatives* ``d data / d parent`` as floats,
computed once at forward time from the op's rule. ``backward`` is then one
generic loop over the nodes in reverse topological order (the chain rule):

    parent.grad += (d node / d parent) · node.grad

No closures, no per-op dispatch at backward time, no recursion.

Why the slots are flat: every primitive takes one or two inputs, so a node
keeps them in ``_a``/``_b`` and their local derivatives in ``_da``/``_db``
instead of two tuples. One object per node instead of three makes the graph
smaller and, above all, gives Python's cyclic garbage collector a third of
the objects to walk: that is most of the speed-up over micrograd.

Why the common operators are written out: ``+ - * /``, ``neg`` and ``relu``
make almost every node of a network, so their methods build the node
themselves, with the op table's forward and rule written inline (``x + y``
with slopes 1, 1; ``x·y`` with slopes y, x; ...), instead of calling the
table's two functions through a generic helper: that is about a quarter of the
forward's time. Only the recording mode's fast case is inlined: inside
``no_grad()`` or ``detect_anomaly()`` and for a division by zero every
operator goes through the table (``_binary``/``_unary``), and a test checks,
op by op over the table, that the written-out path and the table give the
same bits.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any

from .ops import OPS, Op

# The engine's modes, switched by no_grad() and detect_anomaly(). They live in a
# context variable, so each thread and each asyncio task has its own: one thread
# inside no_grad() does not stop another from recording. The value is a bit set,
# 0 (recording, no checks) almost always, so the hot path tests one small int.
NO_GRAD = 1  # inside no_grad(): results are leaves
ANOMALY = 2  # inside detect_anomaly(): NaN/inf raise at once
_modes: ContextVar[int] = ContextVar("autograd_lite_modes", default=0)
_mode = _modes.get


def _to_float(data: Any) -> float:
    """Convert user input to a float, or raise TypeError naming the value."""
    if data.__class__ is float:
        return data
    if isinstance(data, numbers.Real):  # int, bool, numpy scalars (np.float64 too), Fraction
        return float(data)
    kind = getattr(getattr(data, "dtype", None), "kind", "")
    if getattr(data, "shape", None) == () and kind and kind in "biuf":
        return float(data)  # a 0-d numpy array of a real dtype
    raise TypeError(f"Value: data must be a real number, got {data!r} ({type(data).__name__})")


class Value:
    """A scalar node of a computation graph.

    ``data`` is the float value, ``grad`` the derivative of the output that
    ``backward`` was last called on with respect to this node (0.0 at start),
    ``label`` a name for drawings, ``op`` the op that made it ('' for a leaf)
    and ``parents`` the Values it was computed from.
    """

    __slots__ = ("data", "grad", "label", "op", "_a", "_b", "_da", "_db")

    def __init__(self, data: Any, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {label!r}")
        self.data = _to_float(data)
        self.grad = 0.0
        self.label = label
        self.op = ""
        self._a: Value | None = None  # first parent (None for a leaf)
        self._b: Value | None = None  # second parent (None for a leaf or a unary op)
        self._da: Any = 0.0  # d data / d _a
        self._db: Any = 0.0  # d data / d _b

    @property
    def is_constant(self) -> bool:
        """True for a leaf the engine made from a plain number operand (the 2 in ``x**2``).

        Such a constant is not a variable of the graph: drawings show its value
        only. Values a user creates, and every op result, are not constants.
        """
        return self._a is None and self._da is None

    @property
    def _prev(self) -> set[Value]:
        """The parents as a set, micrograd's name (so its lecture's ``draw_dot`` runs)."""
        return set(self.parents)

    @property
    def _op(self) -> str:
        """The op's symbol ('+', '*', 'tanh', ...; '' for a leaf), micrograd's name."""
        return OPS[self.op].symbol if self.op else ""

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in argument order (() for a leaf)."""
        if self._a is None:
            return ()
        if self._b is None:
            return (self._a,)
        return (self._a, self._b)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        return self.data

    # Comparisons look at the data, so rules and user code can branch on a Value.
    # (No __eq__: Values are hashed and compared by identity, as graph nodes.)
    # While ``compile`` traces a sample, each comparison is also written down
    # (``_compared``): the replay checks on every row that it comes out the same.
    def __lt__(self, other: Any) -> bool:
        return _compared("<", self, other, self.data < _data(other))

    def __le__(self, other: Any) -> bool:
        return _compared("<=", self, other, self.data <= _data(other))

    def __gt__(self, other: Any) -> bool:
        return _compared(">", self, other, self.data > _data(other))

    def __ge__(self, other: Any) -> bool:
        return _compared(">=", self, other, self.data >= _data(other))

    # Arithmetic: each operator applies one op of the table; a number on
    # either side becomes a constant leaf. The recording case is written out
    # (see the module docstring); every other case goes through the table.
    def __add__(self, other: Any) -> Value:
        if other.__class__ is not Value:
            other = _constant(other)
        if _mode():
            return _binary(ADD, self, other)
        v = _new(Value)
        v.data = self.data + other.data
        v.grad = 0.0
        v.label = ""
        v.op = "add"
        v._a = self
        v._b = other
        v._da = v._db = 1.0  # d(x + y)/dx = d(x + y)/dy = 1
        return v

    def __radd__(self, other: Any) -> Value:
        return _constant(other) + self

    def __sub__(self, other: Any) -> Value:
        if other.__class__ is not Value:
            other = _constant(other)
        if _mode():
            return _binary(SUB, self, other)
        v = _new(Value)
        v.data = self.data - other.data
        v.grad = 0.0
        v.label = ""
        v.op = "sub"
        v._a = self
        v._b = other
        v._da = 1.0  # d(x − y)/dx = 1
        v._db = -1.0  # d(x − y)/dy = −1
        return v

    def __rsub__(self, other: Any) -> Value:
        return _constant(other) - self

    def __mul__(self, other: Any) -> Value:
        if other.__class__ is not Value:
            other = _constant(other)
        if _mode():
            return _binary(MUL, self, other)
        v = _new(Value)
        x = v._db = self.data  # d(x·y)/dy = x
        y = v._da = other.data  # d(x·y)/dx = y
        v.data = x * y
        v.grad = 0.0
        v.label = ""
        v.op = "mul"
        v._a = self
        v._b = other
        return v

    def __rmul__(self, other: Any) -> Value:
        return _constant(other) * self

    def __truediv__(self, other: Any) -> Value:
        if other.__class__ is not Value:
            other = _constant(other)
        y = other.data
        if _mode() or not y:  # no_grad, detect_anomaly, or the table's error for y = 0
            return _binary(DIV, self, other)
        v = _new(Value)
        out = v.data = self.data / y
        v.grad = 0.0
        v.label = ""
        v.op = "div"
        v._a = self
        v._b = other
        v._da = 1.0 / y  # d(x/y)/dx = 1/y
        v._db = -out / y  # d(x/y)/dy = −x/y² = −out/y
        return v

    def __rtruediv__(self, other: Any) -> Value:
        return _constant(other) / self

    def __pow__(self, other: Any) -> Value:
        if isinstance(other, Value):
            return _binary(POWV, self, other)
        return _binary(POW, self, _constant(other))

    def __rpow__(self, other: Any) -> Value:
        return _binary(POWV, _constant(other), self)

    def __neg__(self) -> Value:
        if _mode():
            return _unary(NEG, self)
        v = _new(Value)
        v.data = -self.data
        v.grad = 0.0
        v.label = ""
        v.op = "neg"
        v._a = self
        v._b = None
        v._da = -1.0  # d(−x)/dx = −1
        v._db = 0.0
        return v

    def __pos__(self) -> Value:
        return self

    def exp(self) -> Value:
        """e^x; d/dx e^x = e^x."""
        return _unary(EXP, self)

    def log(self) -> Value:
        """Natural log (x > 0); d/dx log x = 1/x."""
        return _unary(LOG, self)

    def tanh(self) -> Value:
        """tanh x; d/dx tanh x = 1 − tanh(x)²."""
        return _unary(TANH, self)

    def sigmoid(self) -> Value:
        """σ(x) = 1/(1 + e^−x); d/dx σ(x) = σ(x)(1 − σ(x))."""
        return _unary(SIGMOID, self)

    def relu(self) -> Value:
        """max(0, x); d/dx relu(x) = 1 if x > 0 else 0."""
        if _mode():
            return _unary(RELU, self)
        v = _new(Value)
        x = self.data
        if x <= 0:
            v.data = v._da = 0.0  # relu(x) = 0, slope 0 (also at 0)
        else:
            v.data = x  # relu(x) = x, slope 1 (NaN too: it passes, as torch)
            v._da = 1.0
        v.grad = 0.0
        v.label = ""
        v.op = "relu"
        v._a = self
        v._b = None
        v._db = 0.0
        return v

    def abs(self) -> Value:
        """|x|; d/dx |x| = sign(x), 0 at x = 0 (as torch)."""
        return _unary(ABS, self)

    __abs__ = abs

    def sin(self) -> Value:
        """sin x; d/dx sin x = cos x."""
        return _unary(SIN, self)

    def cos(self) -> Value:
        """cos x; d/dx cos x = −sin x."""
        return _unary(COS, self)

    def sqrt(self) -> Value:
        """√x (x >= 0); d/dx √x = 1/(2√x), +inf at 0."""
        return _unary(SQRT, self)

    def _pole(self, k: Any) -> Value:
        """x^k at x = 0 for k < 0, i.e. +inf, as a node (for rules: see ops._power).

        The forward refuses 0 to a negative power; a rule needs the infinite
        slope to stay differentiable, so this records the node without it.
        """
        if isinstance(k, Value):
            return _record(POWV, math.inf, self, k)
        return _record(POW, math.inf, self, _constant(k))

    def max(self, other: Any) -> Value:
        """max(x, y); the gradient goes to the larger side, half to each at a tie."""
        return _binary(MAX, self, other if other.__class__ is Value else _constant(other))

    def backward(self, gradient: Any = 1.0) -> None:
        """Add d self / d v · ``gradient`` to ``v.grad`` for every node v reachable from self.

        Iterative (no recursion limit). Calling it twice adds the same
        gradients twice: each pass is computed afresh, then added.
        """
        gradient = _to_float(gradient)
        order = topological_order(self)
        kept = [v for v in order if v.grad]  # gradients from before, added back at the end
        saved = [v.grad for v in kept]
        for v in kept:
            v.grad = 0.0
        self.grad = gradient
        if _mode() & ANOMALY:
            _backward_checked(order)
        else:
            # 0 × anything = 0: a zero local derivative adds nothing, even times an
            # inf/NaN gradient, and a node whose gradient is 0 passes nothing on,
            # even through an infinite slope.
            for v in reversed(order):
                a = v._a
                if a is not None:
                    g = v.grad
                    if not g:
                        continue
                    d = v._da
                    if d:
                        a.grad += d * g
                    b = v._b
                    if b is not None:
                        d = v._db
                        if d:
                            b.grad += d * g
        for v, g in zip(kept, saved):
            v.grad += g


def _data(x: Any) -> float:
    return x.data if isinstance(x, Value) else x


# The comparisons made on Values while ``compile`` traces (None when not tracing).
COMPARISONS: ContextVar[list[tuple[str, Value, Any, bool]] | None] = ContextVar(
    "autograd_lite_comparisons", default=None
)


def _compared(op: str, a: Value, b: Any, result: bool) -> bool:
    """``result`` of ``a op b``, written down when a trace is recording comparisons."""
    record = COMPARISONS.get()
    if record is not None:
        record.append((op, a, b, result))
    return result


ADD, SUB, MUL, DIV = OPS["add"], OPS["sub"], OPS["mul"], OPS["div"]
NEG, POW, POWV, EXP, LOG = OPS["neg"], OPS["pow"], OPS["powv"], OPS["exp"], OPS["log"]
TANH, SIGMOID, RELU, MAX = OPS["tanh"], OPS["sigmoid"], OPS["relu"], OPS["max"]
ABS, SIN, COS, SQRT = OPS["abs"], OPS["sin"], OPS["cos"], OPS["sqrt"]

_new = object.__new__


def _leaf(data: float) -> Value:
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v.op = ""
    v._a = v._b = None
    v._da = v._db = 0.0
    return v


def _constant(number: Any) -> Value:
    """The leaf for a number operand: a constant (``_da`` None marks it; a leaf has no slope)."""
    v = _new(Value)
    v.data = _to_float(number)
    v.grad = 0.0
    v.label = ""
    v.op = ""
    v._a = v._b = None
    v._da = None
    v._db = 0.0
    return v


def _record(op: Op, out: float, a: Value, b: Value) -> Value:
    """The node ``op(a, b)`` with the given data (no forward), slopes from the rule."""
    v = _new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    v.op = op.name
    v._a = a
    v._b = b
    v._da, v._db = op.rule(out, a.data, b.data)
    return v


def _binary(op: Op, a: Value, b: Value) -> Value:
    x = a.data
    y = b.data
    out = op.forward(x, y)
    mode = _mode()
    if mode:
        if mode & ANOMALY:
            _check(out, op.name, "forward")
        if mode & NO_GRAD:
            return _leaf(out)
    v = _new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    v.op = op.name
    v._a = a
    v._b = b
    v._da, v._db = op.rule(out, x, y)
    return v


def _unary(op: Op, a: Value) -> Value:
    x = a.data
    out = op.forward(x)
    mode = _mode()
    if mode:
        if mode & ANOMALY:
            _check(out, op.name, "forward")
        if mode & NO_GRAD:
            return _leaf(out)
    v = _new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    v.op = op.name
    v._a = a
    v._b = None
    (v._da,) = op.rule(out, x)
    v._db = 0.0
    return v


def topological_order(root: Value) -> list[Value]:
    """All nodes reachable from ``root``, each after its parents: depth-first, post-order.

    Deterministic: parents are visited in argument order; ``backward`` processes
    the nodes in exactly the reverse of this order. Iterative (no recursion
    limit). For speed, a parent whose own parents need no visit (leaves, or
    nodes already placed), such as ``w·x`` in a neuron, is placed at once
    instead of being pushed: the order is the same as the plain depth-first
    search's (a test checks it against a recursive one).
    """
    if root._a is None:
        return [root]
    order: list[Value] = []
    append = order.append
    seen = {root}
    add = seen.add
    stack = [root]  # only nodes with parents are pushed; a leaf is placed at once
    push = stack.append
    pop = stack.pop
    while stack:
        node = stack[-1]
        a = node._a
        if a not in seen:  # a node on the stack has a first parent
            add(a)
            p = a._a
            if p is None:  # a leaf
                append(a)
            else:
                q = a._b
                if p in seen:
                    if q is None or q in seen:
                        append(a)
                    elif q._a is None:
                        add(q)
                        append(q)
                        append(a)
                    else:
                        push(a)  # a has a parent to visit first
                        continue
                elif p._a is None and (q is None or q is p or q in seen):
                    add(p)
                    append(p)
                    append(a)
                else:
                    push(a)
                    continue
        b = node._b
        if b is not None and b not in seen:
            add(b)
            p = b._a
            if p is None:  # a leaf
                append(b)
            else:
                q = b._b
                if p in seen:
                    if q is None or q in seen:
                        append(b)
                    elif q._a is None:
                        add(q)
                        append(q)
                        append(b)
                    else:
                        push(b)  # b has a parent to visit first
                        continue
                elif p._a is None and (q is None or q is p or q in seen):
                    add(p)
                    append(p)
                    append(b)
                else:
                    push(b)
                    continue
        pop()
        append(node)
    return order


def _check(x: Any, op: str, where: str) -> None:
    if not math.isfinite(_data(x)):
        raise FloatingPointError(f"{op}: {where} produced {_data(x)!r} (detect_anomaly)")


def _backward_checked(order: list[Value]) -> None:
    for v in reversed(order):
        if not v.grad:
            continue
        for p, d in zip(v.parents, (v._da, v._db)):
            if d:
                p.grad += d * v.grad
                _check(p.grad, v.op, "backward")


@contextmanager
def _mode_on(flag: int) -> Iterator[None]:
    token = _modes.set(_modes.get() | flag)
    try:
        yield
    finally:
        _modes.reset(token)


def no_grad() -> AbstractContextManager[None]:
    """Inside this block, results are leaves: no parents, op '', nothing recorded.

    The mode belongs to the current thread and asyncio task (a context
    variable): other threads and tasks keep recording.
    """
    return _mode_on(NO_GRAD)


def detect_anomaly() -> AbstractContextManager[None]:
    """Inside this block, a NaN or infinity made by any op, forward or backward,
    raises FloatingPointError naming the op.

    The mode belongs to the current thread and asyncio task, like ``no_grad``.
    """
    return _mode_on(ANOMALY)
