# %% [markdown]
# # 8. A network learns
#
# Lesson 4 checked every gradient of a small network against the engine, as matrices.
# This lesson *watches* one learn. `viz.network` draws the network as TensorFlow
# Playground does (each neuron a small heatmap of its output over the plane, each
# weight a line coloured by its sign and as thick as it is large), plays the training
# as a film, and then does what the Playground never does: it runs backprop through
# the network for one training point, **one layer at a time**, writing each step as the
# matrix equation of [§4.2 of docs/derivations.md](../docs/derivations.md#layer-recursion)
# with that point's numbers. Every number on it comes from the scalar engine's
# `backward`.

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

import nn
import viz
from nn import data
from viz.network_data import neuron_graph

# %% [markdown]
# ## Train, and keep the film
#
# `fit(..., record=k)` keeps a snapshot of the parameters every k-th epoch (and
# before training, and after the last epoch) in `history.snapshots`, as
# `(epoch, params)` with the parameters in `model.parameters()` order.

# %%
X, y = data.make_spirals(300, seed=0)
model = nn.MLP(2, [8, 8, 3], seed=0)
history = nn.train.fit(
    model,
    X,
    y,
    optimizer=nn.optim.Adam(model.parameters(), lr=0.02),
    epochs=120,
    batch_size=32,
    progress=False,
    compile=True,
    record=10,
)
print([epoch for epoch, _ in history.snapshots])
print(f"loss {history.loss[0]:.3f} in the first epoch, {history.loss[-1]:.3f} in the last")
assert [e for e, _ in history.snapshots] == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]
assert history.snapshots[-1][1] == [p.data for p in model.parameters()]
assert history.loss[-1] < history.loss[0] / 2

# %% [markdown]
# ## The view
#
# Scrub the **epoch** slider (or PageUp/PageDown) to play the film: the weights,
# the heatmaps, the decision regions and the gradient-health table follow, and the
# current epoch is marked on the loss curve. Then press **→**: the forward pass fills
# the layers with the training point's activations, and the backward pass sends
# δ = ∂L/∂z back, the output layer first. The point is the one the trained network
# gets most wrong (the largest loss), circled on the regions.
#
# (In a notebook the view runs when the notebook is trusted; `view.save("network.html")`
# writes it as a page of its own.)

# %%
view = viz.network(model, X, y, history=history, players="none")
sample = view.data["sample"]
last = view.data["snapshots"][-1]["sample"]
print(f"training point {sample['index']}, class {sample['y']}: loss {last['loss']:.4f}")
display(view)

# %% [markdown]
# The page did not pick that point with a formula of its own: the loss shown is the
# engine's, on a graph of Values. Check it, and that no training point has a larger
# loss:

# %%
params = [p.data for p in model.parameters()]
losses = [nn.softmax_cross_entropy(model(list(x)), int(t)).data for x, t in zip(X, y)]
assert sample["index"] == int(np.argmax(losses))
assert last["loss"] == losses[sample["index"]]

# %% [markdown]
# ## Backprop layer by layer, in NumPy
#
# §4.2 writes the backward pass for one point, with $a_k$ the pre-activations
# (the view calls them $z$) and $h_k = g(a_k)$:
#
# $$\nabla_{a_K} L = \hat y - e_\ell, \qquad
# \nabla_{W_k} L = (\nabla_{a_k} L)\, h_{k-1}^\top, \qquad
# \nabla_{h_{k-1}} L = W_k^\top \nabla_{a_k} L, \qquad
# \nabla_{a_{k-1}} L = \nabla_{h_{k-1}} L \odot g'(a_{k-1}).$$
#
# We write it with NumPy arrays, from the trained weights, and compare every vector
# with the numbers the view shows (which are the engine's `.grad`s).

# %%
Ws = [np.array([[w.data for w in n.w] for n in layer.neurons]) for layer in model.layers]
bs = [np.array([n.b.data for n in layer.neurons]) for layer in model.layers]
x, label = X[sample["index"]], sample["y"]

h, pre = [x], []  # forward: h_0 = x, a_k = W_k h_{k-1} + b_k, h_k = relu(a_k)
for k, (W, b) in enumerate(zip(Ws, bs)):
    pre.append(W @ h[-1] + b)
    h.append(pre[-1] if k == len(Ws) - 1 else np.maximum(pre[-1], 0.0))
y_hat = np.exp(pre[-1] - pre[-1].max())
y_hat /= y_hat.sum()

deltas = [None] * len(Ws)  # backward: the output layer first
deltas[-1] = y_hat - np.eye(3)[label]
for k in range(len(Ws) - 1, 0, -1):
    grad_h = Ws[k].T @ deltas[k]
    deltas[k - 1] = grad_h * (pre[k - 1] > 0)  # relu'(a) = 1 where a > 0, else 0
grad_W = [np.outer(d, hk) for d, hk in zip(deltas, h)]

for k in range(len(Ws)):
    name = model.layers[k].name
    print(f"δ({name}) = {np.array2string(deltas[k], precision=4)}")
    assert np.allclose(deltas[k], last["delta"][k], rtol=1e-12, atol=1e-15)
    assert np.allclose(h[k + 1] if k < len(Ws) - 1 else pre[k], last["out"][k + 1], atol=1e-13)

