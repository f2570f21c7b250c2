# %% [markdown]
# # 5. Gradients of gradients
#
# Backpropagation gives first derivatives: one number per input, stored in `.grad`.
# Some questions need more. How fast does the slope change (the curvature)? Where
# does a step of Newton's method land? Those need second derivatives, and a
# second derivative is the derivative of a derivative.
#
# In micrograd, and in our engine's `backward()`, a gradient is a plain float:
# there is nothing left to differentiate. This lesson uses the other entry point,
# `grad(output, inputs, create_graph=True)`, which returns each derivative as a
# `Value` with a graph of its own, so we can differentiate it again, as often as
# we like.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np

import viz
from autograd_lite import Value, grad, hessian

plt.rcParams.update({"figure.dpi": 80, "figure.figsize": (9, 3.5)})

# %% [markdown]
# ## Why a float is a dead end
#
# After `backward()`, `x.grad` is just a number. It remembers nothing about how it
# was computed, so asking how it changes with `x` has no answer:

# %%
x = Value(2.0, label="x")
y = x**3
y.backward()
print(f"x.grad = {x.grad!r} ({type(x.grad).__name__})")

# %% [markdown]
# ## Derivatives as Values
#
# Recall the op table of lesson 1: each rule computes the local derivatives with
# ordinary arithmetic, such as `k * x ** (k - 1)` for a power or `1 - out * out` for
# tanh. Given floats, a rule returns floats, and that is what `backward` uses. Given
# *Values*, the very same line builds new nodes. So `grad(y, [x], create_graph=True)`
# runs the backward pass with Values instead of floats, and the derivative it
# returns is itself the output of a graph, ready to be differentiated again.
#
# For $y = x^3$: $y' = 3x^2$, $y'' = 6x$, $y''' = 6$, and then $0$.

# %%
x = Value(2.0, label="x")
y = x**3
(d1,) = grad(y, [x], create_graph=True)
(d2,) = grad(d1, [x], create_graph=True)
(d3,) = grad(d2, [x], create_graph=True)
(d4,) = grad(d3, [x])
print(f"y' = {d1.data} (3x² = {3 * 2.0**2}), a Value made by op {d1.op!r}")
print(f"y'' = {d2.data} (6x = {6 * 2.0}),  y''' = {d3.data},  y'''' = {d4.data}")
assert (d1.data, d2.data, d3.data, d4.data) == (12.0, 12.0, 6.0, 0.0)  # exact in floats

# %% [markdown]
# Here is the graph of the derivative of $\tanh$ at $x = 0.5$. It contains the
# forward computation $\tanh(x)$, because the rule $1 - \tanh^2 x$ reuses the
# output, and then the arithmetic of the rule itself (the last `*` multiplies by
# the gradient arriving from above, which is $1$ at the output). Differentiating
# *this* graph gives the second derivative.

# %%
x = Value(0.5, label="x")
t = x.tanh()
t.label = "tanh(x)"
(dt,) = grad(t, [x], create_graph=True)
dt.label = "d tanh/dx"
viz.draw_dot(dt, show_grad=False)

# %% [markdown]
# The player runs `backward` through *this* graph: the gradient it brings back to
# `x` is the second derivative, $-2\tanh x\,(1 - \tanh^2 x)$.

# %%
viz.player(dt)

# %% [markdown]
# ## Second derivatives of the activations
#
# Differentiating the first derivatives of lesson 1 once more:
#
# $$\tanh'' x = -2 \tanh x\,\bigl(1 - \tanh^2 x\bigr), \qquad
#   \sigma''(x) = \sigma(x)\bigl(1 - \sigma(x)\bigr)\bigl(1 - 2\sigma(x)\bigr).$$
#
# (Apply the chain rule to $1 - t^2$ with $t' = 1 - t^2$, and to $s(1 - s)$ with
# $s' = s(1 - s)$.) The engine must agree at every point of a grid.


