"""``save`` and ``load``: a model as a JSON file (architecture + weights), no pickle.

The file is one JSON object::

    {"format": "autograd-lite.nn", "version": 2,
     "model": {"type": "MLP", "nin": 2, "nouts": [16, 1], "activation": "relu",
               "output_activation": "linear"},
     "parameters": {"L0.N0.w0": 0.61, ..., "L1.N0.b": 0.0}}

``parameters`` maps each parameter's label to its value, in ``parameters()``
order; floats are written with ``repr`` precision, so a round trip is exact.
Version 2 added the MLP's ``output_activation``; a version 1 file (which has
none) loads as an MLP whose last layer is linear.

``save`` writes through :func:`autograd_lite.files.atomic_write`: a temporary
file in the same directory renamed over the target, so a reader (or a process
killed by a signal half-way) sees the old file or the new one, never part of
one. Saving to a symbolic link replaces the file the link points to.

``load`` treats the file as untrusted input, and its memory is bounded by
what it reads: it reads at most ``MAX_BYTES`` bytes and only from a regular
file (a directory, a FIFO or ``/dev/zero`` is refused at once, without
blocking); before parsing it counts the JSON objects and lists (a model file
has 4) and the commas (at most one per parameter, plus a few), so that no
file, however built, makes the parser allocate more than a few times its
size; it checks every field, the layer names (at most ``MAX_NAME``
characters), the number of parameters the architecture declares (at most
``MAX_PARAMETERS``) and every weight's label and value *before* building
anything; and whatever is wrong — truncated, corrupt, foreign, too big,
nested too deeply, a duplicate or unknown key, an unknown version — raises
ValueError naming the path and the field. A refused file costs less than
100 MB of memory. A missing file raises FileNotFoundError.

``save`` applies the same limits (:func:`check_limits`) before writing, so it
never writes a file that ``load`` refuses; ``autograd-lite train`` checks them
before it trains.
"""

from __future__ import annotations

import itertools
import json
import math
import numbers
import os
import re
import stat
from collections.abc import Iterable, Iterator
from typing import Any

from autograd_lite.files import atomic_write

from .module import ACTIVATIONS, MLP, Layer, Module, Neuron

FORMAT = "autograd-lite.nn"
VERSION = 2  # the version save writes; load reads 1 .. VERSION
MAX_BYTES = 16 * 2**20  # the largest model file load reads (16 MiB)
MAX_PARAMETERS = 250_000  # the most parameters a model file may hold
MAX_NAME = 64  # the longest Layer or Neuron name (it prefixes every parameter's label)
_MAX_CONTAINERS = 16  # JSON objects and lists in a file (a model file has 4)
_EXTRA_COMMAS = 1_000  # commas beyond one per parameter: the architecture's few
# The most bytes one parameter takes in save's format: indent, quotes, ": ", the longest
# repr of a float (-2.2250738585072014e-308) and ",\n"; plus its label.
_BYTES_PER_PARAMETER = 2 + 2 + 2 + 24 + 2
_HEADER_BYTES = 4_096  # everything but the parameters, with room to spare
_NAME = re.compile(rf"[\w.\-]{{1,{MAX_NAME}}}")  # letters, digits, _ . - (no JSON syntax)
_TOP_LEVEL = ("format", "version", "model", "parameters")


# Checks of the fields in "model": (what it must be, the test).
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


