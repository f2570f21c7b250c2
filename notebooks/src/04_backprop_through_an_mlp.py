# %% [markdown]
# # 4. Backpropagation through a multi-layer network
#
# Lessons 2 and 3 differentiated one layer. Now we stack three: a network with two
# ReLU hidden layers and a softmax output. We write its backward pass twice by hand,
# once as matrix formulas over a batch and once as the general layer-by-layer
# recursion (both derived in
# [§4 of docs/derivations.md](../docs/derivations.md#mlp-rows)), and check *every*
# gradient against the scalar engine, which knows nothing about layers or matrices. Then we
# train the network on three interleaved spirals and look at what it learned.

# %%
import matplotlib.pyplot as plt
import numpy as np

import nn
import viz
from autograd_lite import Value, jacobian, topological_order
from nn import data, metrics, optim, train

plt.rcParams.update({"figure.dpi": 80, "figure.figsize": (9, 3.5)})

# %% [markdown]
# ## The network, in the row convention
#
# One point per row, as in NumPy: a batch $X$ is $n \times 2$, and
#
# $$\begin{aligned}
# Z_1 &= X W_1 + b_1, & A_1 &= \mathrm{ReLU}(Z_1), \\
# Z_2 &= A_1 W_2 + b_2, & A_2 &= \mathrm{ReLU}(Z_2), \\
# Z_3 &= A_2 W_3 + b_3, & \hat Y &= \operatorname{softmax}(Z_3)\ \text{(row by row)},
# \end{aligned}
# \qquad L = \frac{1}{n} \sum_{i} \mathrm{CCE}(y_i, \hat y_i).$$
#
# $W_k$ is $n_{k-1} \times n_k$ (inputs by outputs). `nn.MLP(2, [5, 4, 3])` builds
# exactly this, with ReLU on the hidden layers and a linear last layer whose outputs
# are the logits $Z_3$; `nn.softmax_cross_entropy` adds the softmax and the loss.
# We keep the network small so that every number can be printed, and use 5 and 4
# hidden units so that a transposed matrix cannot pass the checks by accident.

# %%
model = nn.MLP(2, [5, 4, 3], seed=0)
X, y = data.make_spirals(12, classes=3, noise=0.1, seed=1)
n = len(X)

# The engine: one graph of scalars for the whole batch.
logits = [model(x) for x in X]  # each a list of 3 Values: a row of Z3
L = sum(nn.softmax_cross_entropy(z, int(t)) for z, t in zip(logits, y)) / n
L.backward()
print(f"{model}: {len(model.parameters())} parameters, batch of {n}")
print(f"loss {L.data:.6f}, computed by a graph of {len(topological_order(L))} scalar nodes")

# %% [markdown]
# To compare with matrix formulas we read the weights out of the model. Neuron $j$ of
# a layer holds one weight per input, so in the row convention it is *column* $j$
# of $W$.


# %%
def weights(layer, attribute="data"):
    """W (inputs × outputs): column j holds neuron j's weights (their data or grad)."""
    return np.array([[getattr(w, attribute) for w in neuron.w] for neuron in layer.neurons]).T


def biases(layer, attribute="data"):
    return np.array([getattr(neuron.b, attribute) for neuron in layer.neurons])


W1, W2, W3 = (weights(layer) for layer in model.layers)
b1, b2, b3 = (biases(layer) for layer in model.layers)
print("W1", W1.shape, " W2", W2.shape, " W3", W3.shape)

# %% [markdown]
# ## Forward and backward, as matrices
#
# The forward pass in NumPy must give the engine's loss:


# %%
def relu(Z):
    return np.maximum(Z, 0.0)


def softmax_rows(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))  # subtract the max: lesson 3
    return E / E.sum(axis=1, keepdims=True)


Y = np.eye(3)[y]  # one-hot targets, n × 3
Z1 = X @ W1 + b1
A1 = relu(Z1)
Z2 = A1 @ W2 + b2
A2 = relu(Z2)
Z3 = A2 @ W3 + b3
Y_hat = softmax_rows(Z3)
loss = -np.mean(np.sum(Y * np.log(Y_hat), axis=1))
print(f"NumPy loss {loss:.6f}, engine loss {L.data:.6f}, difference {abs(loss - L.data):.1e}")
assert abs(loss - L.data) < 1e-14

