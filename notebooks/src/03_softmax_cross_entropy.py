# %% [markdown]
# # 3. Softmax and cross-entropy
#
# With more than two classes, a network ends in one *logit* $z_k$ per class, and
# the softmax turns the logits into probabilities:
#
# $$a_i = \frac{e^{z_i}}{\sum_{k} e^{z_k}}, \qquad
#   L = -\sum_k y_k \log a_k \quad\text{with } \sum_k y_k = 1 .$$
#
# For a one-hot target (class $\ell$: $y_\ell = 1$, all other $y_k = 0$) the loss is
# just $L = -\log a_\ell$. This lesson follows
# [§3 of docs/derivations.md](../docs/derivations.md#softmax-jacobian): first the Jacobian of the
# softmax, which has two cases, then the chain through the loss, where everything
# collapses to $\partial L/\partial z = a - y$, the same form as for one neuron.
# Then the numerics: why every serious softmax subtracts the largest logit first.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np

import nn
import viz
from autograd_lite import Value, jacobian, topological_order

plt.rcParams.update({"figure.dpi": 80, "figure.figsize": (9, 3)})
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## The softmax Jacobian: two cases
#
# Each $a_i$ depends on *every* logit, through the sum in the denominator. Write
# $S = \sum_k e^{z_k}$, so $\partial S/\partial z_j = e^{z_j}$, and use the quotient
# rule $(u/v)' = (v\,u' - u\,v')/v^2$ with $u = e^{z_i}$, $v = S$.
#
# **Case $i \ne j$.** The numerator does not depend on $z_j$, so $u' = 0$:
#
# $$\frac{\partial a_i}{\partial z_j} = \frac{0 - e^{z_i} e^{z_j}}{S^2}
#   = -\frac{e^{z_i}}{S}\,\frac{e^{z_j}}{S} = -a_i\,a_j .$$
#
# **Case $i = j$.** Now $u' = e^{z_i}$ as well:
#
# $$\frac{\partial a_i}{\partial z_i} = \frac{S\,e^{z_i} - e^{z_i} e^{z_i}}{S^2}
#   = \frac{e^{z_i}}{S}\Bigl(1 - \frac{e^{z_i}}{S}\Bigr) = a_i\,(1 - a_i) .$$
#
# Both cases in one matrix: $J = \operatorname{diag}(a) - a\,a^\top$. Its rows sum to
# zero, because the probabilities always sum to one, whatever the logits do. The
# engine's `jacobian` differentiates `nn.softmax` once per output; we compare.

# %%
z = [2.0, 1.0, 0.1]
automatic = np.array(jacobian(nn.softmax, z))

a = np.exp(z) / np.sum(np.exp(z))
closed = np.diag(a) - np.outer(a, a)
print("a =", a)
print("Jacobian (engine):\n", automatic)
error = np.max(np.abs(automatic - closed))
print(f"max |engine - (diag(a) - a aᵀ)| = {error:.1e}")
print(f"largest row sum: {np.max(np.abs(automatic.sum(axis=1))):.1e}")
assert error < 1e-12
assert np.allclose(automatic.sum(axis=1), 0.0, atol=1e-12)

# %% [markdown]
# ## Through the loss: $\partial L/\partial z = a - y$
#
# $L = -\sum_k y_k \log a_k$ depends on $z_i$ through every $a_k$, so the chain rule
# sums over $k$, and the two cases of the Jacobian split the sum:
#
# $$\frac{\partial L}{\partial z_i}
#   = \sum_k \Bigl(-\frac{y_k}{a_k}\Bigr) \frac{\partial a_k}{\partial z_i}
#   = -\frac{y_i}{a_i}\, a_i(1 - a_i) + \sum_{k \ne i} \frac{y_k}{a_k}\, a_k a_i
#   = -y_i + a_i \sum_k y_k = a_i - y_i .$$
#
# Again the $1/a$ of the log cancels the $a$ of the exponential's derivative. With a
# one-hot target $e_\ell$ this reads $\partial L/\partial z = -(e_\ell - a)$: push
# the right logit up by how much probability it is missing, and every wrong logit
# down by the probability it stole.
#
# [The worked example](../docs/derivations.md#worked-example):
# $a = [0.7, 0.2, 0.1]$ and $y = [1, 0, 0]$ give $\partial L/\partial z = [-0.3, 0.2, 0.1]$.
# Logits with that softmax are $z = \log a$ (plus any constant, as we will see). We
# check the example with the softmax and the loss as two steps, and with the fused
# `nn.softmax_cross_entropy`.

