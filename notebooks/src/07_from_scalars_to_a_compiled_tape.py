# %% [markdown]
# # 7. From scalars to a compiled tape
#
# The scalar engine builds a fresh graph for every sample of every step. Train an
# MLP on 100 points and each step records 100 copies of *the same* graph, one
# Python object per node, only the numbers differ. Real frameworks record the
# graph once and replay it (JAX's jaxprs, `torch.fx`). This lesson does the same
# with `autograd_lite.compile`: trace one sample, then run that recording, the
# *tape*, on all samples at once with NumPy. The scalar engine stays the reference:
# every number below is checked against it.

# %%
import matplotlib.pyplot as plt
import numpy as np

import autograd_lite as ag
import nn
from autograd_lite import Value

plt.rcParams.update({"figure.dpi": 80})

# %% [markdown]
# ## Tracing: one neuron's tape
#
# `compile(loss_fn, params)` takes the loss of **one** sample, written with
# Values: `loss_fn(x, y)` gets the sample's inputs `x` and targets `y` as lists of
# Values. On the first call it runs `loss_fn` once with the scalar engine and
# walks the graph it built in topological order. Every node becomes one line of
# the tape, `%i = op %a %b`, and every leaf is sorted by *who it is*: one of the
# `params` (by identity), one of the inputs `x[j]`, one of the targets `y[j]`, or
# else a constant whose number is recorded.
#
# Here is the tape of a tanh neuron with a squared error, $L = (\tanh(w \cdot x + b) - y)^2$:

# %%
neuron = nn.Neuron(2, "tanh", seed=0)
step = ag.compile(lambda x, y: (neuron(x) - y[0]) ** 2, neuron.parameters())

X = np.array([[1.0, 2.0], [0.5, -1.0], [-1.5, 0.3]])
Y = np.array([1.0, 0.0, -0.5])
mean_loss = step(X, Y)
print(step.tape)

# %% [markdown]
# Read it bottom up and it is the neuron: two products `w·x`, a chain of additions
# starting at the bias, `tanh`, a subtraction of the target, a square (the `2` is
# a constant). The same fourteen lines hold for every sample; only `x` and `y`
# change. So `step(X, Y)` runs each line once *for all rows*: line `%k` becomes
# a column of a NumPy array with one row per sample, the forward pass goes top to
# bottom, the backward pass (the same chain rule as `backward`, the same rules from
# the op table) bottom to top, and the gradient of the **mean** loss is added to
# each parameter's `.grad`, exactly what `backward()` on the scalar graph of the
# mean would add:


# %%
def scalar_mean(loss_fn, params, X, Y):
    """The mean loss and its gradient with the scalar engine: the reference."""
    for p in params:
        p.grad = 0.0
    losses = [loss_fn([Value(v) for v in x], [Value(y)]) for x, y in zip(X, Y)]
    total = sum(losses[1:], losses[0]) * (1.0 / len(losses))
    total.backward()
    return total.data, [p.grad for p in params]


params = neuron.parameters()
loss_scalar, grads_scalar = scalar_mean(lambda x, y: (neuron(x) - y[0]) ** 2, params, X, Y)
for p in params:
    p.grad = 0.0
loss_compiled = step(X, Y)
grads_compiled = [p.grad for p in params]
print(f"mean loss: scalar {loss_scalar:.15f}, compiled {loss_compiled:.15f}")
print("gradients:", np.round(grads_compiled, 12))
assert abs(loss_compiled - loss_scalar) <= 1e-15
assert np.allclose(grads_compiled, grads_scalar, rtol=1e-13, atol=0)

# %% [markdown]
# ## What tracing cannot see, and how compile says so
#
# A tape is the graph of *one* sample. If `loss_fn` looks at the numbers, by an
# `if` on `v.data` or by turning a sample's number into a constant, another
# sample would have recorded another graph, and replaying the first would give a
# wrong gradient without a word. So the first call traces a few more rows (the
# first that differs, then those holding the columns' smallest and largest values,
# never a row with a NaN) and compares: any difference is an error naming the
# first node that differs.

