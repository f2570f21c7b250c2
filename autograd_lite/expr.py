"""Safe arithmetic expressions as Value graphs: ``parse_expression("tanh(x*w + b)", env)``.

The text is parsed with Python's own parser (``ast.parse(mode="eval")``) and
the tree is walked against a whitelist; nothing is ever evaluated by Python
(no ``eval``, no ``compile``). Allowed:

- numbers (``2``, ``0.5``, ``1e-3``) and names bound in ``env``;
- ``+ - * / **``, unary ``-`` and ``+``, parentheses;
- calls ``exp(x)``, ``log(x)``, ``tanh(x)``, ``sigmoid(x)``, ``relu(x)``
  and ``max(a, b)``.

Anything else (attributes, subscripts, strings, lambdas, other calls, keyword
arguments, comparisons, ...) and anything too big (see the ``MAX_*`` limits)
raises :class:`ExpressionError`, as do unbound names and errors of the engine
while computing (``log(-1)``, division by zero, overflow). All arithmetic is
done on Values, in floats, so ``9**9**9**9`` overflows at once instead of
building a huge integer.

Each name becomes one leaf Value labelled with the name (``x*x`` uses the same
``x`` twice); each number becomes an unlabelled constant. An exponent written
as a number (``x**2``, ``x**-0.5``) is a constant power (op ``pow``); any
other exponent (``2**x``) makes op ``powv``, which needs a positive base.
"""

from __future__ import annotations

import ast
import keyword
import math
from collections.abc import Callable, Iterable, Mapping

from .value import Value, _constant, detect_anomaly

MAX_LENGTH = 1000  # characters
MAX_NESTING = 50  # parentheses open at once
MAX_DEPTH = 100  # levels of the syntax tree (a + b + c + ... counts one per +)
MAX_NODES = 300  # numbers, names and operations

FUNCTIONS: dict[str, tuple[int, Callable[..., Value]]] = {
    "exp": (1, Value.exp),
    "log": (1, Value.log),
    "tanh": (1, Value.tanh),
    "sigmoid": (1, Value.sigmoid),
    "relu": (1, Value.relu),
    "max": (2, Value.max),
    "abs": (1, Value.abs),
    "sin": (1, Value.sin),
    "cos": (1, Value.cos),
    "sqrt": (1, Value.sqrt),
}
_BINARY: dict[type[ast.operator], Callable[[Value, Value], Value]] = {
    ast.Add: Value.__add__,
    ast.Sub: Value.__sub__,
    ast.Mult: Value.__mul__,
    ast.Div: Value.__truediv__,
}
_OPERATOR_TEXT = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Invert: "~",
    ast.Not: "not",
}
# What to call the constructs that are refused, for the error message.
_REFUSED = {
    ast.Attribute: "attribute access (a.b) is not allowed",
    ast.Subscript: "subscripts (a[i]) are not allowed",
    ast.Slice: "slices are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and' and 'or' are not allowed",
    ast.IfExp: "conditional expressions (a if c else b) are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed (a comma outside a call?)",
    ast.Set: "sets are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Starred: "starred arguments (*a) are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}


class ExpressionError(ValueError):
    """The expression, or a NAME=VALUE binding, is refused or cannot be computed."""


def parse_bindings(pairs: Iterable[str]) -> dict[str, float]:
    """``["x=0.5", "w=-3"]`` -> ``{"x": 0.5, "w": -3.0}``; the values must be finite numbers."""
    env: dict[str, float] = {}
    for pair in pairs:
        name, eq, text = pair.partition("=")
        name = name.strip()
        if not eq:
            raise ExpressionError(f"expected NAME=VALUE, got {_clip(pair)!r}")
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ExpressionError(f"{_clip(name)!r} is not a valid name (in {_clip(pair)!r})")
        if name in FUNCTIONS:
            raise ExpressionError(f"{name!r} is a function, it cannot be given a value")
        if name in env:
            raise ExpressionError(f"{name} is given twice")
        try:
            value = float(text)
        except ValueError:
            raise ExpressionError(f"the value of {name} is not a number: {_clip(text)!r}") from None
        if not math.isfinite(value):
            raise ExpressionError(f"the value of {name} must be finite, got {_clip(text)!r}")
        env[name] = value
    return env


def parse_expression(text: str, env: Mapping[str, float]) -> Value:
    """Build the Value graph of ``text`` with the names bound by ``env`` (no backward yet).

    Raises ExpressionError for anything refused (see the module docstring).
    """
    tree = check_expression(text)
    unbound = [name for name in _names(tree) if name not in env]
    for name in unbound:
        if name in FUNCTIONS:
            raise ExpressionError(f"{name} is a function: call it, as in {name}(x)")
    if unbound:
        listed = ", ".join(repr(name) for name in unbound)
        example = " ".join(f"{name}=1.0" for name in unbound)
        noun = "name" if len(unbound) == 1 else "names"
        raise ExpressionError(f"unbound {noun} {listed}: give a value, e.g. {example}")
    leaves = {name: Value(float(value), label=name) for name, value in env.items()}
    with detect_anomaly():  # a NaN or an infinity anywhere is an error, not a picture
        return _build(tree.body, leaves, text)


