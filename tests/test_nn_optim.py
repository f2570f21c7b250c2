"""nn.optim.SGD, Adam and AdamW against torch.optim, step for step."""

import pytest

import nn
from autograd_lite import Value

START = [-1.2, 1.0, 0.5]


def f(x, y, w):
    """Rosenbrock plus a coupling: the same code runs on Values and on tensors."""
    return (1 - x) ** 2 + 5 * (y - x * x) ** 2 + 0.3 * x * w + w * w * w * w * 0.1


CONFIGS = [
    ("SGD", {"lr": 0.01}),
    ("SGD", {"lr": 0.01, "momentum": 0.9}),
    ("SGD", {"lr": 0.01, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.005, "momentum": 0.8, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.01}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.5}),
    ("AdamW", {"lr": 0.02, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.0}),
]


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS)
def test_matches_torch_step_for_step(name, kwargs):
    torch = pytest.importorskip("torch")
    ours = [Value(v) for v in START]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in START]
    opt = getattr(nn.optim, name)(ours, **kwargs)
    torch_opt = getattr(torch.optim, name)(theirs, **kwargs)
    for _ in range(12):
        opt.zero_grad()
        f(*ours).backward()
        opt.step()
        torch_opt.zero_grad()
        f(*theirs).backward()
        torch_opt.step()
        for p, t in zip(ours, theirs):
            assert p.data == pytest.approx(t.item(), rel=1e-12, abs=1e-14)


def test_sgd_update_rule_by_hand():
    p = Value(2.0)
    opt = nn.optim.SGD([p], lr=0.1, momentum=0.5, weight_decay=0.25)
    p.grad = 1.0
    opt.step()  # g = 1 + 0.25·2 = 1.5; v = 1.5; p = 2 − 0.15
    assert p.data == pytest.approx(1.85)
    opt.step()  # g = 1 + 0.25·1.85 = 1.4625; v = 0.5·1.5 + 1.4625 = 2.2125
    assert p.data == pytest.approx(1.85 - 0.22125)


def test_adam_first_step_moves_by_lr():
    p = Value(1.0)
    opt = nn.optim.Adam([p], lr=0.1)
    p.grad = 123.0
    opt.step()  # bias-corrected m/√v = sign(g) at step 1
    assert p.data == pytest.approx(0.9, abs=1e-9)


def test_adamw_decays_the_parameter_not_the_gradient():
    p, q = Value(2.0), Value(2.0)
    decoupled = nn.optim.AdamW([p], lr=0.1, weight_decay=0.5)
    coupled = nn.optim.Adam([q], lr=0.1, weight_decay=0.5)
    p.grad = q.grad = 123.0
    decoupled.step()  # θ·(1 − 0.1·0.5) = 1.9, then Adam's first step: −lr·sign(g)
    coupled.step()  # g + λθ = 124 enters m/√v: the decay vanishes in the normalisation
    assert p.data == pytest.approx(1.8, abs=1e-9)
    assert q.data == pytest.approx(1.9, abs=1e-9)
    assert nn.optim.AdamW([Value(1.0)]).weight_decay == 0.01  # torch's default


def test_zero_grad_and_parameters_from_a_generator():
    model = nn.MLP(2, [3, 1], seed=0)
    opt = nn.optim.SGD((p for p in model.parameters()), lr=0.1)
    model([1.0, 1.0]).backward()
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


@pytest.mark.parametrize(
    "make",
    [
        lambda p: nn.optim.SGD([], lr=0.1),
        lambda p: nn.optim.SGD([p], lr=-0.1),
        lambda p: nn.optim.SGD([p], lr=0.1, momentum=-1),
        lambda p: nn.optim.Adam([p], betas=(1.0, 0.9)),
        lambda p: nn.optim.Adam([p], eps=float("nan")),
    ],
)
def test_bad_arguments(make):
    with pytest.raises(ValueError):
        make(Value(1.0))


def test_non_values_are_rejected():
    with pytest.raises(TypeError, match="Values"):
        nn.optim.Adam([1.0])
