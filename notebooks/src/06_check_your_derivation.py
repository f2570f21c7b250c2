# %% [markdown]
# # 6. Check your derivation
#
# The lessons so far derived gradients and then let the engine confirm them. Now it
# is your turn: five exercises, in the order of
# [docs/derivations.md](../docs/derivations.md), each asking for a derivative you
# work out on paper. You type it in as ordinary Python on floats, run the cell, and
# `check_derivative` compares it with the engine's reverse-mode gradient at 100
# random points. It answers **OK**, or **WRONG** with the points where your formula
# is furthest off, and often a hint about the kind of mistake.
#
# Every exercise is left blank (its function returns `None`), and a blank answers
# **NOT YET**. Fill in one at a time.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np

import nn
from autograd_lite import Value, check_derivative

plt.rcParams.update({"figure.dpi": 80, "figure.figsize": (9, 3.5)})


def sigma(x):
    """The logistic sigmoid on a float: use it in your answers."""
    return 1.0 / (1.0 + math.exp(-x))


# %% [markdown]
# ## How the checker answers
#
# `check_derivative(f, df)` takes two functions of the same inputs. `f` is written
# with the engine's operations on Values (`x.sigmoid()`, `x.exp()`, `+`, `*`, ...);
# the engine differentiates it. `df` is *your* derivative, written with floats
# (`math.exp`, `math.log`, `math.tanh`, `sigma`). Here is the sigmoid with a classic
# slip, $\sigma' = \sigma(1 + \sigma)$, then with a stray factor of 2, then right.


# %%
def sigmoid_graph(x):
    return x.sigmoid()


def slip(x):
    return sigma(x) * (1 + sigma(x))


def doubled(x):
    return 2 * sigma(x) * (1 - sigma(x))


def right(x):
    return sigma(x) * (1 - sigma(x))


print(check_derivative(sigmoid_graph, slip))
print()
print(check_derivative(sigmoid_graph, doubled))
print()
print(check_derivative(sigmoid_graph, right))
assert not check_derivative(sigmoid_graph, slip).ok
assert check_derivative(sigmoid_graph, right).ok

# %% [markdown]
# A WRONG answer lists the worst points: the input, which input is wrong (with
# several inputs), your value, the engine's value and the difference. When every
# failing point is off in the same simple way (a constant factor, the opposite
# sign, a constant offset) the verdict says so: that is the trace of a dropped
# factor, a lost minus sign or a forgotten term. The picture shows the three claims
# against the engine's derivative.

# %%
xs = np.linspace(-4, 4, 161)


def automatic(f, x):
    v = Value(float(x))
    f(v).backward()
    return v.grad


plt.plot(xs, [automatic(sigmoid_graph, x) for x in xs], lw=4, alpha=0.4, label="engine")
for claim, style in ((slip, "--"), (doubled, ":"), (right, "-")):
    plt.plot(xs, [claim(x) for x in xs], style, label=claim.__name__)
plt.xlabel("x")
plt.title("d/dx σ(x): the engine against three claims")
plt.legend()
plt.show()

# %% [markdown]
# The verdict is relative to the size of the derivative: a dropped factor, a lost
# sign or a stray constant is WRONG whether the derivative is of size $10^{-300}$ or
# $10^{300}$. Points where `f` itself is undefined (the log of a negative number, a
# division by zero) are *skipped*, and points where the engine's number is not a
# derivative (a ReLU or a max exactly on its kink) are counted, not judged: neither
# counts as a mistake. But a formula of yours that is undefined where `f` is
# defined is a mistake, shown at that point:

# %%
report = check_derivative(lambda x: x * x, lambda x: 2 * x**2 / x, points=[0.0, 1.0, -2.0])
print(report)
assert not report.ok and report.failures[0].point == (0.0,)

# %% [markdown]
# ## Exercise 1: softplus
#
# The softplus $\log(1 + e^{x})$ is a smooth ReLU. Its derivative is a function you
# have met ([§1.2](../docs/derivations.md#sigmoid)). Replace `return None` by your
# derivative and run the cell.


# %%
def softplus(x):
    return (1 + x.exp()).log()


def d_softplus(x):
    return None  # your answer: d/dx log(1 + e^x)