# %%
w = Value(0.5)


def branching(x, y):
    return (w * x[0]).tanh() if x[0].data > 0 else (w * x[0]).sigmoid()


try:
    ag.compile(branching, [w])([[1.0], [-1.0]], [0.0, 0.0])
except ValueError as e:
    print(e)
    assert "differ at node %3" in str(e)

# %% [markdown]
# A comparison of *Values* (`x[0] > 0` rather than `x[0].data > 0`) is seen by the
# engine: while tracing, `compile` records it as a *guard*, listed at the end of the
# tape, and checks it on every row of every call. A row where it comes out
# otherwise is refused, even in a later call that traces nothing:

# %%
guarded = ag.compile(lambda x, y: (w * x[0]).tanh() if x[0] > 0 else (w * x[0]).sigmoid(), [w])
guarded([[1.0], [2.0]], [0.0, 0.0])
print(guarded.tape.guards[0].text())
try:
    guarded([[1.0], [2.0], [-3.0]], [0.0, 0.0, 0.0])
except ValueError as e:
    print(e)
    assert "sample row 2" in str(e)

# %% [markdown]
# What no check can see is a branch on `.data` that none of the compared rows
# takes. The fix is to write the choice as an op (`relu`, `max`): an op's derivative
# rule makes the choice per sample, inside the replay. That is also why the
# losses of `nn` never skip a term by looking at the data when their target is
# given as Values (a class index becomes its one-hot row).
#
# ## Why grouping makes it fast
#
# One NumPy call per tape line would already remove the Python objects, but a
# NumPy call costs about a microsecond whatever its size, and micrograd's demo
# step has ~1,700 lines per sample. The replay makes *fewer, bigger* calls:
#
# 1. **Levels.** A node's level is the length of the longest path from a leaf to
#    it. Nodes of one level never depend on each other, so all of a level's nodes
#    with the same op (the 16 ReLUs of a layer) run as one call.
# 2. **Fused sums.** A chain `((b + w₀x₀) + w₁x₁) + …` whose partial sums are used
#    nowhere else is one sum of many terms; its gradient reaches every term unchanged.
# 3. **Matrix products.** The terms `w·v` of those sums, with `w` a parameter and
#    `v` a value of the sample, are a layer's `h @ W + b`: all the sums of a level
#    become one matrix product, and its backward two more ($dh = dZ\,W^\top$,
#    $dW = h^\top dZ$: lesson 4's formulas, found in the tape instead of written by hand).
# 4. **Parameter-only values**, like an L2 penalty written inside `loss_fn`, are
#    the same for every sample: they are computed once per call.
#
# `step.plan` shows what micrograd's demo step became:

# %%
Xm, ym = nn.data.make_moons(100, noise=0.1, seed=0)
Ym = ym * 2.0 - 1.0  # labels −1/+1 for the max-margin loss
mlp = nn.MLP(2, [16, 16, 1], seed=1)
mlp_params = mlp.parameters()


def demo_loss(x, y):
    """micrograd's demo: SVM max-margin loss of one point, plus 1e-4·Σp²."""
    return (1 + -y[0] * mlp(x)).relu() + 1e-4 * sum(p * p for p in mlp_params)


demo_step = ag.compile(demo_loss, mlp_params)
demo_step(Xm, Ym)
print(f"{len(demo_step.tape):,} tape lines per sample became {len(demo_step.plan)} groups:")
print("\n".join(demo_step.plan))
assert len(demo_step.plan) < 20

# %% [markdown]
# ## The matrix program, next to the handwritten recursion
#
# `print(step.program)` writes the groups as the matrix equations they are, in the
# notation of the derivations (docs/derivations.md §4): one row per sample, each line
# naming the tape nodes it replays. Here is a 2-8-8-3 network with a softmax
# cross-entropy, the network of §4.2 with $K = 3$ and $g$ = ReLU:

# %%
net = nn.MLP(2, [8, 8, 3], seed=0)
net_step = ag.compile(lambda x, y: nn.softmax_cross_entropy(net(x), y), net.parameters())
Xs, labels = nn.data.make_spirals(60, seed=0)
net_step(Xs, np.eye(3)[labels])
print(net_step.program)
program_lines = [line.split("#")[0].strip() for line in str(net_step.program).splitlines()]
for line in [
    "Z1 = X·W1ᵀ + b1",
    "L = mean(logsumexp(Z3) − Z3[y])",
    "dZ3 = (softmax(Z3) − Y)/n",
    "dW3 = dZ3ᵀ·H2",
    "dH2 = dZ3·W3",
    "dZ2 = dH2 ⊙ 1[Z2 > 0]",
]:
    assert line in program_lines

# %% [markdown]
# Put it beside the recursion of §4.2, written for one point $h_0 = x$:
#
# $$a_k = W_k h_{k-1} + b_k,\quad h_k = g(a_k),\qquad
# \nabla_{W_k} L = (\nabla_{a_k} L)\, h_{k-1}^\top,\quad
# \nabla_{h_{k-1}} L = W_k^\top \nabla_{a_k} L,\quad
# \nabla_{a_{k-1}} L = \nabla_{h_{k-1}} L \odot g'(a_{k-1}).$$
#
# Stack the points as rows and each column vector becomes a row of a matrix:
# $a_k$ is a row of `Zk`, $h_k$ a row of `Hk`, and $W_k h_{k-1}$ becomes `H(k−1)·Wkᵀ`.
# The three steps per layer are the program's three lines per layer, `dWk = dZkᵀ·H(k−1)`
# (the outer products of all rows, summed), `dH(k−1) = dZk·Wk` and
# `dZ(k−1) = dH(k−1) ⊙ 1[Z(k−1) > 0]`; the $1/n$ of the mean enters once, in `dZ3`.
# Nobody wrote these equations for `compile`: it found them in the scalar graph, where
# each weight's many `mul` nodes and each unit's chain of `add`s line up into a
# matrix product. The loss is recognised too: the tape nodes `nn.softmax_cross_entropy`
# builds (a running maximum, the shifted exponentials, their sum, its log, the picked
# logit) are one group, `L = mean(logsumexp(Z3) − Z3[y])`, and its backward line
# `dZ3 = (softmax(Z3) − Y)/n` is §4.2's $\nabla_{a_K} L = \hat y - e_\ell$, one row per
# sample, divided by $n$ for the mean.
#
# The whole step, forward and backward for 100 samples, is a few dozen NumPy
# calls. Both engines on the same weights give the same numbers:

# %%
loss_s, grads_s = scalar_mean(demo_loss, mlp_params, Xm, Ym)
for p in mlp_params:
    p.grad = 0.0
loss_c = demo_step(Xm, Ym)
grads_c = np.array([p.grad for p in mlp_params])
relative = np.abs(grads_c - grads_s).max() / np.abs(grads_s).max()
print(f"loss: scalar {loss_s:.15f}, compiled {loss_c:.15f}")
print(f"gradients: largest difference {relative:.1e} of the largest gradient")
assert abs(loss_c - loss_s) <= 1e-12 * abs(loss_s) and relative <= 1e-12

