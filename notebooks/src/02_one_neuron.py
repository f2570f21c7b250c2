# %% [markdown]
# # 2. One neuron: logistic regression
#
# The smallest network worth training is a single neuron: a weighted sum of the
# inputs, squashed by a sigmoid into a probability. Trained with the
# binary cross-entropy loss, it is *logistic regression*. In this lesson we
# derive its gradient by hand (it comes out beautifully simple; written out in
# [§2 of docs/derivations.md](../docs/derivations.md#neuron)), check it with the
# engine for one point and for a whole batch, in both of the shape conventions
# you will meet in books and code, and then train the neuron. It draws a straight
# line through the plane: perfect for some data sets, hopeless for others.

# %%
import matplotlib.pyplot as plt
import numpy as np

import nn
import viz
from autograd_lite import Value, no_grad
from nn import data, optim, train

plt.rcParams.update({"figure.dpi": 80, "figure.figsize": (9, 3.5)})

# %% [markdown]
# ## The model and its loss
#
# For an input $x \in \mathbb{R}^d$ with label $y \in \{0, 1\}$, the neuron computes
#
# $$z = w \cdot x + b, \qquad a = \sigma(z) = \frac{1}{1 + e^{-z}},$$
#
# and reads $a$ as the probability that $y = 1$. The loss is the negative log of
# the probability the neuron gave to the right answer:
#
# $$J = -\bigl(y \log a + (1 - y) \log(1 - a)\bigr).$$
#
# ## The gradient, by the chain rule
#
# $J$ depends on $w$ through $a$ and $z$, so
# $\frac{\partial J}{\partial w} = \frac{\partial J}{\partial a}\,
# \frac{\partial a}{\partial z}\,\frac{\partial z}{\partial w}$. One factor at a time:
#
# $$\frac{\partial J}{\partial a} = -\Bigl(\frac{y}{a} - \frac{1 - y}{1 - a}\Bigr),
# \qquad \frac{\partial a}{\partial z} = a(1 - a),
# \qquad \frac{\partial z}{\partial w} = x .$$
#
# Multiplying the first two, the sigmoid's slope $a(1 - a)$ cancels both
# denominators of the loss:
#
# $$\frac{\partial J}{\partial z} = -\bigl(y(1 - a) - (1 - y)\,a\bigr) = a - y .$$
#
# So $\partial J/\partial w = (a - y)\,x$ and $\partial J/\partial b = a - y$: the
# error of the prediction, times the input. Let us build the graph for one point
# and see whether the engine agrees at every step of the chain.

# %%
x, y = np.array([0.8, -1.5]), 1.0
w = [Value(0.3, label="w0"), Value(-0.6, label="w1")]
b = Value(0.1, label="b")

z = w[0] * x[0] + w[1] * x[1] + b
a = z.sigmoid()
J = -(y * a.log() + (1 - y) * (1 - a).log())
z.label, a.label, J.label = "z", "a", "J"
J.backward()

A = a.data
closed = {
    "dJ/da": -(y / A - (1 - y) / (1 - A)),
    "dJ/dz": A - y,
    "dJ/dw0": (A - y) * x[0],
    "dJ/dw1": (A - y) * x[1],
    "dJ/db": A - y,
}
engine = {
    "dJ/da": a.grad,
    "dJ/dz": z.grad,
    "dJ/dw0": w[0].grad,
    "dJ/dw1": w[1].grad,
    "dJ/db": b.grad,
}
for name in closed:
    print(f"{name:7s} closed form {closed[name]: .12f}   engine {engine[name]: .12f}")
max_error = max(abs(closed[k] - engine[k]) for k in closed)
print(f"max error: {max_error:.1e}")
assert max_error < 1e-12

# %% [markdown]
# (`backward` fills in the `grad` of *every* node, not just of the leaves, which is
# how we could read $\partial J/\partial a$ and $\partial J/\partial z$ off `a` and
# `z`.) Here is the graph. Look at the `grad` of `z`: it is $a - y$, and it is
# handed unchanged to `b` and, times the input, to the weights.

# %%
viz.draw_dot(J)

