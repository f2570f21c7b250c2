"""Stage 2 of ``compile``, the plan: a tape turned into a few big NumPy calls.

Running the tape one NumPy call per node is only ~20× faster than the scalar
engine: a NumPy call costs a microsecond whatever its size. The plan makes
*fewer, bigger* calls:

1. **Grouping.** Nodes at the same topological level (the longest path from a
   leaf) that apply the same op run as one call on a block of columns.
2. **Fused sums.** A chain of additions ``((b + t0) + t1) + ...`` whose partial
   sums are used nowhere else is one n-ary sum (its gradient reaches every term
   unchanged, so nothing is lost); a chain of ``max`` likewise one running maximum.
3. **Matrix products.** The terms ``w·v`` of such sums, with ``w`` computed from
   parameters only and ``v`` from the sample, are what a layer ``W·h + b`` is
   made of: all sums of a level together are one matrix product.
4. **Parameter-only values** (an L2 penalty written inside ``loss_fn``) do not
   depend on the sample: they are computed once per call, not once per row.

:class:`Program` holds the groups; ``str(program)`` prints them as matrix
equations (see :mod:`.notation`), ``run`` replays them (:mod:`.replay`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .replay import Columns, MaxGroup, OpGroup, Run, SoftmaxCEGroup, SumGroup, finite
from .trace import FIXED, Tape


class _Node:
    """A node of the replay program (after fusion).

    kind: "leaf", "op", "sum" or "maxn". A sum has ``terms`` (same space as the sum),
    ``lin`` pairs (w, v): w parameter-only, v per-sample, and ``bias`` (one
    parameter-only node added to a per-sample sum, or None). A maxn is a chain
    ``max(max(t0, t1), t2)…`` over its ``terms``.
    """

    __slots__ = (
        "kind",
        "op",
        "args",
        "terms",
        "lin",
        "bias",
        "static",
        "tape",
        "level",
        "replaces",
    )

    def __init__(
        self,
        kind: str,
        static: bool,
        tape: int | None = None,
        op: str = "",
        args: Sequence[int] = (),
    ) -> None:
        # One is made per tape node, so the empty fields share the empty tuple: the
        # kinds that fill them assign their own lists.
        self.kind = kind
        self.static = static
        self.tape = tape
        self.op = op
        self.args = args
        self.terms: Sequence[int] = ()
        self.lin: Sequence[tuple[int, int]] = ()
        self.bias: int | None = None
        self.level = 0
        self.replaces: Sequence[int] = ()  # an "sce" node: the tape nodes it stands for

    def inputs(self) -> list[int]:
        if self.kind == "op":
            return list(self.args)
        if self.kind == "maxn":
            return list(self.terms)
        if self.kind == "sce":
            return [*self.terms, *self.args]
        out = list(self.terms)
        for w, v in self.lin:
            out += (w, v)
        if self.bias is not None:
            out.append(self.bias)
        return out


def _fuse(
    tape: Tape, keep: Sequence[int] = (), losses: bool = True
) -> tuple[list[_Node], list[bool]]:
    """The replay's nodes: add chains fused into sums, w·v terms and bias split off,
    chains of three or more ``max`` into one row-wise maximum, and (with ``losses``) a
    softmax cross-entropy into one node (:func:`_softmax_ce`).

    The nodes of ``keep`` (and the loss) are never fused away: their values are read.
    """
    n = len(tape)
    static = [False] * n  # computed from parameters and constants alone
    needs = [False] * n  # a parameter is below it: it needs a gradient
    uses = [0] * n
    uses[-1] = 1  # the loss
    for i in keep:
        uses[i] += 1
    for i, (op, parents, _) in enumerate(tape):
        if parents:  # one or two: the first and the last
            static[i] = static[parents[0]] and static[parents[-1]]
            needs[i] = needs[parents[0]] or needs[parents[-1]]
            for p in parents:
                uses[p] += 1
        else:
            static[i] = op == "param" or op in FIXED
            needs[i] = op == "param"
    fused: list[_Node | None] = [None] * n  # the sums, running maxima and softmaxes
    sums: dict[int, list[int]] = {}
    chains: dict[int, list[int]] = {}
    absorbed = [False] * n
    for i, (op, parents, _) in enumerate(tape):
        if op == "max" and static[parents[1]] == static[i]:
            # max(max(t0, t1), t2): the partial max used only here; every term of the
            # chain in the chain's space (the running maximum reads one block)
            a, b = parents
            if a in chains and uses[a] == 1 and static[a] == static[i]:
                chains[i] = chains.pop(a) + [b]
                absorbed[a] = True
            elif static[a] == static[i]:
                chains[i] = [a, b]
        if op != "add":
            continue
        terms: list[int] = []
        for p in parents:
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
    for i, terms in chains.items():
        if len(terms) > 2:
            node = _Node("maxn", static[i], i)
            node.terms = terms
            fused[i] = node
    extra: list[_Node] = []
    for i, terms in sums.items():
        node = _Node("sum", static[i], i)
        fused[i] = node
        if static[i]:
            node.terms = terms
            continue
        fixed, rest, lin = [], [], []
        for t in terms:
            op, parents, _ = tape[t]
            if static[t]:
                fixed.append(t)
            elif op == "mul" and uses[t] == 1 and static[parents[0]] != static[parents[1]]:
                a, b = parents
                lin.append((a, b) if static[a] else (b, a))
                absorbed[t] = True
            else:
                rest.append(t)
        node.terms, node.lin = rest, lin
        if len(fixed) == 1:
            node.bias = fixed[0]
        elif fixed:
            bias = _Node("sum", True)
            bias.terms = fixed
            node.bias = n + len(extra)
            extra.append(bias)
    for i in sums if losses else ():  # a softmax cross-entropy ends at a sum
        found = _softmax_ce(tape, fused, uses, i)
        if found is not None:
            sce, inner = found
            fused[i] = sce
            for j in inner:
                absorbed[j] = True
    # Every other node that is not absorbed is an op or a leaf, made here: a layer's
    # products, the most numerous nodes, were absorbed into its sums.
    program: list[_Node | None] = [None] * n
    for i, (op, parents, _) in enumerate(tape):
        if not absorbed[i]:
            node = fused[i]
            if node is None:
                node = (
                    _Node("op", static[i], i, op, parents)
                    if parents
                    else _Node("leaf", static[i], i)
                )
            program[i] = node
    program += extra
    needs += [any(needs[t] for t in node.terms) for node in extra]
    _levels(program, n)
    return program, needs


def _softmax_ce(
    tape: Tape, nodes: list[Any], uses: list[int], i: int
) -> tuple[_Node, list[int]] | None:
    """The softmax cross-entropy ``Σ_k (log Σ_j exp(z_j − m) − (z_k − m)) · y_k``, m the
    running maximum of the z, as ``nn.softmax_cross_entropy`` builds it, ending at the
    sum node i: (one "sce" node reading the z and the y, the tape nodes it replaces), or
    None when node i is not that pattern or a partial result is read elsewhere."""
    node = nodes[i]
    if node is None or node.kind != "sum" or node.static or node.lin or node.bias is not None:
        return None
    k = len(node.terms)
    if k < 3:
        return None
    pairs = []  # (t_k, y_k) for every term (lse − t_k)·y_k
    lse = None
    for v in node.terms:
        e = tape[v]
        if e.op != "mul" or uses[v] != 1:
            return None
        u, y = e.parents if tape[e.parents[1]].op == "y" else e.parents[::-1]
        if tape[y].op != "y" or tape[u].op != "sub" or uses[u] != 1:
            return None
        log_of, t = tape[u].parents
        if lse is None:
            lse = log_of
        if log_of != lse:
            return None
        pairs.append((t, y))
    if tape[lse].op != "log" or uses[lse] != k:
        return None
    (s,) = tape[lse].parents
    total = nodes[s]
    if total is None or total.kind != "sum" or total.lin or total.bias is not None:
        return None
    if uses[s] != 1 or len(total.terms) != k:
        return None
    exps = total.terms
    shifted = []
    for x in exps:
        if tape[x].op != "exp" or uses[x] != 1:
            return None
        shifted.append(tape[x].parents[0])
    m = tape[shifted[0]].parents[1] if tape[shifted[0]].op == "sub" else None
    top = nodes[m] if m is not None else None
    if top is None or top.kind != "maxn" or uses[m] != k or len(top.terms) != k:
        return None
    z_of = {}
    for t in shifted:
        if tape[t].op != "sub" or tape[t].parents[1] != m or uses[t] != 2:
            return None
        z_of[t] = tape[t].parents[0]
    if sorted(z_of.values()) != sorted(top.terms) or len(set(top.terms)) != k:
        return None
    if sorted(t for t, _ in pairs) != sorted(z_of):
        return None
    fused = _Node("sce", False, i)
    fused.terms = [z_of[t] for t, _ in pairs]
    fused.args = [y for _, y in pairs]
    inner = [m, s, lse, *exps, *z_of, *node.terms]
    inner += [p for v in node.terms for p in tape[v].parents if tape[p].op == "sub"]
    # every tape node from the logits and targets up to i (with the partial maxima and
    # partial sums that the chains had absorbed): what the program's line replays
    stop, seen, todo = {*fused.terms, *fused.args}, {i}, [i]
    while todo:
        for p in tape[todo.pop()].parents:
            if p not in stop and p not in seen:
                seen.add(p)
                todo.append(p)
    fused.replaces = sorted(seen)
    return fused, inner


def _levels(program: list[_Node | None], n: int) -> None:
    """Each node's level: the longest path from a leaf (a leaf's is 0).

    One pass in tape order, each node after its inputs. The extra nodes (after the n
    tape nodes) are the parameter-only biases of per-sample sums: each is read by the
    sum that made it and reads tape nodes before that sum, so it is placed just
    before it.
    """
    level = [0] * len(program)

    def place(i: int) -> None:
        node = program[i]
        node.level = level[i] = 1 + max(map(level.__getitem__, node.inputs()))

    for i in range(n):
        node = program[i]
        if node is not None and node.kind != "leaf":
            if node.bias is not None and node.bias >= n:
                place(node.bias)
            place(i)


def _describe(key: tuple, group: Any, k: int) -> str:
    """One group as a line: ``level 3, per sample: relu ×16``."""
    where = "per sample" if key[1] == 0 else "parameters only"
    if key[2] == "maxn":
        return f"level {key[0]}, {where}: max over {len(group.terms.cols)} (a running maximum)"
    if key[2] == "sce":
        return f"level {key[0]}, {where}: softmax cross-entropy over {len(group.Z.cols)} logits"
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


class Program:
    """A tape turned into grouped NumPy calls over a batch.

    Memory: the per-sample values and their gradients are two n × ``width[0]``
    arrays of ``dtype`` (8 bytes an entry for float64, 4 for float32), kept between
    calls of the same batch size (the last :data:`BUFFERS` sizes): per row
    2 × width[0] × 8 bytes in float64, 1.2 kB for the 2-16-16-1 demo and for a
    2-16-16-3 softmax (its cross-entropy fused), 2.4 kB for 64-32-10; a step allocates
    17 B, 64 B and 176 B a row more for the arrays NumPy's calls return (relu's mask,
    the softmax's exponentials; benchmarks/bench_compile.py measures both). Not
    thread-safe: a program's buffers serve one call at a time.
    """

    BUFFERS = 4

    def __init__(
        self,
        tape: Tape,
        n_params: int,
        d: int,
        m: int,
        keep: Sequence[int] = (),
        dtype: Any = np.float64,
        losses: bool = True,
    ) -> None:
        self.tape, self.P, self.d, self.m, self.dtype = tape, n_params, d, m, np.dtype(dtype)
        self.keep = list(keep)
        program, needs = _fuse(tape, keep, losses)
        self._plain: Program | None = None  # the same tape without fused losses
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
        self.consts = np.asarray(consts, dtype=self.dtype)
        width = [d + m, 1 + n_params + len(consts)]
        buckets: dict[tuple, list[int]] = {}
        for i, node in enumerate(program):
            if node is None or node.kind == "leaf":
                continue
            space = 1 if node.static else 0
            if node.kind == "sum":
                key: tuple = (node.level, space, "sum")
            elif node.kind in ("maxn", "sce"):
                key = (node.level, space, node.kind, i)
            else:
                arg_spaces = tuple(1 if program[a].static else 0 for a in node.args)
                key = (node.level, space, node.op, arg_spaces)
            buckets.setdefault(key, []).append(i)
        self.groups: list[Any] = []
        self.plan: list[str] = []  # one line per group, for teaching
        self.keys: list[tuple] = []
        reads: set[int] = set()  # the per-sample columns some group reads
        for key in sorted(buckets, key=lambda k: (k[0], k[1], k[2:])):
            members = buckets[key]
            space = key[1]
            start = width[space]
            for j, i in enumerate(members):
                col[i] = (space, start + j)
            width[space] += len(members)
            out = Columns(space, list(range(start, start + len(members))))
            nodes = [program[i] for i in members]
            if key[2] == "sum":
                group: Any = SumGroup(space, out, nodes, col, needs, d)
                if group.terms is not None and space == 0:
                    reads.update(group.terms.cols.tolist())
                if group.lin and not group.from_x:
                    reads.update(group.V.cols.tolist())
            elif key[2] == "maxn":
                (node,) = nodes
                terms = Columns(space, [col[t][1] for t in node.terms])
                group = MaxGroup(space, out, terms, node.tape)
                group.needs = any(needs[t] for t in node.terms)
                if space == 0:
                    reads.update(terms.cols.tolist())
            elif key[2] == "sce":
                (node,) = nodes
                Z = Columns(0, [col[t][1] for t in node.terms])
                Y = Columns(0, [col[y][1] for y in node.args])
                group = SoftmaxCEGroup(out, Z, Y, node.replaces)
                group.needs = any(needs[t] for t in node.terms)
                reads.update(Z.cols.tolist())
                reads.update(Y.cols.tolist())
            else:
                args = [
                    Columns(key[3][k], [col[node.args[k]][1] for node in nodes], broadcast=True)
                    for k in range(len(nodes[0].args))
                ]
                group = OpGroup(key[2], space, out, args, [node.tape for node in nodes])
                group.needs = [any(needs[node.args[k]] for node in nodes) for k in range(len(args))]
                reads.update(c for a in args if a.space == 0 for c in a.cols.tolist())
            group.grad = any(needs[i] for i in members)
            self.groups.append(group)
            self.keys.append(key)
            self.plan.append(_describe(key, group, len(members)))
        self.width = width
        self.fused = any(isinstance(group, SoftmaxCEGroup) for group in self.groups)
        self.root = col[len(tape) - 1]
        self.col = col
        self.needs = needs
        self.guards = [
            (g, col[g.a], col[g.b] if g.b is not None else g.number) for g in tape.guards
        ]
        for i in [len(tape) - 1, *keep]:
            if col[i][0] == 0:
                reads.add(col[i][1])
        # X is copied into the per-sample array only when a group reads it there; a
        # layer's products read X itself.
        self.x_in_D = any(c < d for c in reads)
        self.zero_runs = self.first_writes()
        self._buffers: dict[int, Buffers] = {}
        # The parameter row and its gradient, held across calls: constants written once,
        # the parameters copied in each call, views of the layers' weights made once.
        self.S = np.empty((1, width[1]), dtype=self.dtype)
        self.G1 = np.empty((1, width[1]), dtype=self.dtype)
        self.theta_view = self.S[0, 1 : 1 + n_params]  # θ, copied in each call
        self.dtheta_view = self.G1[0, 1 : 1 + n_params]
        self.S[0, 0] = 0.0
        self.S[0, 1 + n_params : 1 + n_params + len(consts)] = self.consts
        for group in self.groups:
            if isinstance(group, SumGroup):
                group.bind(self.S, self.G1)

    def first_writes(self) -> list[slice]:
        """Mark each backward write that comes first to its per-sample gradient columns
        as an assignment (``group.assign``), and return the runs of columns that must
        still be zeroed before the backward pass: those read, or added into, before any
        write. The other columns are written before they are read, so the n × width
        gradient array is not zeroed on every call (only in the careful pass)."""
        written: set[int] = set()
        zero: set[int] = set()
        space, c = self.root
        if space == 0:
            written.add(c)
        for group in reversed(self.groups):
            if not group.grad:
                continue
            if group.space == 0:  # its gradient is read
                zero.update(set(group.out.cols.tolist()) - written)
            for k, columns, assignable in group.writes():
                cols = set(columns.cols.tolist())
                if assignable and not cols & written:
                    group.assign.add(k)
                else:
                    zero.update(cols - written)
                written |= cols
        runs: list[slice] = []
        for col in sorted(zero):
            if runs and runs[-1].stop == col:
                runs[-1] = slice(runs[-1].start, col + 1)
            else:
                runs.append(slice(col, col + 1))
        return runs

    def plain(self) -> Program:
        """This tape as a program without fused losses (built on first use)."""
        if self._plain is None:
            self._plain = Program(
                self.tape, self.P, self.d, self.m, self.keep, self.dtype, losses=False
            )
        return self._plain

    def buffers(self, n: int) -> Buffers:
        """The per-sample values and gradients for a batch of n rows, with every group's
        views of them, reused between calls (np.empty: no page is zeroed; every column
        is written before it is read)."""
        buffers = self._buffers.pop(n, None)
        if buffers is None:
            if len(self._buffers) >= self.BUFFERS:
                self._buffers.pop(next(iter(self._buffers)))
            buffers = Buffers(self, n)
        self._buffers[n] = buffers  # the most recent last
        return buffers

    def run(
        self,
        theta: Any,
        X: Any,
        Y: Any,
        *,
        aux: Any = None,
        backward: bool = True,
        anomaly: bool = False,
    ) -> tuple:
        """(mean loss, ∂ mean / ∂ θ or None, aux values) for the rows of X and Y, at the
        parameters θ (a flat array).

        ``anomaly``: as inside ``detect_anomaly()``, a NaN or an infinity made by
        any group, forward or backward, raises FloatingPointError naming the op.
        """
        fused = self.fused
        if fused and anomaly:
            return self.plain().run(theta, X, Y, aux=aux, backward=backward, anomaly=True)
        n = X.shape[0]
        buffers = self.buffers(n)
        if buffers.X is not None:
            buffers.X[...] = X
        buffers.Y[...] = Y
        self.theta_view[...] = theta
        A = buffers.A
        run = Run(X)
        saved = []
        grads = None
        with np.errstate(all="ignore"):
            for group, views in zip(self.groups, buffers.views):
                saved.append(group.forward(A, run, views))
                if anomaly:
                    run.anomaly(group, A[group.space][:, group.out.sel], "forward")
            if self.guards:
                self.check_guards(A)
            losses = buffers.loss
            loss = (
                float(np.add.reduce(losses) * (1.0 / n)) if self.root[0] == 0 else float(losses[0])
            )
            if fused and not math.isfinite(loss):  # see the comment below
                return self.plain().run(theta, X, Y, aux=aux, backward=backward)
            if backward:
                # Without masks first (the plain version is careful=True on every call:
                # a finiteness check and np.where in every group); see replay's docstring
                # for why a finite loss and finite gradients prove the masks changed nothing.
                grads = self.backward(buffers, saved, careful=anomaly, anomaly=anomaly, run=run)
                ok = finite(grads)
                if fused and not ok:
                    # A NaN or an infinity took part: the plain program, op by op, has
                    # the engine's masks, its errors and its rounding at the max.
                    return self.plain().run(theta, X, Y, aux=aux, backward=True)
                if not anomaly and not (ok and math.isfinite(loss)):
                    # A NaN or an infinity took part: again with the engine's masks.
                    grads = self.backward(buffers, saved, careful=True)
        values = None
        if aux is not None:
            values = np.empty((n, len(aux)), dtype=self.dtype)
            for k, i in enumerate(aux):
                space, c = self.col[i]
                values[:, k] = A[space][:, c]
        return loss, grads, values

    def backward(
        self,
        buffers: Buffers,
        saved: list[Any],
        *,
        careful: bool,
        anomaly: bool = False,
        run: Run | None = None,
    ) -> Any:
        """∂ mean loss / ∂ θ: the groups in reverse, each adding its local derivatives
        times its gradient into its inputs' gradients."""
        A, G = buffers.A, buffers.G
        n = G[0].shape[0]
        if careful:  # every write adds: all zeroed (in place, no fresh pages)
            G[0].fill(0.0)
        else:  # the first write to a column assigns it (first_writes): the rest zeroed
            for run in self.zero_runs:
                G[0][:, run] = 0.0
        self.G1.fill(0.0)
        buffers.dloss[...] = 1.0 / n if self.root[0] == 0 else 1.0
        for group, s, views in zip(reversed(self.groups), reversed(saved), reversed(buffers.views)):
            if group.grad:
                group.backward(A, G, s, careful, views)
                if anomaly and run is not None:
                    run.anomaly(group, G[0], "backward")
                    run.anomaly(group, G[1], "backward", static=True)
        return self.dtheta_view.copy()

    def check_guards(self, A: list[Any]) -> None:
        """Raise ValueError at the first row where a comparison traced on Values comes
        out otherwise: that row would take another branch of ``loss_fn``."""
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

    def __str__(self) -> str:
        from .notation import program_text

        return program_text(self)


class Buffers:
    """A program's arrays for batches of n rows, and every group's views of them.

    ``A = [D, S]`` and ``G = [G0, G1]``: the per-sample values and their gradients (n ×
    width[0], column-major) and the parameter row with its gradient (held by the
    program). Slicing a view costs a few hundred nanoseconds, a few dozen times a call:
    made once per buffer set, the views take that off every call of the same size.
    """

    def __init__(self, program: Program, n: int) -> None:
        shape, dtype = (n, program.width[0]), program.dtype
        D = np.empty(shape, dtype=dtype, order="F")
        G0 = np.empty(shape, dtype=dtype, order="F")
        self.A, self.G = [D, program.S], [G0, program.G1]
        d, m = program.d, program.m
        self.X = D[:, :d] if program.x_in_D else None  # where X is copied, if a group reads it
        self.Y = D[:, d : d + m]
        space, c = program.root
        self.loss = self.A[space][:, c]
        self.dloss = self.G[space][:, c]
        self.views = [group.views(self.A, self.G) for group in program.groups]


_COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