# %% [markdown]
# ## The benchmark
#
# `benchmarks/bench_compile.py` times three workloads (this demo, a 2-16-16-3 spirals
# network and a 64-32-10 digits network, both with softmax cross-entropy) at n = 1 …
# 100,000 rows, against the scalar engine, a hand-written NumPy forward + backward (the
# *floor*: what the same network costs written by hand), PyTorch and JAX on one thread,
# in alternating rounds. The numbers below (CPU time per step, medians of 5 rounds) were
# printed by that script for the demo step on the project's 2-core machine, quiet at the
# time; they move from run to run by a few percent, the ratios less. They are quoted, not
# measured here: a notebook is no place for timing.
#
# | engine | 100 points | 1,000 points | 100,000 points |
# |---|---|---|---|
# | compiled (gradients into `p.grad`, SGD on the Values) | 0.083 ms | 0.16 ms | 14 ms |
# | compiled, flat parameter array (as `fit(compile=True)`) | 0.058 ms | 0.13 ms | 14 ms |
# | NumPy floor, written by hand | 0.041 ms | 0.14 ms | 17 ms |
# | PyTorch float64, one thread | 0.19 ms | 0.30 ms | 19 ms |
# | JAX `jit` float64, one thread | 0.029 ms | 0.086 ms | 34 ms |
# | scalar engine | 27 ms | | |
#
# At 100 points the replay is about 300× faster than the scalar engine, and faster than
# PyTorch at every size; from 1,000 points on the flat step runs at or below the floor, because
# then the time is in the matrix products and in passes over memory, which the replay
# makes in place. With small batches what remains is NumPy's cost per call (under a
# microsecond each, a few dozen a step), where JAX's `jit`, one compiled program per step
# with its elementwise ops fused, is ahead of the hand-written floor itself.
# The garbage collector is paused for every engine during a step, as `nn.train.fit`
# does. The scalar engine remains the one to read, draw and check: `compile` only
# replays what it records.
#
# ## A real data set: handwritten digits
#
# scikit-learn ships 1,797 scans of handwritten digits, 8×8 pixels each
# (`nn.data.load_digits()`, the `data` extra). An MLP 64-32-10 has 2,410
# parameters, and one sample's graph thousands of nodes (counted below), so an
# epoch of the scalar engine builds millions of them. Compiled, an epoch takes
# a fraction of a second:

# %%
Xd, yd = nn.data.load_digits()
X_train, X_test, y_train, y_test = nn.data.train_test_split(Xd, yd, test_fraction=0.2, seed=0)
model = nn.MLP(64, [32, 10], seed=0)
history = nn.train.fit(
    model,
    X_train,
    y_train,
    optimizer=nn.optim.Adam(model.parameters(), lr=0.01),
    epochs=20,
    batch_size=32,
    progress=False,
    compile=True,
)
_, train_accuracy = nn.train.evaluate(model, X_train, y_train, compile=True)
_, test_accuracy = nn.train.evaluate(model, X_test, y_test, compile=True)
digits_step = ag.compile(lambda x, y: nn.softmax_cross_entropy(model(x), y), model.parameters())
digits_step(X_train[:2], np.eye(10)[y_train[:2]])  # a class index goes in as its one-hot row
print(f"one sample's tape: {len(digits_step.tape):,} lines")
first, last = history.loss[0], history.loss[-1]
print(f"{len(X_train)} training images, 20 epochs: mean loss {first:.2f} → {last:.2f}")
print(f"training accuracy {train_accuracy:.3f}, held-out accuracy {test_accuracy:.3f}")
assert test_accuracy >= 0.95

# %% [markdown]
# Some of the held-out digits with the class the network gives them (red: wrong):

# %%
predicted = nn.train.predict(model, X_test[:24])
fig, axes = plt.subplots(3, 8, figsize=(8, 3.4))
for ax, image, label, guess in zip(axes.ravel(), X_test, y_test, predicted):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(str(guess), color="black" if guess == label else "red", fontsize=10)
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## What we have
#
# - A tape is one sample's graph as a program: ops and the positions of their
#   arguments, with leaves sorted into parameters, inputs, targets and constants.
# - Replaying it over a batch turns each line into an array operation; grouping
#   by level and op, fusing sums and finding matrix products make the replay a
#   handful of NumPy calls per layer.
# - Tracing is only valid when the graph does not depend on the data: `compile`
#   compares the tapes of the rows at the columns' extremes, checks every comparison
#   of Values on every row, and refuses with the node or the row that differs.
# - `print(step.program)` shows the replay as the matrix equations of §4.