# %% [markdown]
# Step through the same graph: the backward pass reaches `z` with $a - y$, and the
# `+` and `*` nodes hand it on (add distributes, mul swaps).

# %%
viz.player(J)

# %% [markdown]
# `nn.Neuron(2, "sigmoid")` builds the same graph for us, and
# `nn.binary_cross_entropy` the same loss. With the same weights we must get the
# same gradients:

# %%
neuron = nn.Neuron(2, "sigmoid", seed=0)
for p, q in zip(neuron.parameters(), [*w, b]):
    p.data = q.data
loss = nn.binary_cross_entropy(neuron(x), y)
loss.backward()
error = max(abs(p.grad - q.grad) for p, q in zip(neuron.parameters(), [*w, b]))
print(neuron, "| parameters:", [p.label for p in neuron.parameters()], f"| max error {error:.1e}")
assert abs(loss.data - J.data) < 1e-15 and error < 1e-15

# %% [markdown]
# ## Why cross-entropy and not squared error?
#
# The cancellation above is not a coincidence: the log in the loss undoes the exp
# in the sigmoid. Compare with the squared error $(a - y)^2$, whose gradient is
# $2(a - y)\,a(1 - a)$. When the neuron is confidently *wrong*, $a(1 - a)$ is tiny
# and the squared error barely moves the weights, while cross-entropy still
# pushes with the full error $a - y$.

# %%
for z_value in [0.0, -4.0, -8.0]:  # the label is 1, so z << 0 is confidently wrong
    z_ = Value(z_value)
    nn.binary_cross_entropy(z_.sigmoid(), 1.0).backward()
    bce = z_.grad
    z_ = Value(z_value)
    nn.mse(z_.sigmoid(), 1.0).backward()
    print(f"z = {z_value:5.1f}:  dJ/dz cross-entropy {bce: .4f}   squared error {z_.grad: .6f}")

# %% [markdown]
# ## A batch of points, as matrices
#
# Over $n$ points the loss is the mean $J = \frac{1}{n}\sum_i J_i$, and since the
# derivative of a sum is the sum of the derivatives,
#
# $$\frac{\partial J}{\partial w} = \frac{1}{n}\sum_{i=1}^{n} (a_i - y_i)\,x_i .$$
#
# That sum over points is a matrix product, and here we must mind the *shapes*
# ([§2.2–2.3 of the derivations](../docs/derivations.md#batch-columns)). There are
# two conventions, both correct, and both common:
#
# - **columns** (one point per column, as in many textbooks):
#   $Z = W X + b$ with $W$ of shape $k \times d$ and $X$ of shape $d \times n$; then
#   $\partial J/\partial W = (A - Y)\,X^\top / n$;
# - **rows** (one point per row, as in NumPy and PyTorch code):
#   $Z = X W + b$ with $X$ of shape $n \times d$ and $W$ of shape $d \times k$; then
#   $\partial J/\partial W = X^\top (A - Y) / n$.
#
# For one neuron $k = 1$. The two results hold the same numbers, one the transpose
# of the other. The engine knows nothing about matrices: it sums over the points
# because each weight is used once per point.

# %%
X, Y = data.make_blobs(8, centers=[(-1.0, -1.0), (1.0, 1.0)], std=0.8, seed=1)
w0, b0 = np.array([0.5, -0.3]), 0.2

# The engine: a graph of scalars, the mean of the per-point losses.
w = [Value(w0[0], label="w0"), Value(w0[1], label="w1")]
b = Value(b0, label="b")
losses = [
    nn.binary_cross_entropy((w[0] * x0 + w[1] * x1 + b).sigmoid(), t) for (x0, x1), t in zip(X, Y)
]
J = sum(losses) / len(losses)
J.backward()
engine_dW, engine_db = np.array([w[0].grad, w[1].grad]), b.grad

# Columns: W (1, d), X (d, n).
Wc, Xc, Yc = w0.reshape(1, 2), X.T, Y.reshape(1, -1)
Ac = 1 / (1 + np.exp(-(Wc @ Xc + b0)))
dW_columns, db_columns = (Ac - Yc) @ Xc.T / len(X), np.sum(Ac - Yc) / len(X)