# every weight's gradient: the view keeps them in model.parameters() order
engine = {label: g for label, g in zip(view.data["params"], last["grad"])}
for k, layer in enumerate(model.layers):
    for i, n in enumerate(layer.neurons):
        for j, w in enumerate(n.w):
            assert abs(engine[w.label] - grad_W[k][i, j]) <= 1e-12 * (1 + abs(grad_W[k][i, j]))
        assert abs(engine[n.b.label] - deltas[k][i]) <= 1e-12
print("§4.2 in NumPy gives every δ and every ∂L/∂w of the view")

# %% [markdown]
# The recursion is *the same chain rule* the engine applies one scalar at a time.
# Clicking a neuron in the view shows that neuron's own graph for this point in the
# step-through player (here with `players="none"`, to keep the notebook small; the
# page `autograd-lite demo` writes has them). Here is the busiest neuron of the first
# hidden layer: its weights' gradients are exactly the matrix formula's
# $\delta_i \, x_j$.

# %%
busiest = int(np.argmax(np.abs(deltas[0])))
label0 = model.layers[0].neurons[busiest].name
root = neuron_graph(view.builder, label0, params, sample["index"])
print(f"{label0}: δ = {deltas[0][busiest]:.6g}, x = {x}")
viz.draw_dot(root)

# %% [markdown]
# and step through it (the root multiplies the neuron's output by the constant
# ∂L/∂h that the layers above sent back, so `backward` from it gives ∂L/∂w):

# %%
viz.player(root)

# %% [markdown]
# ## The film: gradient health
#
# For each recorded epoch and each layer the view measures the mean |∂L/∂W| over the
# training set, the fraction of dead ReLUs (0 on every training point), and the
# update-to-weight ratio ‖ΔW‖/‖W‖ since the previous snapshot. A layer crossing one
# of the thresholds in the legend is flagged.

# %%
for frame in view.data["snapshots"][::3]:
    row = ", ".join(
        f"{name}: |∂L/∂W| {h['grad']:.2g}, dead {h['dead'] if h['dead'] is not None else '—'}"
        for name, h in frame["health"].items()
    )
    print(f"epoch {frame['epoch']:>3}: {row}")
epochs = [frame["epoch"] for frame in view.data["snapshots"]]
fig, ax = plt.subplots()
for layer in model.layers:
    ax.plot(
        epochs,
        [f["health"][layer.name]["grad"] for f in view.data["snapshots"]],
        marker="o",
        label=layer.name,
    )
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("mean |∂L/∂W| over the training set")
ax.legend()
plt.show()
first, final = view.data["snapshots"][0]["health"], view.data["snapshots"][-1]["health"]
assert first["L0"]["update_ratio"] is None and final["L0"]["update_ratio"] > 0

# %% [markdown]
# ## Exercise: predict a hidden layer's δ
#
# In the view, step to the backward pass of the output layer (the last column): the
# panel shows $\delta$ of the output layer. Predict $\delta$ of the layer before it,
# **L1**, by hand (or with a few lines of NumPy) from $W_{L2}$, $\delta_{L2}$ and
# whether each L1 neuron is active ($z > 0$), then step once more and compare with
# the panel. Write your prediction below as a list of 8 numbers and run the cell.


# %%
def check_delta(answer):
    """OK when ``answer`` is δ(L1) of the view's point within 1e-3, else WRONG (or NOT YET)."""
    if answer is None:
        return "NOT YET"
    right = np.asarray(last["delta"][1])
    answer = np.asarray(answer, dtype=float)
    if answer.shape != right.shape:
        return f"WRONG: δ(L1) has {len(right)} entries, not {answer.size}"
    worst = np.max(np.abs(answer - right))
    return "OK" if worst <= 1e-3 else f"WRONG: off by up to {worst:.3g}"


my_delta_L1 = None  # your prediction: [..., ..., ...] (8 numbers)
print(check_delta(my_delta_L1))
assert check_delta(None) == "NOT YET"
assert check_delta(np.zeros(8)).startswith("WRONG") or not np.any(last["delta"][1])

# %% [markdown]
# ## Watch it live
#
# `viz.live(model, X, y)` is the same view, following a model *while* `fit` trains
# it: pass it as `fit`'s `callback` and it redraws after each epoch (at most ten
# times a second; the last epoch always). In JupyterLab, Notebook 7 and VS Code it is
# a widget (the `lab` extra installs anywidget); elsewhere one picture, replaced in
# place. For knobs and a play button, run `autograd-lite playground` in a terminal:
# the same view in the browser, with every setting of this lesson as a control.

# %%
live_model = nn.MLP(2, [8, 8, 3], seed=1)
live = viz.live(live_model, X, y)
display(live)
live_history = nn.train.fit(
    live_model,
    X,
    y,
    optimizer=nn.optim.Adam(live_model.parameters(), lr=0.02),
    epochs=60,
    batch_size=32,
    progress=False,
    compile=True,
    callback=live,
)
live.flush()  # draw the last epoch now (it would be drawn within 0.1 s anyway)
print(f"the view shows epoch {live.epoch}, loss {live_history.loss[-1]:.3f}")
assert live.epoch == 60
assert live.data["snapshots"][0]["params"] == [p.data for p in live_model.parameters()]
assert live.data["curves"]["loss"] == live_history.loss