print("Exercise 1:", check_derivative(softplus, d_softplus))

# %% [markdown]
# ## Exercise 2: binary cross-entropy with respect to the logit
#
# One neuron's loss for a target $y$ (here $y = 0.25$) as a function of its logit
# $z$: $J = -\bigl(y \log \sigma(z) + (1 - y) \log(1 - \sigma(z))\bigr)$. Chain the
# three factors of [§2.1](../docs/derivations.md#neuron) and simplify.

# %%
Y = 0.25


def bce(z):
    a = z.sigmoid()
    return -(Y * a.log() + (1 - Y) * (1 - a).log())


def d_bce(z):
    return None  # your answer: ∂J/∂z (you may use Y)


print("Exercise 2:", check_derivative(bce, d_bce))

# %% [markdown]
# ## Exercise 3: tanh, written with exponentials
#
# $\tanh x = \dfrac{e^{x} - e^{-x}}{e^{x} + e^{-x}}$, built here from `exp` nodes,
# not from the `tanh` op. Use the quotient rule
# ([§1.3](../docs/derivations.md#tanh)); either of the two closed forms will do.


# %%
def tanh_by_exp(x):
    return (x.exp() - (-x).exp()) / (x.exp() + (-x).exp())


def d_tanh_by_exp(x):
    return None  # your answer: d/dx tanh x


print("Exercise 3:", check_derivative(tanh_by_exp, d_tanh_by_exp))

# %% [markdown]
# ## Exercise 4: softmax cross-entropy with respect to the logits
#
# Three logits $z_0, z_1, z_2$, the softmax $a$, and the cross-entropy against
# class 1: $L = -\log a_1$. Your function receives the three logits and returns the
# three partial derivatives $\partial L/\partial z_i$
# ([§3.2](../docs/derivations.md#softmax-cross-entropy)).

# %%
TARGET = 1


def softmax_ce(z0, z1, z2):
    return nn.cross_entropy(nn.softmax([z0, z1, z2]), TARGET)


def d_softmax_ce(z0, z1, z2):
    return None  # your answer: (∂L/∂z0, ∂L/∂z1, ∂L/∂z2)


print("Exercise 4:", check_derivative(softmax_ce, d_softmax_ce))

# %% [markdown]
# ## Exercise 5: a weight of a two-layer network
#
# A network with two tanh hidden units and one sigmoid output reads the point
# $x = (0.5, -1.5)$: $h = \tanh(W_1 x + b_1)$, $a = \sigma(v \cdot h + c)$, and its
# loss is $J = -\log a$ (the target is 1). Every parameter is fixed except the
# first-layer weight $w = W_{1,00}$, from $x_0$ to the first hidden unit. Find
# $\partial J/\partial w$ by following the chain from the loss down to $w$
# ([§4.3](../docs/derivations.md#full-chain)): your function has to run the forward
# pass on floats too.

# %%
X = (0.5, -1.5)
W1_01, W1_10, W1_11 = 0.8, -0.6, 0.3  # the other first-layer weights
B1 = (0.1, -0.2)
V = (1.2, -0.7)  # the output neuron's weights
C = 0.05  # and its bias


def network_loss(w):
    h0 = (w * X[0] + W1_01 * X[1] + B1[0]).tanh()
    h1 = math.tanh(W1_10 * X[0] + W1_11 * X[1] + B1[1])  # does not depend on w
    a = (V[0] * h0 + V[1] * h1 + C).sigmoid()
    return -a.log()


def d_network_loss(w):
    return None  # your answer: ∂J/∂w


print("Exercise 5:", check_derivative(network_loss, d_network_loss))

# %% [markdown]
# ## Beyond the exercises
#
# `check_derivative` takes any function: pass `points=[...]` to choose the inputs,
# `low` and `high` for the range, `n` for how many. The same check runs from the
# command line, with the expression parser of `graph`:
#
# ```console
# $ autograd-lite verify 'log(1 + exp(x))' --claim 'sigmoid(x)'
# ok: the claim for x holds at 100 points (largest error 1.1e-16)
# ```
#
# Every derivation the project checks is worked out in
# [docs/derivations.md](../docs/derivations.md).