# %% [markdown]
# The backward pass runs the same steps in reverse. Lesson 3 gave the start: the
# gradient of the loss with respect to the logits is $\hat Y - Y$, divided by $n$
# because the loss is a mean. Each layer $Z = A W + b$ then does three things:
#
# - its weights get $\;dW = A^\top dZ\;$ (each weight collects input times error,
#   summed over the batch; check the shapes: $n_{k-1} \times n$ times $n \times n_k$);
# - its bias gets $\;db = \sum_{\text{rows}} dZ$;
# - it sends back $\;dA = dZ\, W^\top$ to the layer below.
#
# A ReLU passes the gradient where its input was positive and blocks it elsewhere:
# $dZ = dA \odot \mathbb{1}[Z > 0]$. All together:
#
# $$\begin{aligned}
# dZ_3 &= (\hat Y - Y)/n, & dW_3 &= A_2^\top dZ_3, & db_3 &= \textstyle\sum_{\text{rows}} dZ_3,
#   & dA_2 &= dZ_3 W_3^\top, \\
# dZ_2 &= dA_2 \odot \mathbb{1}[Z_2 > 0], & dW_2 &= A_1^\top dZ_2,
#   & db_2 &= \textstyle\sum_{\text{rows}} dZ_2, & dA_1 &= dZ_2 W_2^\top, \\
# dZ_1 &= dA_1 \odot \mathbb{1}[Z_1 > 0], & dW_1 &= X^\top dZ_1,
#   & db_1 &= \textstyle\sum_{\text{rows}} dZ_1 .
# \end{aligned}$$

# %%
dZ3 = (Y_hat - Y) / n
dW3, db3 = A2.T @ dZ3, dZ3.sum(axis=0)
dA2 = dZ3 @ W3.T
dZ2 = dA2 * (Z2 > 0)
dW2, db2 = A1.T @ dZ2, dZ2.sum(axis=0)
dA1 = dZ2 @ W2.T
dZ1 = dA1 * (Z1 > 0)
dW1, db1 = X.T @ dZ1, dZ1.sum(axis=0)

# %% [markdown]
# Now the engine's answers. The weights' and biases' gradients sit in their `.grad`;
# the logits are nodes of the graph too, so `backward` left $dZ_3$ in their `.grad`.

