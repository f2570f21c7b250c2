"""Stage 3 of ``compile``, the replay: the planned groups run over a batch with NumPy.

Every tape node is a column: per-sample values in ``D`` (n rows, column-major, so
a group's block of columns is one contiguous array), values computed from the
parameters alone in ``S`` (one row). Each group is one call (or a few) on a block:

- :class:`OpGroup`: one op of :mod:`.vector` on a block of columns;
- :class:`MaxGroup`: a chain ``max(max(z0, z1), z2) …`` (the softmax's max over the
  logits) as one running maximum along the row;
- :class:`SoftmaxCEGroup`: the softmax cross-entropy over a row of logits, one step
  forward and one back;
- :class:`SumGroup`: sums ``Σ terms + Σ w·v + bias``; the products of a layer are one
  matrix product, fed straight from X when they read the inputs.

**Fast path, careful path.** The engine's rules at 0·∞ (a zero local derivative
passes on 0 even against an infinite gradient; a zero gradient passes nothing on
even through an infinite slope) and at NaN change a result only where a NaN or an
infinity takes part. So a call first runs without masks; a NaN or an infinity that
takes part in the backward pass always reaches a parameter's gradient (sums and
products keep it), and one that takes part in the forward pass reaches the loss.
Only when the loss or a gradient comes out non-finite is the backward pass run
again, carefully: the masks of the engine's rules, group by group. Each op with a
domain (log, div, √, exp's overflow, …) checks its output block for finiteness
(one reduction), and only a non-finite block is searched for the row to name.

**Assigned, not added.** A node's gradient is the sum of what its readers send back,
so the plain backward pass zeroes the gradient array and every group adds into it.
Walking the groups in backward order once, :meth:`Program.first_writes` finds, for
each block of columns, the write that comes first: that one assigns (relu's
``dZ = dH ⊙ 1[Z > 0]`` straight into ``dZ``, a layer's ``dH = dZ·W`` straight into
``dH``), the later ones add, and only the columns read or added into before any write
are zeroed. The careful pass zeroes everything and adds, as the plain version.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..ops import OPS
from .vector import VectorOp, vector_ops


def finite(a: Any) -> bool:
    """All entries finite? (One reduction: a NaN or an infinity makes the sum non-finite;
    a finite sum that overflows only sends the caller to its careful path.)"""
    return math.isfinite(np.add.reduce(a, axis=None))


class Columns:
    """A gather from (or a scatter-add into) columns of one space's array."""

    def __init__(self, space: int, cols: Sequence[int], broadcast: bool = False) -> None:
        self.space = space
        self.cols = np.asarray(cols, dtype=np.intp)
        k = len(cols)
        contiguous = k > 0 and all(cols[j] == cols[0] + j for j in range(k))
        self.sel: Any = slice(cols[0], cols[0] + k) if contiguous else self.cols
        # An op's argument that is one column repeated (the m of z − m, the lse of
        # lse − s): with ``broadcast``, read as an (n, 1) view that the op broadcasts,
        # where the plain version gathers k copies of it.
        self.single = broadcast and k > 1 and len(set(cols)) == 1
        if self.single:
            self.sel = slice(cols[0], cols[0] + 1)
        self.dup = len(set(cols)) < k and not self.single
        if self.dup:
            order = np.argsort(self.cols, kind="stable")
            sorted_cols = self.cols[order]
            starts = np.flatnonzero(np.r_[True, sorted_cols[1:] != sorted_cols[:-1]])
            self.order, self.starts, self.unique = order, starts, sorted_cols[starts]
        self.block = space == 0 and not self.single and not self.dup
        if self.block:
            self.add = self._add_block  # type: ignore[method-assign]  # the common case

    def view(self, A: Any) -> Any:
        """A[:, cols] as a view, or None when the columns are gathered (a copy, so made
        on every call). Groups make their views once per buffer set (``plan.Buffers``)."""
        return A[:, self.sel] if isinstance(self.sel, slice) else None

    def target(self, G: Any) -> Any:
        """The view of G that ``add`` adds into with a plain ``+=``, or None when ``add``
        must sum repeated columns or rows."""
        return G[:, self.sel] if self.block and isinstance(self.sel, slice) else None

    def _add_block(self, G: Any, c: Any) -> None:
        """``add`` for distinct per-sample columns (the branches below, decided once)."""
        G[:, self.sel] += c

    def add(self, G: Any, c: Any) -> None:
        """G[:, cols] += c, summing repeated columns (and rows, into the static space)."""
        if self.space == 1 and c.shape[0] > 1:
            c = np.add.reduce(c, axis=0, keepdims=True)
        if self.single:  # the repeated column gathers the row's sum
            G[:, self.sel] += np.add.reduce(c, axis=1, keepdims=True)
        elif not self.dup:
            G[:, self.sel] += c
        elif self.space == 1:
            G[0] += np.bincount(self.cols, weights=c[0], minlength=G.shape[1])
        else:
            G[:, self.unique] += np.add.reduceat(c[:, self.order], self.starts, axis=1)


