"""``compile``: trace one sample's graph once, then replay it for a whole batch with NumPy.

The scalar engine builds the same graph for every sample of every step: an MLP's
loss on 100 points is 100 copies of one sample's graph, each node a Python
object. ``compile`` records that graph *once* and runs it on all samples at once,
each node becoming one column of a NumPy array with a row per sample. Three
stages, one module each:

1. :mod:`.trace`: the tape, one sample's graph as a list of ops and the positions
   of their arguments, with the leaves sorted into parameters, inputs ``x``,
   targets ``y`` and constants; the comparisons made on Values become guards.
2. :mod:`.plan`: the tape as a few big calls (nodes of a level grouped, sums and
   max chains fused, a layer's products as one matrix product); ``print(step.program)``
   shows them as matrix equations (:mod:`.notation`).
3. :mod:`.replay`: the groups run over a batch, forward then backward, with the
   op table on arrays (:mod:`.vector`).

The scalar engine stays the reference: each op's vectorised forward and local
derivatives are tested against the op table's on the same points, and the
replay follows the engine's rules (0 × anything = 0 in the backward pass). Only
first derivatives: the replay has no ``create_graph``. NumPy is imported only
when a step is first called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..value import ANOMALY, NO_GRAD, Value, _modes
from .trace import CHECKED_ROWS, Guard, Tape, TapeEntry, compare_tapes, trace

if TYPE_CHECKING:
    from .plan import Program
    from .vector import VectorOp

__all__ = [
    "CHECKED_ROWS",
    "FLOAT32_RTOL",
    "CompiledStep",
    "Guard",
    "Tape",
    "TapeEntry",
    "compare_tapes",
    "compile",
    "trace",
    "vector_ops",
]

DTYPES = ("float64", "float32")
# float32 against float64, relative to the largest gradient: the documented tolerance
# (docs/compile.md; tests/test_compiled_dtype.py holds every op to it).
FLOAT32_RTOL = 1e-4


def _numpy() -> Any:
    try:
        import numpy as np
    except ImportError:
        raise ImportError("autograd_lite.compile needs NumPy: pip install numpy") from None
    return np


def vector_ops() -> dict[str, VectorOp]:
    """The op table on NumPy arrays (see :mod:`.vector`); imports NumPy."""
    _numpy()
    from .vector import vector_ops as table

    return table()


class CompiledStep:
    """``step(X, Y)``: the mean loss over the rows, gradients added into ``p.grad``.

    Made by :func:`compile`; see there. ``tape`` is the recorded program (None
    until the first call: its sizes come from the data); ``plan`` lists the
    groups of NumPy calls the tape became, one line each; ``program`` prints them
    as matrix equations. ``theta`` is the flat array of the parameters the step
    holds between calls (see :meth:`flat`).
    """

    def __init__(
        self,
        loss_fn: Callable[..., Any],
        params: Sequence[Value],
        has_aux: bool = False,
        dtype: str = "float64",
    ) -> None:
        if not callable(loss_fn):
            raise TypeError(f"compile: loss_fn must be callable, got {loss_fn!r}")
        params = list(params)
        for p in params:
            if not isinstance(p, Value):
                raise TypeError(f"compile: every parameter must be a Value, got {p!r}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("compile: a Value appears twice in params")
        if dtype not in DTYPES:
            raise ValueError(f"compile: dtype must be 'float64' or 'float32', got {dtype!r}")
        self.loss_fn, self.params, self.has_aux, self.dtype = loss_fn, params, has_aux, dtype
        self.tape: Tape | None = None
        self.plan: list[str] = []  # the NumPy calls the tape became, one line per group
        self.program: Program | None = None  # the last program run; print() it
        self.aux: Any = None  # with has_aux: the aux values of the last call, shape (n, k)
        self.theta: Any = None  # the parameters as one float64 array (pull(), flat())
        self._programs: dict[tuple[int, int], list[Any]] = {}

    def __call__(self, X: Any, Y: Any) -> Any:
        """The mean loss over the rows of X and Y; ∂L/∂p added to ``p.grad``."""
        self.pull()
        loss, grads, values = self._run(X, Y)
        if grads is not None:  # inside no_grad() nothing is added, as backward on a leaf
            for p, g in zip(self.params, memoryview(grads)):  # floats, faster than tolist()
                p.grad += g
        if self.has_aux:
            return loss, values
        return loss

    def flat(self, X: Any, Y: Any) -> tuple[float, Any]:
        """(mean loss, ∂L/∂θ as a flat float64 array) at the parameters ``theta`` holds.

        The fast path for an optimizer that works on the flat array (as
        ``nn.train.fit(compile=True)`` does): no Value is read or written, so a step
        pays no Python work per parameter. ``pull()`` first copies the Values into
        ``theta``; ``push()`` copies ``theta`` back into them.
        """
        if self.theta is None:
            self.pull()
        loss, grads, _ = self._run(X, Y)
        return loss, grads

    def pull(self) -> None:
        """theta ← the parameters' ``.data`` (one pass over the Values)."""
        np = _numpy()
        data = [p.data for p in self.params]  # a list first: faster than a generator
        self.theta = np.fromiter(data, np.float64, len(data))

    def push(self) -> None:
        """Each parameter's ``.data`` ← its entry of ``theta`` (one pass over the Values)."""
        for p, v in zip(self.params, self.theta.tolist()):
            p.data = v

    def _run(self, X: Any, Y: Any) -> tuple[float, Any, Any]:
        np = _numpy()
        dtype = np.float64 if self.dtype == "float64" else np.float32
        X = np.asarray(X, dtype=dtype)
        Y = np.asarray(Y, dtype=dtype)
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
        self.program = program
        mode = _modes.get()
        loss, grads, values = program.run(
            self.theta, X, Y, aux=aux, backward=not mode & NO_GRAD, anomaly=bool(mode & ANOMALY)
        )
        if self.has_aux:
            self.aux = values
        return loss, grads, values

    def _program(self, X: Any, Y: Any) -> tuple[Program, Any]:
        """The program for X's and Y's widths: traced on the first call on the first row
        without a NaN, and checked against up to :data:`CHECKED_ROWS` other rows (the
        rows holding the columns' extremes first) as soon as a batch holds a row that
        differs from the traced one."""
        key = (X.shape[1], Y.shape[1])
        entry = self._programs.get(key)
        if entry is None:
            from .plan import Program
            from .trace import traced_row

            r0 = traced_row(X, Y)
            x0, y0 = X[r0].astype(float), Y[r0].astype(float)
            tape, aux = trace(self.loss_fn, self.params, x0, y0, row=r0)
            self._check_aux(aux)
            keep = [*(aux or ()), *(i for g in tape.guards for i in (g.a, g.b) if i is not None)]
            program = Program(tape, len(self.params), *key, keep=keep, dtype=self.dtype)
            entry = [program, aux, (r0, X[r0].copy(), Y[r0].copy())]
            self._programs[key] = entry
            self.tape, self.plan = tape, program.plan
        program, aux, first = entry
        if first is not None and not (  # not yet checked against other samples; a
            len(X) == 1 and X.tobytes() == first[1].tobytes() and Y.tobytes() == first[2].tobytes()
        ):  # batch of the traced row alone has nothing to check (the quick test, in bytes)
            from .trace import check_row, rows_to_check

            r0, x0, y0 = first
            rows = rows_to_check(X, Y, x0, y0)
            for r in rows:
                x, y = X[r].astype(float), Y[r].astype(float)
                check_row(program.tape, self.loss_fn, self.params, x, y, (r0, r))
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


