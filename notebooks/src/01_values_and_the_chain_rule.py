# %% [markdown]
# # 1. Values and the chain rule
#
# Backpropagation is the chain rule, applied by a computer in a clever order.
# This lesson builds that idea from the ground up: a number that remembers how it
# was made, a table of local derivatives, and one loop that multiplies them
# together. We will differentiate a small expression twice, once by hand and once
# with the engine, and check that the two agree to the last few bits.
#
# Everything we need comes from three places: `autograd_lite` (the engine), `viz`
# (pictures of graphs) and NumPy with matplotlib (for the closed forms and plots).
# Every formula these lessons check is derived step by step in
# [docs/derivations.md](../docs/derivations.md).

# %%
import math

import matplotlib.pyplot as plt
import numpy as np

import viz
from autograd_lite import OPS, Value, explain, gradcheck, jacobian, numerical_jacobian

plt.rcParams.update({"figure.dpi": 80, "figure.figsize": (9, 3)})

# %% [markdown]
# ## A number that remembers
#
# A `Value` wraps one float. Doing arithmetic with Values gives new Values, and
# each new one records the operation that made it (`op`) and the Values it was
# made from (`parents`). The result is a *computation graph*, built as a side
# effect of ordinary Python code.

# %%
x = Value(2.0, label="x")
y = x * x + 1.0
print(y)
print("op:", y.op, "| parents:", y.parents)
print("op:", y.parents[0].op, "| parents:", y.parents[0].parents)

# %% [markdown]
# `y` is `(x * x) + 1`: an `add` whose first parent is a `mul` of `x` with itself,
# and whose second parent is the constant `1.0`, wrapped in a Value of its own.
#
# ## The op table: all the calculus the engine knows
#
# Every primitive is declared once, in one table. Besides computing its result,
# an op knows its *local derivatives*: how its output moves when each input moves
# a little, all else fixed. For `out = x · y` they are $\partial out/\partial x = y$
# and $\partial out/\partial y = x$; for `out = tanh(x)` it is $1 - out^2$.
# Each rule receives the output and the inputs, so it can reuse the output.

# %%
print(f"{len(OPS)} primitives:", ", ".join(OPS))
print("mul at x=2, y=3:  d/dx, d/dy =", OPS["mul"].rule(6.0, 2.0, 3.0))
print("exp at x=0:       d/dx =", OPS["exp"].rule(1.0, 0.0))
print("tanh at x=0.5:    d/dx =", OPS["tanh"].rule(math.tanh(0.5), 0.5))

# %% [markdown]
# Subtraction, division and powers are primitives here too; so are `sigmoid` and
# `relu`, even though they could be built from `exp`, `+` and `max`. That is a
# choice about speed and picture size, not about correctness: we will check below
# that the built-up versions give the same derivatives.
#
# ## The chain rule, by hand
#
# Take one tanh neuron with a squared error, the smallest thing worth training:
#
# $$z = w x + b, \qquad a = \tanh z, \qquad L = (a - y)^2.$$
#
# How does $L$ change when we nudge $w$? $w$ only reaches $L$ through $z$, and
# $z$ only through $a$, so the chain rule multiplies the local derivatives
# along that path:
#
# $$\frac{\partial L}{\partial w}
#   = \frac{\partial L}{\partial a}\,\frac{\partial a}{\partial z}\,\frac{\partial z}{\partial w}
#   = 2(a - y)\,\bigl(1 - a^2\bigr)\,x .$$
#
# The first two factors are shared by every input of $z$. Reverse mode exploits
# exactly that: it computes $\bar a = \partial L/\partial a$ once, then
# $\bar z = \bar a\,(1 - a^2)$ once, and only then fans out to $\bar w = \bar z\,x$,
# $\bar x = \bar z\,w$ and $\bar b = \bar z$. (We write $\bar v$, `v_bar` in code,
# for $\partial L/\partial v$, the *adjoint* of $v$.) Here it is with plain floats:

# %%
x, w, b, y = 0.5, -3.0, 2.0, 1.0

z = w * x + b
a = math.tanh(z)
L = (a - y) ** 2

a_bar = 2 * (a - y)  # dL/da
z_bar = a_bar * (1 - a**2)  # dL/dz = dL/da · da/dz
by_hand = {"w": z_bar * x, "x": z_bar * w, "b": z_bar}
print(f"L = {L:.6f}")
print({name: round(g, 6) for name, g in by_hand.items()})

