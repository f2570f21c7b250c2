"""The plan as matrix equations, in the notation of docs/derivations.md §4.

``print(step.program)`` shows what the replay found in one sample's tape: each
group of NumPy calls as one line, ``Z1 = X·W1ᵀ + b1``, ``H1 = relu(Z1)``, …, then
the backward pass, ``dW2 = dZ2ᵀ·H1``, ``dZ1 = dH1 ⊙ 1[Z1 > 0]``, …; every line
names the tape nodes it replays. Matrices hold one row per sample: a layer's
products are its weights' matrix W (one row per unit) times the block it reads.
"""

from __future__ import annotations

from typing import Any

from .replay import Columns, MaxGroup, OpGroup, SoftmaxCEGroup, SumGroup

_SYMBOLS = {"add": "+", "sub": "−", "mul": "⊙", "div": "⊘"}
_SLOPES = {
    "relu": "1[{a} > 0]",
    "tanh": "(1 − {o}²)",
    "sigmoid": "{o} ⊙ (1 − {o})",
    "exp": "{o}",
    "log": "⊘ {a}",
    "sqrt": "⊘ (2{o})",
    "abs": "sign({a})",
    "sin": "cos({a})",
    "cos": "−sin({a})",
    "neg": "−1",
}


class _Names:
    """Names for column blocks: X, Y, the layers' Z_k and H_k, M for a max, T_j else."""

    def __init__(self, program: Any) -> None:
        d, m = program.d, program.m
        self.owner: dict[tuple[int, int], tuple[str, int, int]] = {}
        self.owner.update({(0, c): ("X", c, d) for c in range(d)})
        self.owner.update({(0, d + c): ("Y", c, m) for c in range(m)})
        self.names: list[str] = []
        layers = temps = maxes = 0
        for group in program.groups:
            if isinstance(group, SumGroup) and group.lin and group.dense and group.space == 0:
                layers += 1
                name = f"Z{layers}"
                group.layer = layers
            elif isinstance(group, MaxGroup):
                maxes += 1
                name = f"M{maxes}" if maxes > 1 or group.space else "M"
            elif (
                isinstance(group, OpGroup)
                and group.op in ("relu", "tanh", "sigmoid")
                and self.ref(group.args[0]).startswith("Z")
                and "[" not in self.ref(group.args[0])
            ):
                name = "H" + self.ref(group.args[0])[1:]
            else:
                temps += 1
                name = f"T{temps}" if group.space == 0 else f"P{temps}"
            cols = group.out.cols.tolist()
            for k, c in enumerate(cols):
                self.owner[(group.space, c)] = (name, k, len(cols))
            self.names.append(name)

    def ref(self, columns: Columns) -> str:
        """A block of columns by name: ``Z1``, ``Z3[:, 2]``, or ``[T1, M]`` when mixed."""
        cols = columns.cols.tolist()
        owners = [self.owner.get((columns.space, c), ("θ", c, 0)) for c in cols]
        names = list(dict.fromkeys(o[0] for o in owners))
        if len(names) > 1:
            return "[" + ", ".join(names) + "]"
        name, width = names[0], owners[0][2]
        offsets = [o[1] for o in owners]
        if offsets == list(range(width)):
            return name
        if len(set(offsets)) == 1:
            return name if width == 1 else f"{name}[:, {offsets[0]}]"
        return f"{name}[:, …]"


def _nodes(group: Any, key: tuple) -> str:
    """Which tape nodes a group replays. A sum's parameter-only terms, gathered into one
    sum computed once, are a node the plan made (no tape position): counted apart."""
    nodes = [i for i in group.tape_nodes if i is not None]
    made = len(group.tape_nodes) - len(nodes)
    where = "" if group.space == 0 else ", parameters only"
    parts = []
    if nodes:
        span = f"%{nodes[0]}" if len(nodes) == 1 else f"%{min(nodes)}…%{max(nodes)}"
        parts.append(f"tape {span}, {len(nodes)} node{'s' * (len(nodes) > 1)}")
    if made:
        parts.append(f"{made} sum{'s' * (made > 1)} of parameter-only terms made by the plan")
    return f"{', '.join(parts)}, level {key[0]}{where}"


def _forward(group: Any, name: str, names: _Names) -> str:
    if isinstance(group, SoftmaxCEGroup):
        Z = names.ref(group.Z)
        return f"{name} = logsumexp({Z}) − {Z}[y]"
    if isinstance(group, MaxGroup):
        return f"{name} = rowmax({names.ref(group.terms)})"
    if isinstance(group, OpGroup):
        args = [names.ref(a) for a in group.args]
        if group.op in _SYMBOLS and len(args) == 2:
            return f"{name} = {args[0]} {_SYMBOLS[group.op]} {args[1]}"
        if group.op in ("pow", "powv"):
            return f"{name} = {args[0]}^{args[1]}"
        return f"{name} = {group.op}({', '.join(args)})"
    parts = []
    if group.lin:
        V = "X" if group.from_x else names.ref(group.V)
        W = f"W{group.layer}" if hasattr(group, "layer") else "W"
        parts.append(f"{V}·{W}ᵀ" if group.dense else f"Σ w·{V}")
    if group.bias is not None:
        parts.append(f"b{group.layer}" if hasattr(group, "layer") else "b")
    if group.terms is not None:
        terms = names.ref(group.terms)
        parts.append(f"rowsum({terms})" if group.S == 1 else f"Σ {terms}")
    return f"{name} = " + " + ".join(parts)