def compile(
    loss_fn: Callable[[list[Value], list[Value]], Any],
    params: Sequence[Value],
    *,
    has_aux: bool = False,
    dtype: str = "float64",
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

    The first call traces the graph of one sample (``step.tape``, printable; the
    first row without a NaN) and compares it with the graphs of up to 8 other rows
    (the rows holding the columns' smallest and largest values first, never a NaN
    row): if they differ (an ``if`` on ``v.data``) or a constant does (a sample's
    number baked in), ValueError names the first differing node. A comparison of
    Values made while tracing (``x[0] > 5``, Python's ``max`` of Values) is checked
    on every row of every call, and a row where it comes out otherwise raises
    ValueError naming the row. What stays unchecked: a branch on ``.data`` that no
    compared row takes. A value out of an op's domain raises the scalar op's error
    with the sample's row. First derivatives only: there is no ``create_graph``.

    ``dtype="float32"`` replays in single precision (the parameters stay float64
    Values; gradients agree with float64 to about 1e-4 of the largest one, see
    docs/compile.md). ``step.program`` prints the matrix program the replay found.

    With ``has_aux=True``, ``loss_fn`` returns ``(loss, aux)``, aux a list of
    Values of the graph (e.g. the model's outputs), and ``step(X, Y)`` returns
    ``(mean loss, values)``, values of shape (n, len(aux)).

    Inside ``no_grad()`` a step only evaluates (no gradient is added); inside
    ``detect_anomaly()`` a NaN or an infinity made by the replay, forward or
    backward, raises FloatingPointError naming the op and the sample's row.
    """
    return CompiledStep(loss_fn, params, has_aux=has_aux, dtype=dtype)