# Rows: X (n, d), W (d, 1).
Wr, Xr, Yr = w0.reshape(2, 1), X, Y.reshape(-1, 1)
Ar = 1 / (1 + np.exp(-(Xr @ Wr + b0)))
dW_rows, db_rows = Xr.T @ (Ar - Yr) / len(X), np.sum(Ar - Yr) / len(X)

print(f"columns: W {Wc.shape}, X {Xc.shape} -> dW {dW_columns.shape}")
print(f"rows:    X {Xr.shape}, W {Wr.shape} -> dW {dW_rows.shape}")
errors = {
    "columns": max(np.max(np.abs(dW_columns.ravel() - engine_dW)), abs(db_columns - engine_db)),
    "rows": max(np.max(np.abs(dW_rows.ravel() - engine_dW)), abs(db_rows - engine_db)),
}
print("max |matrix form - engine|:", {k: f"{e:.1e}" for k, e in errors.items()})
assert max(errors.values()) < 1e-12
assert np.allclose(dW_columns, dW_rows.T, rtol=0, atol=1e-12)

# %% [markdown]
# ## Training: gradient descent
#
# Training repeats one step: compute the mean loss over the data, let `backward`
# fill in the gradients, and move every parameter a little downhill,
#
# $$w \leftarrow w - \alpha\,\frac{\partial J}{\partial w}, \qquad
#   b \leftarrow b - \alpha\,\frac{\partial J}{\partial b},$$
#
# with a learning rate $\alpha$. Gradients add up across `backward` calls, so we
# zero them before each pass. Here is the whole loop, on two blobs of points that a
# straight line can separate.


# %%
def mean_bce(model, X, Y):
    """(1/n) Σ_i BCE(model(x_i), y_i), as one graph."""
    losses = [nn.binary_cross_entropy(model(x), t) for x, t in zip(X, Y)]
    return sum(losses) / len(losses)


def gradient_descent(model, X, Y, steps, lr):
    """Full-batch gradient descent; returns the loss and the parameters at every step."""
    history, snapshots = [], []
    for _ in range(steps):
        snapshots.append([p.data for p in model.parameters()])
        loss = mean_bce(model, X, Y)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        history.append(loss.data)
    return history, snapshots


def accuracy(model, X, Y):
    with no_grad():  # no graph needed just to predict
        return float(np.mean([(model(x).data > 0.5) == t for x, t in zip(X, Y)]))


X, Y = data.make_blobs(100, centers=[(-1.2, -1.2), (1.2, 1.2)], std=0.6, seed=0)
neuron = nn.Neuron(2, "sigmoid", seed=0)
history, snapshots = gradient_descent(neuron, X, Y, steps=100, lr=0.5)
blobs_accuracy = accuracy(neuron, X, Y)
print(f"loss {history[0]:.3f} -> {history[-1]:.3f}, accuracy {blobs_accuracy:.2f}")
assert history[-1] < 0.05 and blobs_accuracy == 1.0

# %% [markdown]
# The neuron predicts class 1 when $a > \tfrac12$, that is when $z = w \cdot x + b > 0$.
# So its *decision boundary* is the set $w \cdot x + b = 0$: a straight line,
# whatever the weights. Below, the line at a few steps of training (faint to dark),
# and the loss going down.


# %%
def draw_points(ax, X, Y):
    ax.scatter(X[:, 0], X[:, 1], c=Y, cmap="coolwarm", s=14, edgecolors="k", linewidths=0.3)
    ax.set_aspect("equal")


def draw_line(ax, w0, w1, b, **style):
    """The line w0·x0 + w1·x1 + b = 0, across the current x-range of ax."""
    x0 = np.array(ax.get_xlim())
    ax.plot(x0, -(w0 * x0 + b) / w1, **style)