# %%
z = [Value(math.log(p), label=f"z{i}") for i, p in enumerate([0.7, 0.2, 0.1])]
L = nn.cross_entropy(nn.softmax(z), 0)  # target: class 0, y = [1, 0, 0]
L.backward()
two_steps = np.array([zi.grad for zi in z])

z = [Value(math.log(p), label=f"z{i}") for i, p in enumerate([0.7, 0.2, 0.1])]
nn.softmax_cross_entropy(z, 0).backward()
fused = np.array([zi.grad for zi in z])

expected = np.array([0.7, 0.2, 0.1]) - np.array([1.0, 0.0, 0.0])
print("a - y     =", expected)
print("two steps =", two_steps, f"  error {np.max(np.abs(two_steps - expected)):.1e}")
print("fused     =", fused, f"  error {np.max(np.abs(fused - expected)):.1e}")
assert np.max(np.abs(two_steps - expected)) < 1e-12
assert np.max(np.abs(fused - expected)) < 1e-12

# %% [markdown]
# The derivation never used that $y$ is one-hot, only that it sums to one. So the
# same holds for a *soft* target, such as a label smoothed over two classes:

# %%
y_soft = [0.5, 0.5, 0.0]
z = [Value(v) for v in [2.0, 1.0, 0.1]]
nn.softmax_cross_entropy(z, y_soft).backward()
a = np.exp([2.0, 1.0, 0.1]) / np.sum(np.exp([2.0, 1.0, 0.1]))
error = np.max(np.abs(np.array([zi.grad for zi in z]) - (a - y_soft)))
print(f"soft target: max |engine - (a - y)| = {error:.1e}")
assert error < 1e-12

# %% [markdown]
# ## Subtract the max: safe, and needed
#
# Adding the same constant $c$ to every logit changes nothing:
#
# $$\frac{e^{z_i + c}}{\sum_k e^{z_k + c}} = \frac{e^{c}\,e^{z_i}}{e^{c} \sum_k e^{z_k}}
#   = \frac{e^{z_i}}{\sum_k e^{z_k}} .$$
#
# So it is *safe* to compute the softmax of $z - \max_k z_k$ instead. It is also
# *needed*, because floats are finite: $e^{710}$ overflows a double, and
# $e^{-746}$ rounds to zero. Logits in the hundreds are rare but do happen, for
# example early in training with a large learning rate. A textbook softmax, written
# straight from the formula, fails at both ends:


# %%
def naive_softmax(zs):
    exps = [z.exp() for z in zs]
    total = sum(exps)
    return [e / total for e in exps]


for logits in ([1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0]):
    try:
        naive_softmax([Value(v) for v in logits])
    except (OverflowError, ZeroDivisionError) as error:
        print(f"naive softmax of {logits}:\n    {type(error).__name__}: {error}")

# %% [markdown]
# Too large, and `exp` overflows; too small, and every exponential is $0$, so the
# sum is $0$ too. Both times the engine refuses, naming the op and the value,
# rather than carrying an `inf` or a `nan` into the rest of the graph.
#
# `nn.softmax` subtracts $m = \max_k z_k$ first (this is why `max` is a primitive of
# the engine). The largest shifted logit is then $0$, so no exponential overflows,
# and the sum is at least $1$, so nothing divides by zero. Both inputs above
# become the harmless logits $[0, -1, -2]$:

# %%
reference = np.exp([0.0, -1.0, -2.0]) / np.sum(np.exp([0.0, -1.0, -2.0]))
for logits in ([1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0]):
    a = np.array([v.data for v in nn.softmax(logits)])
    print(f"nn.softmax({logits}) = {a}")
    assert np.max(np.abs(a - reference)) < 1e-12

# %% [markdown]
# Does the max spoil the gradient? $m$ depends on the logits too, so the engine
# differentiates through it. But the loss does not change when all shifted logits
# move together, so the gradient arriving at $m$ is
# $-\sum_k (a_k - y_k) = 0$ (up to rounding), and $\partial L/\partial z$ is still
# $a - y$, even for logits near a thousand:

# %%
z = [Value(v) for v in [1000.0, 999.0, 998.0]]
L = nn.softmax_cross_entropy(z, 2)
L.backward()
maxima = [v for v in topological_order(L) if v.op == "max"]
error = np.max(np.abs(np.array([zi.grad for zi in z]) - (reference - [0.0, 0.0, 1.0])))
print(f"L = {L.data:.6f}, grad at the max nodes:", [f"{m.grad:.1e}" for m in maxima])
print(f"max |engine - (a - y)| = {error:.1e}")
assert abs(L.data - (2.0 + math.log(np.sum(np.exp([0.0, -1.0, -2.0]))))) < 1e-12
assert error < 1e-12

# %% [markdown]
# The same trick is why you should prefer the *fused* loss on logits to the log of
# a softmax. With logits $[0, 800]$ the probability of class 0 is $e^{-800}$, which
# rounds to $0$, and its log is undefined. The fused loss never forms that
# probability: it computes $\log \sum_k e^{z_k - m} - (z_\ell - m) = 800$.

# %%
logits = [0.0, 800.0]
try:
    nn.cross_entropy(nn.softmax(logits), 0)
except ValueError as error:
    print(f"log of the softmax: {type(error).__name__}: {error}")
fused = nn.softmax_cross_entropy(logits, 0)
print(f"fused softmax_cross_entropy: {fused.data}")
assert fused.data == 800.0

# %% [markdown]
# ## Two classes: the softmax is a sigmoid
#
# With two logits $z_A$ and $z_B$, divide the numerator and denominator by $e^{z_A}$:
#
# $$\operatorname{softmax}(z)_A = \frac{e^{z_A}}{e^{z_A} + e^{z_B}}
#   = \frac{1}{1 + e^{z_B - z_A}} = \sigma(z_A - z_B) .$$
#
# Only the difference of the logits matters, and a two-class softmax network is a
# logistic regression on $z_A - z_B$: lesson 2 was a special case of this one. The
# gradients agree too: $\partial/\partial z_A = \sigma'(d)$ and
# $\partial/\partial z_B = -\sigma'(d)$ with $d = z_A - z_B$.


# %%
def softmax_a(zA, zB):
    """softmax([zA, zB])[0] and its gradient, by the engine."""
    zA, zB = Value(zA), Value(zB)
    a = nn.softmax([zA, zB])[0]
    a.backward()
    return a.data, zA.grad, zB.grad