def zero_times_anything(c: Any, d: Any, g: Any) -> Any:
    """c = d·g with 0 × anything = 0, as ``backward``: a zero local derivative passes
    on nothing even against an infinite gradient, a zero gradient nothing even through
    an infinite slope."""
    if finite(c):
        return c
    return np.where((g == 0) | (d == 0), 0.0, c)


class OpGroup:
    """Nodes of one level applying one op: one call on a block of columns."""

    def __init__(
        self, op: str, space: int, out: Columns, args: list[Columns], tape_nodes: list[int]
    ) -> None:
        self.op, self.vop = op, vector_ops()[op]
        self.space, self.out, self.args, self.tape_nodes = space, out, args, tape_nodes
        self.needs: list[bool] = []
        self.grad = True
        self.assign: set[int] = set()  # the writes that come first to their columns

    def writes(self) -> list[tuple[int, Columns, bool]]:
        """The backward pass's writes into per-sample gradients, in order: (which, the
        columns, whether a plain ``=`` could do it); see :meth:`Program.first_writes`."""
        return [
            (k, a, isinstance(a.sel, slice) and a.block)
            for k, (a, needs) in enumerate(zip(self.args, self.needs))
            if needs and a.space == 0
        ]

    def views(self, A: list[Any], G: list[Any]) -> Any:
        """The group's views of one buffer set: the arguments (None when one is gathered),
        its output block and gradient (views: the group's columns are contiguous) and
        the arguments' gradients that a plain ``+=`` reaches (None where not)."""
        xs = [a.view(A[a.space]) for a in self.args]
        return (
            None if any(x is None for x in xs) else xs,
            A[self.space][:, self.out.sel],
            G[self.space][:, self.out.sel],
            [a.target(G[a.space]) for a in self.args],
        )

    def forward(self, A: list[Any], run: Run, views: Any) -> Any:
        xs, block, _, _ = views
        if xs is None:
            xs = [A[a.space][:, a.sel] for a in self.args]
        self.vop.forward(*xs, out=block)
        if self.vop.bad is not None and not finite(block):
            bad = self.vop.bad(block, *xs)
            if bad.any():
                run.domain_error(self, bad, xs)
        return xs

    def backward(self, A: list[Any], G: list[Any], xs: Any, careful: bool, views: Any) -> None:
        _, out, g, targets = views
        vop: VectorOp = self.vop
        rule = vop.fast_rule if vop.fast_rule is not None and not careful else vop.rule
        for k, (a, target, d, needs) in enumerate(
            zip(self.args, targets, rule(out, *xs), self.needs)
        ):
            if not needs:
                continue
            if k in self.assign and not careful:  # the first write: no zeroing, no add
                if isinstance(d, np.ndarray) or d not in (0, 1):
                    np.multiply(d, g, out=target)
                elif d == 1:
                    np.copyto(target, g)
                else:
                    target.fill(0.0)
                continue
            if not isinstance(d, np.ndarray):
                if d == 0:
                    continue
                c = g if d == 1 else d * g  # add's 1: the gradient itself (no copy)
            else:
                c = d * g
                if careful:
                    c = zero_times_anything(c, d, g)
            if target is not None:
                target += c  # in place: target is a view of G
            else:
                a.add(G[a.space], c)