def check_expression(text: str) -> ast.Expression:
    """Parse ``text`` and check it against the whitelist and the size limits.

    Returns the syntax tree; raises ExpressionError naming what is wrong.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is too long ({len(text)} characters; the limit is {MAX_LENGTH})"
        )
    if not text.strip():
        raise ExpressionError("the expression is empty")
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    if deepest > MAX_NESTING:
        raise ExpressionError(
            f"the expression is nested too deeply ({deepest} open brackets; "
            f"the limit is {MAX_NESTING})"
        )
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        where = f" at column {e.offset}" if e.offset else ""
        raise ExpressionError(f"syntax error{where}: {e.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError("the expression cannot be parsed (too complex or invalid)") from None
    _check_tree(tree, text)
    return tree


def _check_tree(tree: ast.Expression, text: str) -> None:
    """Refuse every node outside the whitelist, and trees too deep or too big (iterative)."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression is nested too deeply (more than {MAX_DEPTH} levels)"
            )
        if count > MAX_NODES:
            raise ExpressionError(
                f"the expression is too big (more than {MAX_NODES} numbers, names and operations)"
            )
        stack.extend((child, depth + 1) for child in _children(node, text))


def _children(node: ast.AST, text: str) -> list[ast.expr]:
    """The operands of an allowed node; ExpressionError for a node that is not allowed."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise ExpressionError(f"{value!r} is not a number")
        if isinstance(value, (str, bytes)):
            raise ExpressionError("strings are not allowed")
        if isinstance(value, complex):
            raise ExpressionError("complex numbers are not allowed")
        if not isinstance(value, (int, float)):
            raise ExpressionError(f"the constant {_clip(repr(value))} is not allowed")
        try:
            finite = math.isfinite(float(value))
        except OverflowError:
            finite = False
        if not finite:
            number = _source(node, text)
            raise ExpressionError(f"the number {number} is too large for a float")
        return []
    if isinstance(node, ast.Name):
        return []
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY and not isinstance(node.op, ast.Pow):
            raise ExpressionError(_operator_refused(node.op))
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ExpressionError(_operator_refused(node.op))
        return [node.operand]
    if isinstance(node, ast.Call):
        return _call_arguments(node)
    for kind, message in _REFUSED.items():
        if isinstance(node, kind):
            raise ExpressionError(message)
    raise ExpressionError(f"{type(node).__name__} expressions are not allowed")


def _call_arguments(node: ast.Call) -> list[ast.expr]:
    allowed = ", ".join(FUNCTIONS)
    if not isinstance(node.func, ast.Name):
        raise ExpressionError(f"only calls of these functions are allowed: {allowed}")
    name = node.func.id
    if name not in FUNCTIONS:
        raise ExpressionError(
            f"calling {_clip(name)!r} is not allowed; the functions are: {allowed}"
        )
    if node.keywords:
        raise ExpressionError(f"keyword arguments are not allowed (in the call of {name})")
    if any(isinstance(arg, ast.Starred) for arg in node.args):
        raise ExpressionError(f"starred arguments (*a) are not allowed (in the call of {name})")
    arity = FUNCTIONS[name][0]
    if len(node.args) != arity:
        plural = "argument" if arity == 1 else "arguments"
        raise ExpressionError(f"{name} takes {arity} {plural}, got {len(node.args)}")
    return list(node.args)


def _operator_refused(op: ast.AST) -> str:
    text = _OPERATOR_TEXT.get(type(op), type(op).__name__)
    return f"the operator {text!r} is not allowed; use + - * / ** and parentheses"


def _names(tree: ast.Expression) -> list[str]:
    """Names used as variables (not as called functions), in order of first use."""
    found: dict[str, None] = {}
    stack: list[ast.AST] = [tree.body]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            found[node.id] = None
        elif isinstance(node, ast.Call):
            stack.extend(reversed(node.args))
        else:
            stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return list(found)


def _number(node: ast.expr) -> float | None:
    """The value of a literal number, optionally signed (``2``, ``-0.5``), else None."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant):
        return sign * float(node.value)
    return None


def _build(node: ast.expr, leaves: dict[str, Value], text: str) -> Value:
    """The Value of a checked tree (recursive; the depth is at most MAX_DEPTH)."""
    number = _number(node)
    if number is not None:
        return _constant(number)
    if isinstance(node, ast.Name):
        return leaves[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _build(node.operand, leaves, text)
        return _apply(node, text, lambda: -operand if isinstance(node.op, ast.USub) else operand)
    if isinstance(node, ast.BinOp):
        left = _build(node.left, leaves, text)
        if isinstance(node.op, ast.Pow):
            exponent = _number(node.right)
            if exponent is not None:  # a constant power: x ** 2.0 (op pow)
                return _apply(node, text, lambda: left**exponent)
            right = _build(node.right, leaves, text)
            return _apply(node, text, lambda: left**right)
        right = _build(node.right, leaves, text)
        return _apply(node, text, lambda: _BINARY[type(node.op)](left, right))
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise ExpressionError(f"{type(node).__name__} expressions are not allowed")  # unreachable
    _, function = FUNCTIONS[node.func.id]
    args = [_build(arg, leaves, text) for arg in node.args]
    return _apply(node, text, lambda: function(*args))


def _apply(node: ast.expr, text: str, compute: Callable[[], Value]) -> Value:
    """Run one operation; an engine error becomes an ExpressionError naming the subexpression."""
    try:
        return compute()
    except (ArithmeticError, ValueError) as e:
        raise ExpressionError(f"cannot compute {_source(node, text)}: {e}") from None


def _source(node: ast.expr, text: str) -> str:
    """The text of ``node`` as the user wrote it (shortened if long)."""
    segment = ast.get_source_segment(text, node) or ast.unparse(node)
    return _clip(" ".join(segment.split()))


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