# %%
def derivatives(f, x, order):
    """[f(x), f'(x), ..., f^(order)(x)] by repeated grad(..., create_graph=True)."""
    v = Value(x)
    out = [f(v)]
    for _ in range(order):
        (d,) = grad(out[-1], [v], create_graph=True)
        out.append(d)
    return [o.data for o in out]


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


xs = np.linspace(-4, 4, 81)
closed = {
    "tanh": [np.tanh(xs), 1 - np.tanh(xs) ** 2, -2 * np.tanh(xs) * (1 - np.tanh(xs) ** 2)],
    "sigmoid": [
        sigmoid(xs),
        sigmoid(xs) * (1 - sigmoid(xs)),
        sigmoid(xs) * (1 - sigmoid(xs)) * (1 - 2 * sigmoid(xs)),
    ],
}
engine = {
    "tanh": np.array([derivatives(Value.tanh, x, 2) for x in xs]).T,
    "sigmoid": np.array([derivatives(Value.sigmoid, x, 2) for x in xs]).T,
}
for name in closed:
    error = np.max(np.abs(engine[name] - np.array(closed[name])))
    print(f"{name:8s} f, f', f'': max |engine - closed form| = {error:.1e}")
    assert error < 1e-12

fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for ax, name in zip(axes, closed):
    for k, label in enumerate(["f", "f'", "f''"]):
        ax.plot(xs, closed[name][k], color=f"C{k}", label=f"{label} closed form")
        ax.plot(xs[::5], engine[name][k][::5], ".", color=f"C{k}")
    ax.set_title(f"{name} and two derivatives (dots: engine)")
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## A Hessian
#
# For a function of several inputs, the second derivatives form the Hessian matrix
# $H_{ij} = \partial^2 f / \partial x_i \partial x_j$. Row $i$ is the gradient of
# the $i$-th first derivative, so it takes one `grad(..., create_graph=True)` and
# then one more `grad` per row. Our test function is Rosenbrock's valley,
#
# $$f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2,$$
#
# a curved, narrow valley with its minimum at $(1, 1)$, a classic trap for
# gradient descent. By hand:
#
# $$\nabla f = \begin{pmatrix} -2(1 - x) - 400\,x\,(y - x^2) \\ 200\,(y - x^2) \end{pmatrix},
# \qquad
# H = \begin{pmatrix} 2 - 400\,(y - x^2) + 800\,x^2 & -400\,x \\ -400\,x & 200 \end{pmatrix}.$$


# %%
def rosenbrock(v):
    x, y = v
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rosenbrock_hessian(x, y):
    return np.array([[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200.0]])


point = [-1.2, 1.0]
v = [Value(point[0], label="x"), Value(point[1], label="y")]
first = grad(rosenbrock(v), v, create_graph=True)  # two Values
H = np.array([[h.data for h in grad(g, v)] for g in first])  # one more grad per row
print("H (engine):\n", H)
error = np.max(np.abs(H - rosenbrock_hessian(*point)))
print(f"max |engine - closed form| = {error:.1e};  symmetric: {np.array_equal(H, H.T)}")
assert error < 1e-9  # entries are in the thousands
assert np.array_equal(H, np.array(hessian(rosenbrock, point)))  # the library's hessian

# %% [markdown]
# ## Newton's method
#
# Gradient descent steps along $-\nabla f$ with a step size we must choose. Newton's
# method fits a quadratic to $f$, using the Hessian for its curvature, and jumps
# straight to that quadratic's minimum:
#
# $$x \leftarrow x - H^{-1} \nabla f(x) .$$
#
# Near a minimum this converges *quadratically*: the number of correct digits
# roughly doubles with every step. In one dimension the step is $x - f'(x)/f''(x)$.
# Take $f(x) = e^x - 2x$, whose minimum is at $x^* = \log 2$:


# %%
def newton_1d(f, x, steps):
    path = [x]
    for _ in range(steps):
        v = Value(x)
        (d1,) = grad(f(v), [v], create_graph=True)
        (d2,) = grad(d1, [v])
        x = x - d1.data / d2.data
        path.append(x)
    return path