d = np.linspace(-6, 6, 49)
zB = 1.5  # any value: only zA - zB matters
engine = np.array([softmax_a(zB + di, zB) for di in d])
sigma = 1 / (1 + np.exp(-d))
errors = [
    np.max(np.abs(engine[:, 0] - sigma)),
    np.max(np.abs(engine[:, 1] - sigma * (1 - sigma))),
    np.max(np.abs(engine[:, 2] + sigma * (1 - sigma))),
]
print("max errors: value {:.1e}, d/dzA {:.1e}, d/dzB {:.1e}".format(*errors))
assert max(errors) < 1e-12

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(d, sigma, color="C1", label=r"$\sigma(z_A - z_B)$")
ax.plot(d[::3], engine[::3, 0], ".", color="C0", label=r"softmax$([z_A, z_B])_A$")
ax.set(xlabel=r"$z_A - z_B$", title="two-class softmax = sigmoid")
ax.legend()
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## A final linear layer
#
# In a network the logits come from a linear layer, $z = W x + b$ (points as
# columns: $W$ is $k \times d$). Since $z_i = \sum_j W_{ij} x_j + b_i$, the weight
# $W_{ij}$ reaches the loss only through $z_i$, with slope $x_j$:
#
# $$\frac{\partial L}{\partial W_{ij}} = (a_i - y_i)\,x_j, \qquad
#   \frac{\partial L}{\partial W} = (a - y)\,x^\top, \qquad
#   \frac{\partial L}{\partial b} = a - y .$$
#
# An `nn.Layer` of 3 linear neurons reading 4 inputs is exactly this: neuron $i$
# holds row $i$ of $W$.

# %%
layer = nn.Layer(4, 3, activation="linear", seed=0)
x = np.array([0.5, -1.0, 2.0, 0.3])
target = 1
L = nn.softmax_cross_entropy(layer(x), target)
L.backward()

W = np.array([[w.data for w in n.w] for n in layer.neurons])  # (3, 4)
b = np.array([n.b.data for n in layer.neurons])
zs = W @ x + b
a = np.exp(zs - zs.max()) / np.sum(np.exp(zs - zs.max()))
y = np.eye(3)[target]
dW, db = np.outer(a - y, x), a - y

engine_dW = np.array([[w.grad for w in n.w] for n in layer.neurons])
engine_db = np.array([n.b.grad for n in layer.neurons])
error = max(np.max(np.abs(engine_dW - dW)), np.max(np.abs(engine_db - db)))
print(f"W {W.shape}, x {x.shape} -> dL/dW = (a - y) xᵀ {dW.shape}; max error {error:.1e}")
assert error < 1e-12

# %% [markdown]
# ## The graph of one softmax cross-entropy
#
# Finally, the picture of `nn.softmax_cross_entropy(z, 0)` for
# $z = [2, 1, 0.1]$: the two `max` nodes find $m$, each logit is shifted and
# exponentiated, the sum's log is the log-sum-exp, and the loss is that minus the
# target's shifted logit. Read the gradients at the logits: $a - y$. The `max`
# nodes get a gradient of zero, as we argued above, so they stay white.

# %%
z = [Value(v, label=f"z{i}") for i, v in enumerate([2.0, 1.0, 0.1])]
L = nn.softmax_cross_entropy(z, 0)
L.label = "L"
L.backward()
a = np.exp([2.0, 1.0, 0.1]) / np.sum(np.exp([2.0, 1.0, 0.1]))
assert np.max(np.abs(np.array([zi.grad for zi in z]) - (a - [1, 0, 0]))) < 1e-12
viz.draw_dot(L)

# %% [markdown]
# In the player, watch each logit's gradient being summed from its two uses (the
# shifted logit inside the log-sum-exp, and the target's term), and the `max` nodes
# route a gradient of (nearly) zero.

# %%
viz.player(L)

# %% [markdown]
# ## What we have
#
# - The softmax Jacobian has two cases, $a_i(1 - a_i)$ on the diagonal and
#   $-a_i a_j$ off it: $\operatorname{diag}(a) - a a^\top$.
# - Through the cross-entropy they collapse to $\partial L/\partial z = a - y$, and
#   through a linear layer to $\partial L/\partial W = (a - y)\,x^\top$.
# - Subtracting the largest logit changes nothing mathematically and avoids
#   overflow and division by zero; the fused loss also avoids $\log 0$.
# - With two classes, the softmax is the sigmoid of the logit difference.
#
# Next, lesson 4 stacks layers and runs this recursion backwards through a whole
# network.