class MaxGroup:
    """``max(…max(max(z0, z1), z2)…, z_{K−1})``, a chain whose partial maxima are used
    nowhere else, as one running maximum along the row (``np.maximum.accumulate``).

    The gradient is the chain's: at step k the rule of ``max`` (1 to the larger side,
    ½ each at a tie, 1 to both with a NaN) between the running maximum P_{k−1} and z_k,
    so z_k receives g · ∂max/∂z_k · Π_{j>k} ∂max/∂P_{j−1}: a product of 0s, ½s and 1s,
    exact. (The plain version: K − 1 groups of ``max``, one per step of the chain.)
    """

    def __init__(self, space: int, out: Columns, terms: Columns, tape_node: int) -> None:
        self.op, self.space, self.out, self.terms = "max", space, out, terms
        self.tape_nodes = [tape_node]
        self.rule = vector_ops()["max"].rule
        self.needs = True
        self.grad = True
        self.assign: set[int] = set()

    def writes(self) -> list[tuple[int, Columns, bool]]:
        """See :meth:`OpGroup.writes`: the terms' gradient, added."""
        return [(0, self.terms, False)] if self.needs and self.terms.space == 0 else []

    def views(self, A: list[Any], G: list[Any]) -> Any:
        """The terms (None when gathered), the output block and its gradient."""
        return (
            self.terms.view(A[self.terms.space]),
            A[self.space][:, self.out.sel],
            G[self.space][:, self.out.sel],
        )

    def forward(self, A: list[Any], run: Run, views: Any) -> Any:
        Z, out, _ = views
        if Z is None:
            Z = A[self.terms.space][:, self.terms.sel]
        np.maximum.reduce(Z, axis=1, keepdims=True, out=out)  # a NaN wins, as in the chain
        if not out.all():  # a zero: at a tie of ±0 the chain keeps the first side, where
            out[...] = self.chain(Z)[:, -1:]  # np.max may not: step by step, as the table
        return Z

    def chain(self, Z: Any) -> Any:
        """The chain's partial maxima P_k = max(P_{k−1}, z_k), as the op table's max."""
        P = np.maximum.accumulate(Z, axis=1)
        if not P.all():  # a zero: ties of ±0 keep the first side in the table's max
            P = Z.copy()
            for k in range(1, Z.shape[1]):
                x, y = P[:, k - 1], Z[:, k]
                P[:, k] = np.where((x < y) | (y != y), y, x)
        return P

    def backward(self, A: list[Any], G: list[Any], Z: Any, careful: bool, views: Any) -> None:
        if not self.needs:
            return
        _, out, g = views
        top = Z == out
        if (np.add.reduce(top, axis=1) == 1).all():
            # One largest term in every row (no tie with it, no NaN): the chain passes
            # all of g to it and exactly 0 to every other term, whatever their ties.
            F: Any = top
        else:  # the chain's rule step by step: ½ at each tie on the way up, 1 with a NaN
            P = self.chain(Z)
            dP, dZ = self.rule(None, P[:, :-1], Z[:, 1:])
            F = np.empty_like(Z)
            F[:, -1] = 1.0
            F[:, :-1] = np.cumprod(dP[:, ::-1], axis=1)[:, ::-1]  # Π_{j ≥ k} ∂P_j/∂P_{j−1}
            F[:, 1:] *= dZ
        c = F * g
        if careful:
            c = zero_times_anything(c, F, g)
        self.terms.add(G[self.terms.space], c)