path = newton_1d(lambda v: v.exp() - 2 * v, 2.0, steps=6)
for k, x in enumerate(path):
    print(f"step {k}: x = {x:.16f}   |x - log 2| = {abs(x - math.log(2)):.1e}")
assert abs(path[-1] - math.log(2)) < 1e-15

# %% [markdown]
# Once close, the error goes $10^{-2}, 10^{-5}, 10^{-9}$, then $0$: the number of
# correct digits doubles with each step, which is quadratic convergence.
#
# Now Rosenbrock's valley in two dimensions, from the classic starting point
# $(-1.2, 1)$, against gradient descent with a step size small enough to be
# stable in the steep walls of the valley.


# %%
def newton(f, p, steps):
    path = [np.array(p)]
    for _ in range(steps):
        v = [Value(c) for c in path[-1]]
        g = np.array([d.data for d in grad(f(v), v)])
        H = np.array(hessian(f, list(path[-1])))
        path.append(path[-1] - np.linalg.solve(H, g))
    return np.array(path)


def gradient_descent(f, p, steps, lr):
    path = [np.array(p)]
    for _ in range(steps):
        v = [Value(c) for c in path[-1]]
        g = np.array([d.data for d in grad(f(v), v)])
        path.append(path[-1] - lr * g)
    return np.array(path)


newton_path = newton(rosenbrock, [-1.2, 1.0], steps=7)
descent_path = gradient_descent(rosenbrock, [-1.2, 1.0], steps=2000, lr=1e-3)
for k, p in enumerate(newton_path):
    print(f"Newton step {k}: ({p[0]: .6f}, {p[1]: .6f})   f = {rosenbrock(p):.2e}")
final = descent_path[-1]
print(
    f"gradient descent, 2000 steps: ({final[0]:.6f}, {final[1]:.6f})   f = {rosenbrock(final):.2e}"
)
assert np.max(np.abs(newton_path[-1] - 1.0)) < 1e-12
assert rosenbrock(final) > 1e-2  # still far from the minimum

# %% [markdown]
# Newton reaches $(1, 1)$ to machine precision in 7 steps, while 2000 steps of
# gradient descent are still crawling along the valley floor. Newton is not magic,
# though: its second step overshoots to $f \approx 1400$, far outside the valley,
# before the quadratic model becomes accurate and the steps lock on. (Practical
# versions add a line search or a trust region. Each step also needs the whole
# Hessian, $d^2$ numbers for $d$ parameters, which is why networks with millions of
# parameters are trained with first-order methods.)

# %%
gx, gy = np.meshgrid(np.linspace(-2, 2, 101), np.linspace(-3.5, 3.5, 101))
fig, ax = plt.subplots(figsize=(5, 4))
ax.contour(gx, gy, np.log10(rosenbrock([gx, gy]) + 1e-3), levels=12, cmap="Greys", linewidths=0.6)
ax.plot(descent_path[:, 0], descent_path[:, 1], color="C0", label="gradient descent (2000 steps)")
ax.plot(newton_path[:, 0], newton_path[:, 1], "o-", color="C3", ms=4, label="Newton (7 steps)")
ax.plot(1, 1, "*", color="k", ms=12, label="minimum (1, 1)")
ax.set(xlabel="x", ylabel="y", title="Rosenbrock's valley")
ax.legend(loc="upper left", fontsize=8)
plt.show()

# %% [markdown]
# ## What we have
#
# - `backward()` leaves floats; `grad(out, inputs, create_graph=True)` leaves Values,
#   whose graphs can be differentiated again, to any order.
# - This works because every derivative rule is written once, with arithmetic that
#   runs on floats and on Values alike.
# - Second derivatives give curvature: Hessians, and Newton's method, which converges
#   quadratically near a minimum.
#
# That completes the tour: the chain rule (lesson 1), one neuron (2), the softmax
# (3), a whole network (4), and derivatives of derivatives (5), each derivation
# checked against the engine.