_INT = ("a positive integer", _is_int)
_STR = (
    f"a name of 1 to {MAX_NAME} letters, digits, '_', '.' or '-'",
    lambda v: isinstance(v, str) and _NAME.fullmatch(v) is not None,
)
_ACTIVATION = (
    f"one of {', '.join(repr(a) for a in ACTIVATIONS)}",
    lambda v: isinstance(v, str) and v in ACTIVATIONS,
)
_SIZES = (
    "a non-empty list of positive integers",
    lambda v: isinstance(v, list) and bool(v) and all(_is_int(n) for n in v),
)
# type name -> (class, required fields, optional fields {name: (check, default)})
_MODELS: dict[str, tuple[type[Module], dict[str, Any], dict[str, Any]]] = {
    "Neuron": (Neuron, {"nin": _INT, "activation": _ACTIVATION, "name": _STR}, {}),
    "Layer": (
        Layer,
        {"nin": _INT, "nout": _INT, "activation": _ACTIVATION, "name": _STR},
        {},
    ),
    "MLP": (
        MLP,
        {"nin": _INT, "nouts": _SIZES, "activation": _ACTIVATION},
        {"output_activation": (_ACTIVATION, "linear")},
    ),
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

    Raises ValueError (and writes nothing) if a weight is NaN or infinite, or if
    the model is beyond what ``load`` reads (:func:`check_limits`).
    """
    data = to_dict(model)
    try:
        check_limits(data["model"])
    except ValueError as e:
        raise ValueError(f"save: cannot write {os.fspath(path)!r}: {e}") from None
    try:
        text = json.dumps(data, indent=1, allow_nan=False) + "\n"
    except ValueError as e:
        raise ValueError(
            f"save: cannot write {os.fspath(path)!r}: a weight is not finite ({e})"
        ) from None
    atomic_write(path, text.encode("utf-8"))


def load(path: str | os.PathLike[str]) -> Module:
    """Read a model written by ``save``.

    Raises ValueError naming the path and the field for anything wrong with the
    file (see the module docstring), FileNotFoundError if there is none.
    """
    where = os.fspath(path)
    raw = _read(path, where)
    _prescan(raw, where)
    try:
        text = raw.decode("utf-8-sig")  # a byte order mark, as some editors write, is fine
    except UnicodeDecodeError as e:
        raise ValueError(
            f"{where}: not a model file (not UTF-8 text: byte {raw[e.start]:#04x} "
            f"at offset {e.start})"
        ) from None
    del raw  # the text alone from here on: a refused file costs less
    try:
        data = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_int=_parse_int,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as e:
        if e.pos >= len(text.rstrip()):
            raise ValueError(
                f"{where}: truncated model file (the JSON ends early: {e.msg})"
            ) from None
        raise ValueError(
            f"{where}: corrupt model file (invalid JSON at line {e.lineno}: {e.msg})"
        ) from None
    except RecursionError:
        raise ValueError(f"{where}: corrupt model file (JSON nested too deeply)") from None
    except ValueError as e:  # from the hooks: a duplicate key, NaN, a huge integer
        raise ValueError(f"{where}: corrupt model file ({e})") from None
    try:
        return from_dict(data)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def _read(path: str | os.PathLike[str], where: str) -> bytearray:
    """The bytes of the regular file at ``path`` (at most MAX_BYTES), never blocking."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO does not wait for a writer
    except IsADirectoryError:
        raise ValueError(f"{where}: not a model file (it is a directory)") from None
    try:
        st = os.fstat(fd)
    except BaseException:
        os.close(fd)
        raise
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        kind = "it is a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise ValueError(f"{where}: not a model file ({kind})")
    if st.st_size > MAX_BYTES:
        os.close(fd)
        raise ValueError(
            f"{where}: the file is too big for a model file "
            f"({st.st_size:,} bytes; the limit is nn.serialize.MAX_BYTES = {MAX_BYTES:,})"
        )
    with os.fdopen(fd, "rb", buffering=0) as f:
        data = bytearray()  # grown in place: no list of chunks joined into a second copy
        while len(data) <= MAX_BYTES:  # the file may grow while we read: stop past the limit
            chunk = f.read(min(2**20, MAX_BYTES + 1 - len(data)))
            if not chunk:
                break
            data += chunk
    size = len(data)
    if size > MAX_BYTES:
        raise ValueError(
            f"{where}: the file is too big for a model file "
            f"(more than nn.serialize.MAX_BYTES = {MAX_BYTES:,} bytes)"
        )
    return data


def _prescan(raw: bytes | bytearray, where: str) -> None:
    """Refuse a file whose JSON would take far more memory than its size, before parsing.

    A model file has 4 objects and lists and about one comma per parameter, and
    its strings (keys, labels, names) contain neither brackets nor commas. Counting
    them in the raw bytes bounds what ``json.loads`` may build (a file of 16 MiB of
    ``[],`` would otherwise make millions of lists).
    """
    containers = raw.count(b"{") + raw.count(b"[")
    if containers > _MAX_CONTAINERS:
        raise ValueError(
            f"{where}: corrupt model file ({containers:,} JSON objects and lists, nested too "
            f"deeply or side by side; a model file has 4)"
        )
    commas = raw.count(b",")
    if commas > MAX_PARAMETERS + _EXTRA_COMMAS:
        raise ValueError(
            f"{where}: the file is too big for a model file ({commas:,} entries; "
            f"a model file holds at most nn.serialize.MAX_PARAMETERS = {MAX_PARAMETERS:,} "
            "parameters)"
        )


def check_limits(config: dict[str, Any]) -> None:
    """Raise ValueError if a model of this architecture (``model.config()``, or the
    ``"model"`` part of a file, fields already checked) is beyond what ``load`` reads.

    The limits: at most ``MAX_PARAMETERS`` parameters, names of at most ``MAX_NAME``
    letters, digits, ``_``, ``.`` or ``-``, and a file of at most ``MAX_BYTES``
    (counted for the longest number each weight can take). Nothing is built.
    """
    kind = config.get("type")
    name = config.get("name")
    if kind in ("Layer", "Neuron") and not _STR[1](name):
        raise ValueError(f"'model'.name must be {_STR[0]}, got {_clip_repr(name)}")
    declared = _parameter_count(kind, config)
    if declared > MAX_PARAMETERS:
        raise ValueError(
            f"'model' declares {declared:,} parameters, more than "
            f"nn.serialize.MAX_PARAMETERS = {MAX_PARAMETERS:,}"
        )
    size = _HEADER_BYTES + sum(_BYTES_PER_PARAMETER + len(label) for label in _labels(kind, config))
    if size > MAX_BYTES:
        raise ValueError(
            f"a model file of this architecture takes up to {size:,} bytes, more than "
            f"nn.serialize.MAX_BYTES = {MAX_BYTES:,}"
        )


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a valid weight")


def _parse_int(text: str) -> int | float:
    """JSON integers: exact when they fit a float's range, else a float (checked later)."""
    if len(text.lstrip("-")) > 400:
        return float("inf") if not text.startswith("-") else float("-inf")
    return int(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"the key {_short(key)!r} appears twice in one object")
        obj[key] = value
    return obj


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value: Any) -> str:
    """The JSON name of a value's type, for error messages."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), "a number")


def from_dict(data: Any) -> Module:
    """Rebuild a model from ``to_dict``'s output; ValueError names what is missing or wrong.

    Every field is checked, and the parameter count the architecture declares is
    compared with the weights given, before any Value is made.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else _kind(data)
        raise ValueError(
            f"not an autograd-lite nn model file "
            f"(format marker {FORMAT!r} missing; found {_clip_repr(found)})"
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(
            f"missing or invalid 'version' (expected an integer, got {_clip_repr(version)})"
        )
    if version > VERSION:
        raise ValueError(
            f"model file version {version} is newer than this library reads ({VERSION})"
        )
    if version < 1:
        raise ValueError(f"unknown 'version' {version} (this library reads 1 to {VERSION})")
    unknown = [k for k in data if k not in _TOP_LEVEL]
    if unknown:
        raise ValueError(
            f"unknown key {_short(unknown[0])!r} at the top level (known: {', '.join(_TOP_LEVEL)})"
        )
    for key in ("model", "parameters"):
        if key not in data:
            raise ValueError(f"missing key {key!r}")
        if not isinstance(data[key], dict):
            raise ValueError(f"{key!r} must be a JSON object, got {_kind(data[key])}")
    config = data["model"]
    kind = config.get("type")
    if not isinstance(kind, str) or kind not in _MODELS:
        raise ValueError(
            f"'model'.type: unknown model type {_clip_repr(kind)} (known: {', '.join(_MODELS)})"
        )
    cls, required, optional = _MODELS[kind]
    args: dict[str, Any] = {}
    for key, (what, ok) in required.items():
        if key not in config:
            raise ValueError(f"missing key {key!r} in 'model' ({kind})")
        if not ok(config[key]):
            raise ValueError(f"'model'.{key} must be {what}, got {_clip_repr(config[key])}")
        args[key] = config[key]
    for key, ((what, ok), default) in optional.items():
        if key in config and version < 2:
            raise ValueError(f"'model'.{key} needs a version 2 file, this one is version 1")
        args[key] = config.get(key, default)
        if not ok(args[key]):
            raise ValueError(f"'model'.{key} must be {what}, got {_clip_repr(args[key])}")
    extra = [k for k in config if k != "type" and k not in required and k not in optional]
    if extra:
        raise ValueError(f"unknown key {_short(extra[0])!r} in 'model' ({kind})")
    check_limits({"type": kind, **args})
    declared = _parameter_count(kind, args)
    weights = data["parameters"]
    if declared != len(weights):  # say which label, without building the model
        _mismatch(_labels(kind, args), declared, weights)
    _check_weights(kind, args, weights)  # every label and value, still nothing built
    model = _build(cls, args)
    for p in model.parameters():
        p.data = float(weights[p.label])
    return model


def _clip_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parameter_count(kind: str, args: dict[str, Any]) -> int:
    """How many parameters the architecture has, from its sizes alone (nothing is built)."""
    if kind == "MLP":
        sizes = [args["nin"], *args["nouts"]]
        return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    if kind == "Layer":
        return (args["nin"] + 1) * args["nout"]
    return args["nin"] + 1


def _labels(kind: str, args: dict[str, Any]) -> Iterator[str]:
    """The parameters' labels in ``parameters()`` order, generated from the sizes."""
    if kind == "MLP":
        sizes = [args["nin"], *args["nouts"]]
        prefixes = (f"L{i}.N{j}" for i, n in enumerate(sizes[1:]) for j in range(n))
        fan_in = (sizes[i] for i, n in enumerate(sizes[1:]) for _ in range(n))
        neurons: Iterable[tuple[str, int]] = zip(prefixes, fan_in)
    elif kind == "Layer":
        neurons = ((f"{args['name']}.N{j}", args["nin"]) for j in range(args["nout"]))
    else:
        neurons = [(args["name"], args["nin"])]
    for prefix, nin in neurons:
        yield from (f"{prefix}.w{k}" for k in range(nin))
        yield f"{prefix}.b"


def _mismatch(labels: Iterator[str], declared: int, weights: dict[str, Any]) -> None:
    """Raise ValueError naming a missing or an unexpected label (the counts differ).

    Looks at no more labels than the file has weights (plus one), so a file
    declaring a huge model costs no more than its own size.
    """
    counts = f"the architecture has {declared:,}, the file gives {len(weights):,}"
    if declared > len(weights):
        for label in itertools.islice(labels, len(weights) + 1):
            if label not in weights:
                raise ValueError(f"missing parameter(s) in 'parameters' ({counts}), e.g. {label!r}")
    known = set(labels) if declared < len(weights) else set()
    extra = next((k for k in weights if k not in known), "?")
    raise ValueError(
        f"unexpected parameter {_short(extra)!r} in 'parameters' for this architecture ({counts})"
    )


def _build(cls: type[Module], args: dict[str, Any]) -> Module:
    """Construct the architecture (weights are overwritten next; the seed only avoids
    touching the global random state)."""
    if cls is MLP:
        return MLP(
            args["nin"],
            args["nouts"],
            args["activation"],
            output_activation=args["output_activation"],
            seed=0,
        )
    if cls is Layer:
        return Layer(args["nin"], args["nout"], args["activation"], seed=0, name=args["name"])
    return Neuron(args["nin"], args["activation"], seed=0, name=args["name"])


def _check_weights(kind: str, args: dict[str, Any], weights: dict[str, Any]) -> None:
    """Raise ValueError for a label the file lacks, an unexpected label, or a weight that
    is not a finite number; nothing is built. (The counts are equal already.)"""
    for label in _labels(kind, args):
        if label not in weights:
            known = set(_labels(kind, args))  # at most MAX_PARAMETERS short labels
            extra = next(k for k in weights if k not in known)
            raise ValueError(
                f"unexpected parameter {_short(extra)!r} in 'parameters' for this "
                f"architecture (it has no {label!r})"
            )
        w = weights[label]
        try:
            ok = not isinstance(w, bool) and isinstance(w, numbers.Real) and math.isfinite(w)
        except OverflowError:
            ok = False
        if not ok:
            raise ValueError(
                f"parameter {label!r} in 'parameters' must be a finite number, got {_clip_repr(w)}"
            )