class SoftmaxCEGroup:
    """The softmax cross-entropy as ``nn.softmax_cross_entropy`` builds it, one group:
    ``L = Σ_k y_k (log Σ_j e^{z_j − m} − (z_k − m))``, m = max_k z_k, that is
    ``logsumexp(Z) − Z[y]`` for one-hot Y, with the gradient
    ``∂L/∂z = softmax(z)·Σ_k y_k − y`` (``softmax(Z) − Y`` for one-hot Y) in one step.

    The engine's op-by-op gradient adds, through the max, a share that is zero up to
    rounding (the loss does not depend on the shift); this group leaves it out. With
    finite logits and targets every step is finite (the exponents are ≤ 0, the sum ≥ 1),
    so a NaN or an infinity here always shows in the loss, and :meth:`Program.run` then
    replays the plain program (one group per op, the engine's masks and errors).
    """

    op = "softmax_cross_entropy"

    def __init__(self, out: Columns, Z: Columns, Y: Columns, tape_nodes: list[int]) -> None:
        self.space, self.out, self.Z, self.Y, self.tape_nodes = 0, out, Z, Y, tape_nodes
        self.needs = True
        self.grad = True
        self.assign: set[int] = set()

    def writes(self) -> list[tuple[int, Columns, bool]]:
        """See :meth:`OpGroup.writes`: the logits' gradient."""
        return [(0, self.Z, isinstance(self.Z.sel, slice) and self.Z.block)] if self.needs else []

    def views(self, A: list[Any], G: list[Any]) -> Any:
        """The logits and targets (None when gathered), the loss column, its gradient,
        and the logits' gradient when a plain ``+=`` reaches it."""
        D = A[0]
        return (
            self.Z.view(D),
            self.Y.view(D),
            D[:, self.out.sel],
            G[0][:, self.out.sel],
            self.Z.target(G[0]),
        )

    def forward(self, A: list[Any], run: Run, views: Any) -> Any:
        Z, Y, loss, _, _ = views
        if Z is None:
            Z = A[0][:, self.Z.sel]
        if Y is None:
            Y = A[0][:, self.Y.sel]
        T = Z - np.maximum.reduce(Z, axis=1, keepdims=True)
        E = np.exp(T)
        S = np.add.reduce(E, axis=1, keepdims=True)
        T -= np.log(S)  # T = z − m − lse = log softmax
        np.multiply(T, Y, out=T)
        np.negative(np.add.reduce(T, axis=1, keepdims=True), out=loss)
        return E, S, Y

    def backward(self, A: list[Any], G: list[Any], saved: Any, careful: bool, views: Any) -> None:
        if not self.needs:
            return
        E, S, Y = saved
        _, _, _, g, target = views
        E *= np.add.reduce(Y, axis=1, keepdims=True) / S  # softmax · Σy
        E -= Y
        if 0 in self.assign and not careful:
            np.multiply(E, g, out=target)
            return
        E *= g
        if target is not None:
            target += E
        else:
            self.Z.add(G[0], E)