# %%
engine = {
    "dZ3": np.array([[z.grad for z in row] for row in logits]),
    **{f"dW{k}": weights(layer, "grad") for k, layer in enumerate(model.layers, start=1)},
    **{f"db{k}": biases(layer, "grad") for k, layer in enumerate(model.layers, start=1)},
}
by_hand = {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dW2": dW2, "db2": db2, "dW1": dW1, "db1": db1}
worst = 0.0
for name, matrix in by_hand.items():
    error = np.max(np.abs(matrix - engine[name]))
    worst = max(worst, error)
    print(f"{name}  shape {str(matrix.shape):8s} max |matrix formula - engine| = {error:.1e}")
assert worst < 1e-12

# %% [markdown]
# Every entry agrees to the last bit or two. Yet nothing in the engine knows about
# matrices: it saw only the scalar nodes counted above, and applied the chain rule
# to each. The matrix formulas are a compact way of writing the same sums.
#
# ## The layer recursion, one layer at a time
#
# [§4.2 of the derivations](../docs/derivations.md#layer-recursion) writes the same
# backward pass for one point, with points as
# *columns* and the layers numbered $k = 1, \dots, K$: $a_k = W_k h_{k-1} + b_k$
# (pre-activation), $h_k = g(a_k)$ (activation), $h_0 = x$,
# $\hat y = \operatorname{softmax}(a_K)$ and $L = -\log \hat y_\ell$ for the true
# class $\ell$. Here $W_k$ is outputs by inputs, the transpose of the row convention's.
# The gradient starts at the output and one rule per line carries it down:
#
# $$\begin{aligned}
# \nabla_{a_K} L &= -(e_\ell - \hat y), \\
# \nabla_{W_k} L &= \nabla_{a_k} L \; h_{k-1}^\top, \qquad \nabla_{b_k} L = \nabla_{a_k} L, \\
# \nabla_{h_{k-1}} L &= W_k^\top \, \nabla_{a_k} L, \\
# \nabla_{a_{k-1}} L &= \nabla_{h_{k-1}} L \odot g'(a_{k-1}) .
# \end{aligned}$$
#
# As code, that is one loop. We run it on a single point and compare with the engine.

# %%
x, target = X[0], int(y[0])
point_model = nn.MLP(2, [5, 4, 3], seed=0)  # the same weights, fresh gradients
L_point = nn.softmax_cross_entropy(point_model(x), target)
L_point.backward()

W = [weights(layer).T for layer in point_model.layers]  # column convention: outputs × inputs
b = [biases(layer) for layer in point_model.layers]

# Forward, keeping every a_k and h_k.
h, a = [x], []
for k in range(3):
    a.append(W[k] @ h[k] + b[k])
    h.append(relu(a[k]) if k < 2 else a[k])
y_hat = np.exp(a[2] - a[2].max()) / np.sum(np.exp(a[2] - a[2].max()))

# Backward: the recursion.
grad_W, grad_b = [None] * 3, [None] * 3
grad_a = -(np.eye(3)[target] - y_hat)  # ∇a_K = -(e_ℓ - ŷ)
for k in reversed(range(3)):
    grad_W[k] = np.outer(grad_a, h[k])  # ∇W_k = ∇a_k h_{k-1}ᵀ
    grad_b[k] = grad_a
    if k > 0:
        grad_h = W[k].T @ grad_a  # ∇h_{k-1} = W_kᵀ ∇a_k
        grad_a = grad_h * (a[k - 1] > 0)  # ∇a_{k-1} = ∇h_{k-1} ⊙ g'(a_{k-1})

worst = 0.0
for k, layer in enumerate(point_model.layers):
    error = max(
        np.max(np.abs(grad_W[k] - weights(layer, "grad").T)),
        np.max(np.abs(grad_b[k] - biases(layer, "grad"))),
    )
    worst = max(worst, error)
    print(f"layer {k + 1}: ∇W {grad_W[k].shape}, ∇b {grad_b[k].shape}, max error {error:.1e}")
assert worst < 1e-12

# %% [markdown]
# ## The whole chain for a first-layer weight
#
# Unrolled, the recursion is one long chain rule. For a weight of the first layer
# (row convention, one point, so every $A_k$ and $Z_k$ is a row vector):
#
# $$\frac{\partial L}{\partial W_1} = \frac{\partial L}{\partial A_2}\,
#   \frac{\partial A_2}{\partial Z_2}\,\frac{\partial Z_2}{\partial A_1}\,
#   \frac{\partial A_1}{\partial Z_1}\,\frac{\partial Z_1}{\partial W_1},$$
#
# where the middle factors are Jacobian *matrices*:
# $\partial A_2/\partial Z_2 = \operatorname{diag}(\mathbb{1}[Z_2 > 0])$,
# $\partial Z_2/\partial A_1 = W_2^\top$ and
# $\partial A_1/\partial Z_1 = \operatorname{diag}(\mathbb{1}[Z_1 > 0])$; and
# $\partial Z_1/\partial (W_1)_{ij} = x_i\,e_j$. The engine's `jacobian` computes such a
# matrix for any function of Values, for instance the second layer as a function of
# its input $A_1$:

# %%
Z1 = x @ W1 + b1
A1 = relu(Z1)
Z2 = A1 @ W2 + b2
dA2_dZ2, dZ2_dA1, dA1_dZ1 = np.diag(1.0 * (Z2 > 0)), W2.T, np.diag(1.0 * (Z1 > 0))

layer_2 = np.array(jacobian(model.layers[1], list(A1)))  # ∂A2/∂A1, 4 × 5
error = np.max(np.abs(layer_2 - dA2_dZ2 @ dZ2_dA1))
print(f"∂A2/∂A1 {layer_2.shape}: max |engine - diag(1[Z2 > 0]) W2ᵀ| = {error:.1e}")
assert error < 1e-12

dL_dA2 = (y_hat - np.eye(3)[target]) @ W3.T  # ∂L/∂Z3 · ∂Z3/∂A2, a row of 4
dL_dZ1 = dL_dA2 @ dA2_dZ2 @ dZ2_dA1 @ dA1_dZ1  # a row of 5
dL_dW1 = np.outer(x, dL_dZ1)  # entry (i, j) is dL/dZ1_j · x_i
error = np.max(np.abs(dL_dW1 - weights(point_model.layers[0], "grad")))
print(f"∂L/∂W1 {dL_dW1.shape} as a product of Jacobians: max error {error:.1e}")
assert error < 1e-12

# %% [markdown]
# Notice the order of evaluation: we multiplied *from the left*, starting with the
# row vector $\partial L/\partial A_2$, so every intermediate result was a vector, and
# no two Jacobian matrices were ever multiplied together. That is the whole idea of
# reverse mode: one scalar loss, so carry a *row* of gradients backwards. Each step
# of the recursion above is one of these vector-times-Jacobian products.
#
# ## The graph of the network
#
# The scalar graph of even this tiny network has hundreds of nodes. Drawn with
# `collapse=True`, each neuron becomes one box (its parameters, its number of
# operations, its output and the output's gradient), and the parallel edges between
# layers are merged. The softmax cross-entropy at the end stays drawn in full.
# `rankdir="TB"` draws it top to bottom, one row per layer (neurons in order), so
# it fits the width of a laptop screen.

# %%
inputs = [Value(v, label=f"x{i}") for i, v in enumerate(x)]
L_point = nn.softmax_cross_entropy(point_model(inputs), target)
L_point.label = "L"
point_model.zero_grad()
L_point.backward()
viz.draw_dot(L_point, collapse=True, rankdir="TB")

# %% [markdown]
# The player of the same picture steps through backward one neuron at a time: each
# step shows the gradient arriving at the neuron's output, its parameters' gradients,
# and what it sends back to the layer before (a sum being built at every fork).

# %%
viz.player(L_point, collapse=True, rankdir="TB")

# %% [markdown]
# ## Training on spirals
#
# Three short spiral arms (0.6 of a turn each), 50 points each, curled around each
# other: no line separates any two of them. We train a bigger network of the same
# shape, `MLP(2, [16, 16, 3])`,
# with `nn.train.fit`, which repeats what we did above on the whole data set:
# build the mean loss, `backward`, and let the optimizer (Adam) update every
# parameter from its `.grad`.

# %%
X, y = data.make_spirals(150, classes=3, noise=0.05, seed=0, turns=0.6)
model = nn.MLP(2, [16, 16, 3], seed=0)
history = train.fit(
    model, X, y, optimizer=optim.Adam(model.parameters(), lr=0.05), epochs=40, progress=False
)
print(f"loss {history.loss[0]:.3f} -> {history.loss[-1]:.3f}, accuracy {history.accuracy[-1]:.2f}")
assert history.loss[-1] < 0.1

# %% [markdown]
# To colour the plane by predicted class we need the network at thousands of points.
# The matrix forward pass we checked above does that in one go; on the training
# points it must agree with the engine's predictions.

# %%
W1, W2, W3 = (weights(layer) for layer in model.layers)
b1, b2, b3 = (biases(layer) for layer in model.layers)


def predict(P):
    """The class of each row of P, by the matrix forward pass."""
    return np.argmax(relu(relu(P @ W1 + b1) @ W2 + b2) @ W3 + b3, axis=1)


accuracy = metrics.accuracy(predict(X), y)
assert np.array_equal(predict(X), train.predict(model, X))
assert accuracy >= 0.97

x0, x1 = np.meshgrid(np.linspace(-1.2, 1.2, 241), np.linspace(-1.2, 1.2, 241))
classes = predict(np.column_stack([x0.ravel(), x1.ravel()])).reshape(x0.shape)

fig, (ax_loss, ax_data) = plt.subplots(1, 2)
ax_loss.plot(history.loss)
ax_loss.set(xlabel="epoch", ylabel="mean loss", title="training loss", yscale="log")
ax_data.contourf(x0, x1, classes, levels=[-0.5, 0.5, 1.5, 2.5], cmap="viridis", alpha=0.3)
ax_data.scatter(X[:, 0], X[:, 1], c=y, cmap="viridis", s=14, edgecolors="k", linewidths=0.3)
ax_data.set_aspect("equal")
ax_data.set_title(f"decision regions (accuracy {accuracy:.2f})")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## What we have
#
# - Backward through a layer $Z = AW + b$: $dW = A^\top dZ$, $db = \sum_{\text{rows}} dZ$,
#   $dA = dZ\,W^\top$; through a ReLU: $dZ = dA \odot \mathbb{1}[Z > 0]$; at the top:
#   $dZ_3 = (\hat Y - Y)/n$.
# - The same recursion with points as columns transposes every matrix:
#   $\nabla_{W_k} L = \nabla_{a_k} L\, h_{k-1}^\top$ and
#   $\nabla_{h_{k-1}} L = W_k^\top \nabla_{a_k} L$.
# - It is the chain rule's product of Jacobians, evaluated from the left, one
#   vector at a time; the scalar engine does the same, one number at a time.
#
# Lesson 5 asks the engine for something backpropagation alone cannot give:
# derivatives of derivatives.