# %% [markdown]
# ## The same, by the engine
#
# Now we write the same expression with Values and call `backward()` on the
# output. `backward` puts the nodes in topological order (every node after its
# parents) and walks that list in reverse. At each node it multiplies the node's
# `grad` by each local derivative and adds the product into the parent's `grad`:
#
# $$\bar p \mathrel{+}= \frac{\partial v}{\partial p}\,\bar v
#   \quad\text{for every parent } p \text{ of every node } v.$$
#
# Going backwards guarantees that a node's `grad` is complete before it is passed
# on: everything that uses a node comes after it in the forward order.

# %%
xv, wv, bv = Value(0.5, label="x"), Value(-3.0, label="w"), Value(2.0, label="b")
zv = wv * xv + bv
zv.label = "z"
av = zv.tanh()
av.label = "a"
Lv = (av - 1.0) ** 2
Lv.label = "L"
Lv.backward()

by_engine = {"w": wv.grad, "x": xv.grad, "b": bv.grad}
max_error = max(abs(by_engine[k] - by_hand[k]) for k in by_hand)
print({name: round(g, 6) for name, g in by_engine.items()})
print(f"max |engine - hand| = {max_error:.1e}")
assert abs(Lv.data - L) < 1e-15
assert max_error < 1e-12

# %% [markdown]
# The engine did the same multiplications in the same order, so the results agree
# to rounding. Here is the graph it built. Each box shows a Value's `data` and,
# after `backward`, its `grad`; the small round nodes are the operations. With
# `number_backward=True` each box also shows its step number in the backward
# pass: the output `L` is step 1 and the inputs `x` and `w` come last. The fill
# colour grows with `|grad|`.

# %%
viz.draw_dot(Lv, number_backward=True)

# %% [markdown]
# The numbers `1.0` and `2` are *constants*: the engine made them from plain
# numbers, so they have no gradient, and the exponent is drawn inside its op, `**2`.
#
# A picture of the end result hides the order of events. `viz.player` shows them:
# press ▶ (or click the picture, then use ← → space Home End) to watch the forward
# pass compute each value, then the backward pass visit the nodes in exactly the
# order above, one `+=` at a time. A gradient reads "—" until backward reaches it.
# The panel writes each step of the chain rule out with numbers; clicking a node
# shows how its gradient was built. (Where scripts don't run, as on GitHub, you see
# the finished picture.) `viz.save(Lv, "backprop.html")` writes the same player to a
# file that any browser opens.

# %%
viz.player(Lv)

# %% [markdown]
# The text of a node's ledger comes from `explain`: $\partial L/\partial w$ as the sum,
# over the uses of $w$, of local derivative × upstream gradient, with every number.
# Its total is what `backward` put in `wv.grad`, to the last bit.

# %%
ledger = explain(Lv, wv)
print(ledger)
assert ledger.splitlines()[-1] == f"∂L/∂w = {wv.grad!r}"

# %% [markdown]
# ## When a value is used twice, gradients add
#
# If $x$ reaches the output along several paths, the multivariable chain rule
# *sums* the contributions of the paths. For $f = x \cdot x$ the two paths each
# contribute $x$, so $f' = 2x$; for $g = x y + x$ they contribute $y$ and $1$.
# This is why `backward` always does `+=` and never `=`: with `=`, the second path
# would overwrite the first and $x \cdot x$ at $x = 3$ would report 3, not 6.

# %%
x = Value(3.0, label="x")
f = x * x
f.backward()
print("d(x·x)/dx at x=3:", x.grad)
assert x.grad == 6.0  # exact: 3 + 3

x, y = Value(3.0, label="x"), Value(4.0, label="y")
g = x * y + x
g.backward()
print("d(xy + x)/dx =", x.grad, "= y + 1;  d(xy + x)/dy =", y.grad, "= x")
assert (x.grad, y.grad) == (5.0, 3.0)

# %% [markdown]
# The same `+=` means gradients also *accumulate across calls*: a second
# `g.backward()` adds another 5 to `x.grad`. Training loops therefore set every
# gradient back to zero before each backward pass (`zero_grad`).
#
# ## Checking a gradient without calculus
#
# A derivative is a limit of slopes, so we can estimate it with no calculus at
# all, from two evaluations: the central difference
# $\bigl(f(x + \varepsilon) - f(x - \varepsilon)\bigr) / 2\varepsilon$ has an
# error of order $\varepsilon^2$. `gradcheck` compares the engine's Jacobian
# with these estimates, input by input, and raises if they disagree.


# %%
def neuron_loss(v):
    x, w, b = v
    return ((w * x + b).tanh() - 1.0) ** 2


point = [0.5, -3.0, 2.0]
automatic = np.array(jacobian(neuron_loss, point))
numerical = np.array(numerical_jacobian(neuron_loss, point))
print("automatic:", automatic.round(8))
print("numerical:", numerical.round(8))
print(f"max |automatic - numerical| = {np.max(np.abs(automatic - numerical)):.1e}")
assert gradcheck(neuron_loss, point)