class SumGroup:
    """Sums of one level: Σ terms + Σ w·v (a matrix product) + a parameter-only bias."""

    def __init__(
        self,
        space: int,
        out: Columns,
        nodes: list[Any],
        col: dict[int, tuple[int, int]],
        needs: list[bool],
        d: int,
    ) -> None:
        # Which inputs need a gradient at all (a parameter below them).
        self.t_needs = any(needs[t] for node in nodes for t in node.terms)
        self.b_needs = any(needs[node.bias] for node in nodes if node.bias is not None)
        self.v_needs = any(needs[v] for node in nodes for _, v in node.lin)
        self.op, self.grad = "add", True
        self.tape_nodes = [node.tape for node in nodes]
        self.assign: set[int] = set()

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
        self.terms = Columns(space, tcols) if tcols else None
        self.tstarts = np.asarray(starts, dtype=np.intp)
        self.one_term = len(tcols) == len(starts)  # each sum has one term: no reduceat
        self.twhich: Any = slice(None) if len(which) == S else np.asarray(which, dtype=np.intp)
        self.tsum = np.asarray(tsum, dtype=np.intp)
        # Bias: one static column per sum that has one.
        bias = [(s, col[node.bias][1]) for s, node in enumerate(nodes) if node.bias is not None]
        self.bias = Columns(1, [c for _, c in bias]) if bias else None
        self.bwhich: Any = (
            slice(None) if len(bias) == S else np.asarray([s for s, _ in bias], dtype=np.intp)
        )
        # Every sum's bias, evenly spaced in the parameter row (a layer's): a view (bind).
        self.bstrides = (
            _affine(np.asarray([[c for _, c in bias]], dtype=np.intp))
            if len(bias) == S and len(bias) > 1 and not isinstance(self.bias.sel, slice)
            else None
        )
        # Linear terms w·v: V gathers the distinct v's; terms sorted by sum.
        lin = [(s, w, v) for s, node in enumerate(nodes) for w, v in node.lin]
        self.lin = bool(lin)
        self.from_x = False
        if lin:
            vs = sorted({v for _, _, v in lin}, key=lambda v: col[v][1])
            vpos = {v: k for k, v in enumerate(vs)}
            self.V = Columns(0, [col[v][1] for v in vs])
            self.vnodes = vs
            self.tv = np.asarray([vpos[v] for _, _, v in lin], dtype=np.intp)
            self.tw = np.asarray([col[w][1] for _, w, _ in lin], dtype=np.intp)
            self.ts = np.asarray([s for s, _, _ in lin], dtype=np.intp)
            self.W = Columns(1, self.tw.tolist())
            lwhich = sorted({s for s, _, _ in lin})
            self.lstarts = np.searchsorted(self.ts, lwhich).astype(np.intp)
            self.lwhich: Any = (
                slice(None) if len(lwhich) == S else np.asarray(lwhich, dtype=np.intp)
            )
            K = len(vs)
            self.dense = K * S <= 4 * len(lin) and len(set(zip(self.tv, self.ts))) == len(lin)
            self.padded = K * S != len(lin)  # some sum lacks some product: a 0 in W
            if self.dense:  # W as a K × S matrix of static columns, 0 = the constant zero
                index = np.zeros((K, S), dtype=np.intp)
                index[self.tv, self.ts] = self.tw
                self.windex = index
                self.wflat = index.ravel()
                self.wunique = len(set(self.wflat.tolist())) == index.size
                # A layer's weights lie in the parameter row at base + s·(K + 1) + k (each
                # unit's K weights, then its bias): then W is a strided view of that row,
                # neither gathered in the forward pass nor scattered in the backward.
                self.strides = _affine(index)
                # The products read every input column in order: V is X itself.
                self.from_x = (
                    isinstance(self.V.sel, slice) and self.V.sel == slice(0, d) and not self.v_needs
                )
        self.S = S
        # No products, terms in every sum and a bias in all or none: out = b + Σ terms
        # (or Σ terms) written in one call.
        self.whole = (
            not self.lin
            and self.terms is not None
            and isinstance(self.twhich, slice)
            and (self.bias is None or isinstance(self.bwhich, slice))
        )

    def writes(self) -> list[tuple[int, Columns, bool]]:
        """See :meth:`OpGroup.writes`: the terms' gradient (added), then the products'
        inputs' (by one matrix product straight into their columns, when dense)."""
        out = []
        if self.terms is not None and self.t_needs and self.terms.space == 0:
            out.append((0, self.terms, False))
        if self.lin and self.v_needs:
            out.append((1, self.V, self.dense and isinstance(self.V.sel, slice) and self.V.block))
        return out

    def views(self, A: list[Any], G: list[Any]) -> Any:
        """The output block and its gradient, the products' inputs V, the terms and the
        bias (each None when gathered), and V's gradient when a plain ``+=`` reaches it."""
        Z = A[self.space]
        return (
            Z[:, self.out.sel],
            G[self.space][:, self.out.sel],
            self.V.view(A[0]) if self.lin and not self.from_x else None,
            self.terms.view(Z) if self.terms is not None else None,
            self.B_view
            if self.bstrides is not None
            else self.bias.view(A[1])
            if self.bias is not None
            else None,
            self.V.target(G[0]) if self.lin else None,
        )

    def forward(self, A: list[Any], run: Run, views: Any) -> Any:
        Z = A[self.space]
        out, _, V, T, B, _ = views  # out: written in place (column-major: a contiguous block)
        saved = None
        if self.lin:
            if self.from_x:
                V = run.X
            elif V is None:
                V = A[0][:, self.V.sel]
            W = None
            if self.dense:
                # the weights as their view of the parameter row: one unit stride, so
                # BLAS takes it as it is (a leading dimension of K + 1); the plain
                # version gathers them, A[1][0][self.windex]
                W = self.W_view if self.strides is not None else A[1][0][self.windex]
                # out = V @ W, computed as (Wᵀ Vᵀ)ᵀ straight into the block. Where every
                # sum reads every v (a layer), an inf or a NaN operand gives what the
                # engine's products give (inf·0 is NaN in BLAS too), and a non-finite
                # result reaches the loss or the gradients: the careful pass checks this
                # block. A padded W (a sum without some product holds a 0 there) would
                # put 0·inf = NaN into sums that never read that v: checked here.
                np.matmul(W.T, V.T, out=out.T)
                if self.padded and not finite(out):
                    W = None
            if W is None:  # term by term, exactly as the scalar products (NaN where 0·inf)
                out[...] = 0.0
                products = V[:, self.tv] * A[1][0][self.tw]
                out[:, self.lwhich] = np.add.reduceat(products, self.lstarts, axis=1)
            saved = (V, W)  # W None: the products were made term by term
        elif self.whole:  # terms in every sum, and a bias in all or none: no zeroing
            T = T if T is not None else Z[:, self.terms.sel]
            if self.bias is None:
                if self.one_term:
                    np.copyto(out, T)
                else:
                    np.add.reduceat(T, self.tstarts, axis=1, out=out)
            else:
                np.add(B if B is not None else A[1][:, self.bias.sel], self.rowsums(T), out=out)
            return None
        else:
            out[...] = 0.0
        if self.bias is not None:
            if B is None:
                B = A[1][:, self.bias.sel]
            if isinstance(self.bwhich, slice):
                out += B
            else:
                out[:, self.bwhich] += B[0]
        if self.terms is not None:
            if T is None:
                T = Z[:, self.terms.sel]
            r = self.rowsums(T)
            if isinstance(self.twhich, slice):
                out += r
            else:
                out[:, self.twhich] += r
        return saved

    def rowsums(self, T: Any) -> Any:
        """Each sum's terms added, from the block T of all the terms (sorted by sum)."""
        return T if self.one_term else np.add.reduceat(T, self.tstarts, axis=1)

    def backward(self, A: list[Any], G: list[Any], saved: Any, careful: bool, views: Any) -> None:
        _, g, _, _, _, Vtarget = views
        if self.terms is not None and self.t_needs:
            # one sum's terms: its gradient broadcasts (the plain version gathers g[:, tsum])
            self.terms.add(
                G[self.space], g if self.S == 1 and not self.terms.dup else g[:, self.tsum]
            )
        if self.bias is not None and self.b_needs:
            if self.bstrides is not None:  # Σrows g into the biases' view of the gradient
                self.dB_view += g if g.shape[0] == 1 else np.add.reduce(g, axis=0, keepdims=True)
            else:
                self.bias.add(G[1], g[:, self.bwhich] if not isinstance(self.bwhich, slice) else g)
        if not self.lin:
            return
        V, W = saved
        # The matrix products when every operand was finite (the block they wrote is:
        # checked only in the careful pass); else term by term, with the engine's masks.
        if W is not None and (not careful or (finite(views[0]) and finite(g))):
            if self.v_needs:
                # dV = g·Wᵀ, column-major as G; for one sum an outer product, where a
                # broadcast multiply is several times faster than BLAS's inner dimension 1
                outer = self.S == 1
                if 1 in self.assign and not careful:  # the first write: straight into G
                    if outer:
                        np.multiply(g, W.T, out=Vtarget)
                    else:
                        np.matmul(W, g.T, out=Vtarget.T)
                else:
                    dV = g * W.T if outer else (W @ g.T).T
                    if Vtarget is not None:
                        Vtarget += dV
                    else:
                        self.V.add(G[0], dV)
            dW = V.T @ g
            if self.strides is not None:  # the plain version: the bincount below
                self.dW_view += dW
            elif self.wunique:
                G[1][0, self.wflat] += dW.ravel()
            else:
                G[1][0] += np.bincount(self.wflat, weights=dW.ravel(), minlength=G[1].shape[1])
            return
        # Term by term, so that a zero factor passes on exactly 0 even against inf
        # (a zero local derivative, or a zero gradient through an infinite slope).
        gt = g[:, self.ts]
        w = A[1][0][self.tw]
        vt = V[:, self.tv]
        dw = np.where((vt == 0) | (gt == 0), 0.0, vt * gt).sum(axis=0)
        self.W.add(G[1], dw[None, :])
        if self.v_needs:
            if 1 in self.assign and not careful:
                Vtarget.fill(0.0)  # this write was to come first: zeroed here
            dv = np.where((w == 0) | (gt == 0), 0.0, w * gt)
            Columns(0, self.V.cols[self.tv].tolist()).add(G[0], dv)

    def bind(self, S: Any, G1: Any) -> None:
        """Views of the weights and the biases in the parameter row S and its gradient G1,
        both held by the program across calls (as_strided costs microseconds: made once).
        A layer's biases lie one every K + 1 entries of the row: as a view they are
        neither gathered in the forward pass nor scattered in the backward."""
        if self.lin and self.dense and self.strides is not None:
            shape = self.windex.shape
            self.W_view, self.dW_view = (_strided(r[0], self.strides, shape) for r in (S, G1))
        if self.bstrides is not None:
            shape = (1, self.S)
            self.B_view, self.dB_view = (_strided(r[0], self.bstrides, shape) for r in (S, G1))