fig, (ax_loss, ax_data) = plt.subplots(1, 2)
ax_loss.plot(history)
ax_loss.set(xlabel="step", ylabel="mean loss J", title="training loss", yscale="log")
draw_points(ax_data, X, Y)
ax_data.set_xlim(-3, 3)
ax_data.set_ylim(-3, 3)
for step, alpha in [(1, 0.2), (5, 0.4), (20, 0.6)]:
    draw_line(ax_data, *snapshots[step], color="k", alpha=alpha, lw=1, label=f"step {step}")
draw_line(ax_data, *[p.data for p in neuron.parameters()], color="k", lw=2, label="step 100")
ax_data.legend(loc="upper left", fontsize=8)
ax_data.set_title(f"decision boundary (accuracy {blobs_accuracy:.2f})")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Where one neuron fails
#
# Now two interleaving half-moons. No straight line separates them, and the
# neuron, trained exactly the same way, does the best a line can do.

# %%
X, Y = data.make_moons(100, noise=0.1, seed=0)
neuron = nn.Neuron(2, "sigmoid", seed=0)
history, _ = gradient_descent(neuron, X, Y, steps=200, lr=1.0)
moons_accuracy = accuracy(neuron, X, Y)
print(f"one neuron on moons: loss {history[-1]:.3f}, accuracy {moons_accuracy:.2f}")
assert moons_accuracy < 0.9

# %% [markdown]
# The fix is a *hidden layer*: a few neurons with a non-linear activation between
# the input and the output neuron. Each hidden neuron draws its own line and bends
# the plane along it; the output neuron combines the bent pieces into a curved
# boundary. Here are 8 tanh neurons feeding one output, trained with
# `nn.train.fit` (Adam, on the logit $z$ with the stable
# `binary_cross_entropy_with_logits`). Lesson 4 derives the gradients of such
# networks layer by layer.

# %%
mlp = nn.MLP(2, [8, 1], activation="tanh", seed=0)
fit = train.fit(
    mlp,
    X,
    Y,
    loss="binary_cross_entropy_with_logits",
    optimizer=optim.Adam(mlp.parameters(), lr=0.05),
    epochs=150,
    progress=False,
)
mlp_accuracy = float(np.mean(train.predict(mlp, X) == Y))
print(f"MLP(2, [8, 1]) on moons: loss {fit.loss[-1]:.3f}, accuracy {mlp_accuracy:.2f}")
assert mlp_accuracy >= 0.97

# %% [markdown]
# To draw a boundary we shade the plane by the sign of the model's logit $z$: for
# the neuron it is $w \cdot x + b$, for the MLP its output before any sigmoid.

# %%
x0, x1 = np.meshgrid(np.linspace(-1.5, 2.5, 81), np.linspace(-1.0, 1.5, 51))
grid = np.column_stack([x0.ravel(), x1.ravel()])
with no_grad():
    neuron_logit = [(neuron.w[0] * p0 + neuron.w[1] * p1 + neuron.b).data for p0, p1 in grid]
    mlp_logit = [mlp(p).data for p in grid]

fig, axes = plt.subplots(1, 2)
for ax, logit, title in [
    (axes[0], neuron_logit, f"one neuron: a line (accuracy {moons_accuracy:.2f})"),
    (axes[1], mlp_logit, f"a hidden layer: a curve (accuracy {mlp_accuracy:.2f})"),
]:
    z = np.reshape(logit, x0.shape)
    ax.contourf(x0, x1, z, levels=[z.min() - 1, 0, z.max() + 1], cmap="coolwarm", alpha=0.25)
    ax.contour(x0, x1, z, levels=[0], colors="k", linewidths=1)
    draw_points(ax, X, Y)
    ax.set_title(title)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## What we have
#
# - For a sigmoid neuron with cross-entropy, $\partial J/\partial z = a - y$, so
#   $\partial J/\partial w = (a - y)\,x$ and $\partial J/\partial b = a - y$.
# - Over a batch the gradient is a mean, which is a matrix product:
#   $(A - Y)X^\top/n$ with points in columns, $X^\top(A - Y)/n$ with points in rows.
# - One neuron separates classes with a straight line; a non-linear boundary needs
#   a hidden layer.
#
# Next, lesson 3 goes from two classes to many: the softmax, and the same
# $a - y$ appearing again.