# %% [markdown]
# The two agree to about $10^{-10}$, the size of the finite-difference error.
# The engine's own answer is exact up to rounding, which is why the comparison with
# the hand computation agreed to the last bit.
#
# ## The three classic activations
#
# The derivatives of the three classic activation functions, each derived in
# [§1 of docs/derivations.md](../docs/derivations.md#relu):
#
# | $f(x)$ | $f'(x)$ |
# |---|---|
# | $\mathrm{ReLU}(x) = \max(0, x)$ | $1$ if $x > 0$, $0$ if $x < 0$ (at $0$: $0$ by convention) |
# | $\sigma(x) = 1/(1 + e^{-x})$ | $e^{-x}/(1 + e^{-x})^2 = \sigma(x)\,(1 - \sigma(x))$ |
# | $\tanh x = (e^x - e^{-x})/(e^x + e^{-x})$ | $4/(e^x + e^{-x})^2 = 1 - \tanh^2 x$ |
#
# For σ, write $1 - \sigma = e^{-x}/(1 + e^{-x})$ and the middle form factors.
# For tanh, the quotient rule gives
# $\bigl((e^x + e^{-x})^2 - (e^x - e^{-x})^2\bigr)/(e^x + e^{-x})^2$, and the
# numerator is $4$. We check every form on a grid of points, with each
# activation used both as an engine primitive and built up from `exp`, `/` and
# `max`, so that the engine differentiates the formula itself.


# %%
def derivative(f, x):
    """d f / dx at the float x, by the engine."""
    v = Value(x)
    f(v).backward()
    return v.grad


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


xs = np.linspace(-4.0, 4.0, 80)  # 80 points: x = 0 is not among them
activations = {
    # name: (engine primitive, built from other ops, f, f' closed form)
    "relu": (
        Value.relu,
        lambda v: v.max(0.0),
        lambda x: np.maximum(x, 0.0),
        lambda x: 1.0 * (x > 0),
    ),
    "sigmoid": (
        Value.sigmoid,
        lambda v: 1 / (1 + (-v).exp()),
        sigmoid,
        lambda x: sigmoid(x) * (1 - sigmoid(x)),
    ),
    "tanh": (
        Value.tanh,
        lambda v: (v.exp() - (-v).exp()) / (v.exp() + (-v).exp()),
        np.tanh,
        lambda x: 4 / (np.exp(x) + np.exp(-x)) ** 2,
    ),
}
for name, (primitive, built, _, df) in activations.items():
    closed = df(xs)
    errors = [
        max(abs(derivative(g, x) - c) for x, c in zip(xs, closed)) for g in (primitive, built)
    ]
    print(f"{name:8s} max error: primitive {errors[0]:.1e}, built from other ops {errors[1]:.1e}")
    assert max(errors) < 1e-12

# %% [markdown]
# The grid avoids $x = 0$ on purpose: there ReLU has no derivative, and the two
# versions make different choices. The `relu` primitive uses the convention $0$,
# while `max`, whose two inputs tie at $x = 0$, splits the gradient half and half,
# as PyTorch does.

# %%
at_zero = {"relu": derivative(Value.relu, 0.0), "max(x, 0)": derivative(lambda v: v.max(0.0), 0.0)}
print("derivative at x = 0:", at_zero)
assert at_zero == {"relu": 0.0, "max(x, 0)": 0.5}

# %% [markdown]
# Finally the picture: each activation (grey) with its closed-form derivative (line)
# and the engine's derivative at every grid point (dots).

# %%
fig, axes = plt.subplots(1, 3, sharey=True)
for ax, (name, (primitive, _, f, df)) in zip(axes, activations.items()):
    ax.plot(xs, f(xs), color="0.6", label="f(x)")
    ax.plot(xs, df(xs), color="C1", label="closed form")
    ax.plot(xs[::4], [derivative(primitive, x) for x in xs[::4]], ".", color="C0", label="engine")
    ax.set_title(name)
    ax.set_xlabel("x")
    ax.grid(alpha=0.3)
axes[0].set_ylim(-1.2, 2.0)
axes[0].legend(loc="upper left", fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## What we have
#
# - A `Value` records its `op` and `parents`, so ordinary code builds a graph.
# - Every op knows only its *local* derivatives; `backward` chains them, walking
#   the graph in reverse topological order and *adding* into each parent's `grad`.
# - Three independent checks agree: the hand derivation, central differences
#   (`gradcheck`) and the closed forms of [docs/derivations.md](../docs/derivations.md).
#
# Next, in lesson 2, we put a sigmoid on a weighted sum and get logistic
# regression: one neuron, trained by gradient descent.