def _backward(group: Any, name: str, names: _Names, single: Any) -> list[str]:
    g = f"d{name}"
    if isinstance(group, SoftmaxCEGroup):
        Z = names.ref(group.Z)
        eq = "=" if single(group.Z) else "+="
        return [f"d{Z} {eq} {g} ⊙ (softmax({Z}) − Y)"]
    if isinstance(group, MaxGroup):
        return [f"d{names.ref(group.terms)} += {g} ⊙ ∂rowmax (1 to the largest, ½ at a tie)"]
    if isinstance(group, OpGroup):
        lines = []
        args = [names.ref(a) for a in group.args]
        for k, (a, needs) in enumerate(zip(args, group.needs)):
            if not needs:
                continue
            eq = "=" if single(group.args[k]) else "+="
            if group.op in _SLOPES:
                slope = _SLOPES[group.op].format(a=a, o=name)
                times = "" if slope.startswith("⊘") else "⊙ "
                lines.append(f"d{a} {eq} {g} {times}{slope}")
            elif group.op in ("add", "sub"):
                minus = "−" if k and group.op == "sub" else ""
                # a column repeated in the block (m in z − m) gathers the row's sum
                lines.append(
                    f"d{a} {eq} {minus}rowsum({g})"
                    if group.args[k].dup or group.args[k].single
                    else f"d{a} {eq} {minus}{g}"
                )
            elif group.op == "mul":
                lines.append(f"d{a} {eq} {g} ⊙ {args[1 - k]}")
            else:
                lines.append(f"d{a} {eq} {g} ⊙ ∂{group.op}/∂{'xy'[k]}")
        return lines
    lines = []
    if group.lin:
        V = "X" if group.from_x else names.ref(group.V)
        W = f"W{group.layer}" if hasattr(group, "layer") else "W"
        lines.append(f"d{W} = {g}ᵀ·{V}")
        if group.bias is not None and group.b_needs:
            b = f"b{group.layer}" if hasattr(group, "layer") else "b"
            lines.append(f"d{b} = Σrows {g}")
        if group.v_needs:
            lines.append(f"d{V} {'=' if single(group.V) else '+='} {g}·{W}")
    elif group.bias is not None and group.b_needs:
        lines.append(f"d{names.ref(group.bias)} += Σrows {g}")
    if group.terms is not None and group.t_needs:
        lines.append(f"d{names.ref(group.terms)} += {g}")
    return lines


def program_text(program: Any) -> str:
    """The plan, forward then backward, one matrix equation per group of NumPy calls."""
    names = _Names(program)
    readers: dict[tuple[int, int], int] = {}
    for group in program.groups:
        blocks = (
            [group.Z, group.Y]
            if isinstance(group, SoftmaxCEGroup)
            else [group.terms]
            if isinstance(group, MaxGroup)
            else group.args
            if isinstance(group, OpGroup)
            else [b for b in (group.terms, group.bias, getattr(group, "V", None)) if b is not None]
        )
        for b in blocks:
            for c in set(b.cols.tolist()):
                readers[(b.space, c)] = readers.get((b.space, c), 0) + 1

    def single(block: Columns) -> bool:  # read by one group only: its gradient is assigned
        return all(readers.get((block.space, c), 0) == 1 for c in block.cols.tolist())

    rows: list[tuple[str, str]] = []
    for group, name, key in zip(program.groups, names.names, program.keys):
        rows.append((_forward(group, name, names), _nodes(group, key)))
    space, c = program.root
    root = names.owner.get((space, c), ("?", 0, 1))
    loss_of = root[0] if root[2] == 1 else f"{root[0]}[:, {root[1]}]"
    last = program.groups[-1]
    back: list[tuple[str, str]] = []
    fused_loss = isinstance(last, SoftmaxCEGroup) and (space, c) == (0, int(last.out.cols[0]))
    if fused_loss:
        # the loss is the mean of the fused cross-entropy: §4.1's two lines, as written
        Z = names.ref(last.Z)
        rows[-1] = (f"L = mean(logsumexp({Z}) − {Z}[y])", rows[-1][1] + ", the loss")
        eq = "=" if single(last.Z) else "+="
        back.append((f"d{Z} {eq} (softmax({Z}) − Y)/n", _nodes(last, program.keys[-1])))
    else:
        rows.append((f"L = mean({loss_of})" if space == 0 else f"L = {loss_of}", "the loss"))
        back.append((f"d{loss_of} = 1/n", "the mean's gradient, every row"))
    for group, name, key in reversed(list(zip(program.groups, names.names, program.keys))):
        if group is last and fused_loss:
            continue
        if group.grad:
            back += [(line, _nodes(group, key)) for line in _backward(group, name, names, single)]
    width = max(len(text) for text, _ in rows + back) + 2
    out = ["forward, one row per sample:"]
    out += [f"  {text:<{width}}# {note}" for text, note in rows]
    out.append("backward:")
    out += [f"  {text:<{width}}# {note}" for text, note in back]
    return "\n".join(out)
