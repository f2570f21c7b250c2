"""``save`` and ``load``: a model as a JSON file (architecture + weights), no pickle.

The file is one JSON object::

    {"format": "autograd-lite.nn", "version": 1,
     "model": {"type": "MLP", "nin": 2, "nouts": [16, 1], "activation": "relu"},
     "parameters": {"L0.N0.w0": 0.61, ..., "L1.N0.b": 0.0}}

``parameters`` maps each parameter's label to its value, in ``parameters()``
order; floats are written with ``repr`` precision, so a round trip is exact.
``save`` writes a temporary file in the same directory and renames it over
the target (``os.replace``), so a reader never sees a half-written file and a
failed save leaves an existing file untouched. ``load`` checks everything and
raises ValueError saying what is wrong with a truncated, corrupt or foreign file.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import tempfile
from pathlib import Path
from typing import Any

from .module import MLP, Layer, Module, Neuron

FORMAT = "autograd-lite.nn"
VERSION = 1

# type name -> (class, required config keys and their check)
_INT = ("a positive integer", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1)
_STR = ("a string", lambda v: isinstance(v, str))
_SIZES = (
    "a non-empty list of positive integers",
    lambda v: isinstance(v, list) and bool(v) and all(_INT[1](n) for n in v),
)
_MODELS: dict[str, tuple[type[Module], dict[str, tuple[str, Any]]]] = {
    "Neuron": (Neuron, {"nin": _INT, "activation": _STR, "name": _STR}),
    "Layer": (Layer, {"nin": _INT, "nout": _INT, "activation": _STR, "name": _STR}),
    "MLP": (MLP, {"nin": _INT, "nouts": _SIZES, "activation": _STR}),
}


def to_dict(model: Module) -> dict[str, Any]:
    """The JSON-ready description of a model: format marker, architecture, weights."""
    config = model.config()
    if config.get("type") not in _MODELS:
        raise TypeError(
            f"save: cannot save a {type(model).__name__}; supported: {', '.join(_MODELS)}"
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": config,
        "parameters": {p.label: p.data for p in model.parameters()},
    }


def save(model: Module, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` as JSON, atomically (temp file + ``os.replace``).

    Raises ValueError (and writes nothing) if a weight is NaN or infinite.
    """
    try:
        text = json.dumps(to_dict(model), indent=1, allow_nan=False) + "\n"
    except ValueError as e:
        raise ValueError(
            f"save: cannot write {os.fspath(path)!r}: a weight is not finite ({e})"
        ) from None
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode(target))
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _mode(target: Path) -> int:
    """Keep an existing file's permissions; a new file gets 0o666 minus the umask."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def load(path: str | os.PathLike[str]) -> Module:
    """Read a model written by ``save``. Raises ValueError saying what is wrong
    with a truncated, corrupt or foreign file (FileNotFoundError if there is none)."""
    where = os.fspath(path)
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{where}: not a model file (not UTF-8 text)") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        if e.pos >= len(text.rstrip()):
            raise ValueError(
                f"{where}: truncated model file (the JSON ends early: {e.msg})"
            ) from None
        raise ValueError(
            f"{where}: corrupt model file (invalid JSON at line {e.lineno}: {e.msg})"
        ) from None
    try:
        return from_dict(data)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"corrupt model file: {name} is not a valid weight")


def from_dict(data: Any) -> Module:
    """Rebuild a model from ``to_dict``'s output; ValueError names what is missing or wrong."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ValueError(
            f"not an autograd-lite nn model file "
            f"(format marker {FORMAT!r} missing; found {found!r})"
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"missing or invalid 'version' (expected an integer, got {version!r})")
    if version > VERSION:
        raise ValueError(
            f"model file version {version} is newer than this library reads ({VERSION})"
        )
    for key in ("model", "parameters"):
        if key not in data:
            raise ValueError(f"missing key {key!r}")
        if not isinstance(data[key], dict):
            raise ValueError(f"{key!r} must be a JSON object, got {type(data[key]).__name__}")
    config = data["model"]
    kind = config.get("type")
    if kind not in _MODELS:
        raise ValueError(f"unknown model type {kind!r} (known: {', '.join(_MODELS)})")
    cls, checks = _MODELS[kind]
    args = {}
    for key, (what, ok) in checks.items():
        if key not in config:
            raise ValueError(f"missing key {key!r} in 'model' ({kind})")
        if not ok(config[key]):
            raise ValueError(f"'model'.{key} must be {what}, got {config[key]!r}")
        args[key] = config[key]
    model = _build(cls, args)
    _assign(model, data["parameters"])
    return model


def _build(cls: type[Module], args: dict[str, Any]) -> Module:
    """Construct the architecture (weights are overwritten next; the seed only avoids
    touching the global random state)."""
    if cls is MLP:
        return MLP(args["nin"], args["nouts"], args["activation"], seed=0)
    if cls is Layer:
        return Layer(args["nin"], args["nout"], args["activation"], seed=0, name=args["name"])
    return Neuron(args["nin"], args["activation"], seed=0, name=args["name"])


def _assign(model: Module, weights: dict[str, Any]) -> None:
    params = model.parameters()
    labels = [p.label for p in params]
    missing = [label for label in labels if label not in weights]
    if missing:
        raise ValueError(
            f"missing {len(missing)} parameter(s) in 'parameters', e.g. {missing[0]!r}"
        )
    known = set(labels)
    extra = [k for k in weights if k not in known]
    if extra:
        raise ValueError(f"unexpected parameter {extra[0]!r} in 'parameters' for this architecture")
    for p in params:
        w = weights[p.label]
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w):
            raise ValueError(f"parameter {p.label!r} must be a finite number, got {w!r}")
        p.data = float(w)