def _strided(row: Any, steps: tuple[int, int, int], shape: tuple[int, int]) -> Any:
    """The matrix of ``shape`` at row[base + i·s0 + j·s1], (base, s0, s1) = steps: a view."""
    base, s0, s1 = steps
    item = row.itemsize
    return np.lib.stride_tricks.as_strided(
        row[base:], shape=shape, strides=(s0 * item, s1 * item), writeable=True
    )


def _affine(index: Any) -> tuple[int, int, int] | None:
    """(base, step along k, step along s) when index[k, s] = base + k·sk + s·ss, with
    positive steps and no two entries equal (so a view of the row may be written)."""
    K, S = index.shape
    base = int(index[0, 0])
    sk = int(index[1, 0] - base) if K > 1 else 1
    ss = int(index[0, 1] - base) if S > 1 else K
    if base == 0 or sk < 1 or ss < 1:
        return None
    expected = base + np.arange(K)[:, None] * sk + np.arange(S)[None, :] * ss
    if not np.array_equal(expected, index) or len(set(index.ravel().tolist())) != index.size:
        return None
    return base, sk, ss


class Run:
    """One call's inputs, and its error messages."""

    def __init__(self, X: Any) -> None:
        self.X = X

    def anomaly(self, group: Any, block: Any, where: str, static: bool = False) -> None:
        """detect_anomaly(): raise FloatingPointError at the first NaN or infinity of block."""
        if finite(block):
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
            row = f"sample row {r}"
        raise FloatingPointError(
            f"{op}: {where} produced {float(block[r, c])!r} (detect_anomaly, {row})"
        )

    def domain_error(self, group: OpGroup, bad: Any, xs: list[Any]) -> None:
        r, c = (int(i) for i in np.argwhere(bad)[0])
        args = [float(np.broadcast_to(x, bad.shape)[r, c]) for x in xs]
        node = group.tape_nodes[c]
        where = (
            f"sample row {r}" if group.space == 0 else "a value computed from the parameters alone"
        )
        try:
            OPS[group.op].forward(*args)
        except (ValueError, ZeroDivisionError, OverflowError) as e:
            raise type(e)(f"{e} ({where}, tape node %{node})") from None
        raise RuntimeError(  # the vectorised op disagrees with the op table: a bug here
            f"compile: {group.op}{tuple(args)} is out of the vectorised op's domain but not "
            "of the op table's"
        )
