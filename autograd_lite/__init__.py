"""autograd-lite: scalar reverse-mode automatic differentiation, small enough to read.

>>> from autograd_lite import Value
>>> x = Value(2.0, label="x")
>>> y = x * x + x.exp()
>>> y.backward()
>>> round(x.grad, 4)  # d/dx (x² + e^x) = 2x + e^x
11.3891
"""

from .checks import GradcheckError, gradcheck, hessian, jacobian, numerical_jacobian
from .compiled import compile
from .derivative import DerivativeReport, Failure, check_derivative
from .explanation import explain
from .functions import abs, cos, exp, log, maximum, relu, sigmoid, sin, sqrt, tanh
from .grad import grad
from .ops import OPS, Op
from .value import Value, detect_anomaly, no_grad, topological_order

__all__ = [
    "OPS",
    "DerivativeReport",
    "Failure",
    "GradcheckError",
    "Op",
    "Value",
    "abs",
    "check_derivative",
    "compile",
    "cos",
    "detect_anomaly",
    "exp",
    "explain",
    "grad",
    "gradcheck",
    "hessian",
    "jacobian",
    "log",
    "maximum",
    "no_grad",
    "numerical_jacobian",
    "relu",
    "sigmoid",
    "sin",
    "sqrt",
    "tanh",
    "topological_order",
]
__version__ = "0.1.0"
