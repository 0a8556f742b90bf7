"""Students by name: the built-in architectures, your own classes as ``module.path:ClassName``,
and short names given to them with :func:`register_student`.

A name is

* a built-in: ``gcn``, ``gat``, ``sage``, ``gin``, ``mlp`` (:mod:`.zoo`, literature defaults);
* ``module.path:ClassName``: the module is imported and the student built as
  ``ClassName(in_features, num_classes, **kwargs)``, ``kwargs`` being the experiment's
  ``hparams`` for that name without the optimiser settings ``lr`` and ``weight_decay``, which
  go to the student's ``hparams`` attribute (read by :func:`mutualgnn.fit`);
* a short name registered in this process: ``@register_student("mysage")`` on the class, or
  ``register_student("mysage", MySAGE)``; ``hparams.mysage.hidden=32`` then sets its settings.

Every failure is a :class:`~.hparams.StudentError` whose message says what to fix. A saved
student records :func:`student_path` (``module:Class``, also for a registered name: a new
process knows a short name only once its module is imported), which :func:`resolve_student`
imports again.
"""

from __future__ import annotations

import importlib
import inspect
import re

from torch import nn

from ..config import ConfigError, read_float
from ..validation import first_line
from .hparams import DEFAULTS, OPTIM_KEYS, StudentError, student_hparams
from .zoo import build_student

#: short name -> class, filled by :func:`register_student`
_REGISTERED: dict[str, type] = {}

_SHORT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_PATH = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def built_in_students() -> list[str]:
    """The built-in architectures of any task, in table order."""
    return list(dict.fromkeys(arch for table in DEFAULTS.values() for arch in table))


def registered_students() -> dict[str, type]:
    """A copy of the short names registered in this process."""
    return dict(_REGISTERED)


def register_student(name: str, cls: type | None = None):
    """Give the student class ``cls`` the short ``name`` (letters, digits, ``_``, ``-``; not a
    built-in's). Without ``cls``, a class decorator: ``@register_student("mysage")``. Registering
    a name again replaces its class. Returns ``cls``."""
    if not isinstance(name, str) or not _SHORT.fullmatch(name):
        raise StudentError(
            f"a student's short name is letters, digits, '_' and '-' (it is a key "
            f"of --set hparams.NAME.KEY and of comma-separated cohorts), got "
            f"{name!r}"
        )
    if name in built_in_students():
        raise StudentError(
            f"'{name}' is a built-in student; register yours under another name "
            f"(built-in: {', '.join(built_in_students())})"
        )
    if cls is None:
        return lambda klass: register_student(name, klass)
    _check_module_class(cls, f"register_student({name!r}, ...)")
    _REGISTERED[name] = cls
    return cls


def is_built_in(name: str) -> bool:
    return name in built_in_students()


def resolve_student(name: str):
    """The built-in name itself (a ``str``), or the ``nn.Module`` class that ``name`` stands
    for (a registered short name, or ``module.path:ClassName`` imported now)."""
    if not isinstance(name, str) or not name.strip():
        raise StudentError(f"a student is named by a string, got {name!r}")
    name = name.strip()
    if is_built_in(name):
        return name
    if name in _REGISTERED:
        return _REGISTERED[name]
    if ":" not in name:
        raise StudentError(
            f"unknown student '{name}'; built-in: {', '.join(built_in_students())}"
            f"; registered: {', '.join(sorted(_REGISTERED)) or 'none'}. A class "
            f"of yours: give it as module.path:ClassName (e.g. "
            f"my_package.models:MySAGE), or register a short name with "
            f"mutualgnn.register_student('{name}', MyClass) before the run"
        )
    if not _PATH.fullmatch(name):
        raise StudentError(
            f"student '{name}': write a class of yours as module.path:ClassName, "
            f"e.g. my_package.models:MySAGE"
        )
    module_name, class_name = name.split(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - the user's module may raise anything on import
        raise StudentError(
            f"student '{name}': cannot import module '{module_name}' "
            f"({type(exc).__name__}: {first_line(exc)}); install it or put its "
            f"folder on PYTHONPATH"
        ) from None
    value = module
    for part in class_name.split("."):
        if not hasattr(value, part):
            raise StudentError(_missing(name, module, module_name, class_name))
        value = getattr(value, part)
    _check_module_class(value, f"student '{name}'")
    return value


def student_path(name: str) -> str:
    """What a saved run records to rebuild student ``name``: a built-in's name, else its class
    as ``module:Class`` (importable in a new process, unlike a registered short name)."""
    target = resolve_student(name)
    if isinstance(target, str):
        return target
    return f"{target.__module__}:{target.__qualname__}"


def named_hparams(
    name: str, task: str, dataset: str | None = None, overrides: dict | None = None
) -> dict:
    """The hyper-parameters of student ``name``: a built-in's defaults with ``overrides``
    (:func:`~.hparams.student_hparams`), or for a class of yours ``overrides`` as given (its
    constructor's keyword arguments and ``lr``/``weight_decay``), ``lr`` and ``weight_decay``
    checked to be numbers. Resolves ``name``: an unknown one fails here."""
    target = resolve_student(name)
    if isinstance(target, str):
        return student_hparams(target, task, dataset, overrides)
    if overrides is not None and not isinstance(overrides, dict):
        raise StudentError(
            f"hparams of student '{name}' must map settings to values, got {overrides!r}"
        )
    hp = dict(overrides or {})
    bad = [k for k in hp if not isinstance(k, str) or not k.isidentifier()]
    if bad:
        raise StudentError(
            f"hparams of student '{name}' are keyword arguments of its constructor; {bad} cannot be"
        )
    for key in OPTIM_KEYS:
        if key in hp:
            try:
                hp[key] = read_float(hp[key], f"hyper-parameter '{key}' of '{name}'")
            except ConfigError as exc:
                raise StudentError(str(exc)) from None
    return hp


def build_named_student(
    name: str, task: str, in_features: int, num_classes: int, hparams: dict | None = None
) -> nn.Module:
    """Build student ``name`` (see the module's docstring). A built-in takes ``hparams`` as
    overrides of its defaults; a class of yours is called as
    ``Class(in_features, num_classes, **kwargs)`` (``hparams`` without ``lr`` and
    ``weight_decay``) and gets ``arch`` = ``name``, ``task`` and ``hparams`` (all of them, the
    optimiser settings included) as attributes."""
    target = resolve_student(name)
    if isinstance(target, str):
        return build_student(target, task, in_features, num_classes, **(hparams or {}))
    hp = named_hparams(name, task, overrides=hparams)
    kwargs = {k: v for k, v in hp.items() if k not in OPTIM_KEYS}
    shown = ", ".join(
        [repr(in_features), repr(num_classes)] + [f"{k}={v!r}" for k, v in kwargs.items()]
    )
    try:
        model = target(in_features, num_classes, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the user's constructor may raise anything
        given = (
            f"hparams {sorted(kwargs)} as keyword arguments"
            if kwargs
            else "no hparams (set them with --set hparams.NAME.KEY=VALUE)"
        )
        raise StudentError(
            f"student '{name}': {target.__qualname__}({shown}) failed: "
            f"{type(exc).__name__}: {first_line(exc)}. It was given "
            f"(in_features, num_classes) and {given}; its signature is "
            f"{target.__qualname__}{_signature(target)}"
        ) from None
    if not isinstance(model, nn.Module):  # a __new__ of its own
        raise StudentError(
            f"student '{name}': {target.__qualname__}(...) returned a "
            f"{type(model).__name__}, not a torch.nn.Module"
        )
    model.arch, model.task, model.hparams = name, task, hp
    return model


def lookup_hparams(table: dict | None, name: str) -> dict | None:
    """The settings of student ``name`` in an experiment's ``hparams``: ``table[name]``, merged
    with the nested form that ``--set hparams.my_package.models:MySAGE.hidden=32`` writes for a
    dotted name (``{"my_package": {"models:MySAGE": {...}}}``), which wins."""
    table = table or {}
    flat = table.get(name)
    node = table
    for part in name.split(".") if "." in name else ():
        node = node.get(part) if isinstance(node, dict) else None
    nested = node if isinstance(node, dict) and node is not table else None
    if flat is None and nested is None:
        return None
    return {**(flat or {}), **(nested or {})}


def _check_module_class(value, what: str) -> None:
    if not (inspect.isclass(value) and issubclass(value, nn.Module)):
        kind = (
            f"the class {value.__name__}" if inspect.isclass(value) else f"a {type(value).__name__}"
        )
        raise StudentError(
            f"{what} is {kind}, not a torch.nn.Module subclass: a student is an "
            f"nn.Module built as Class(in_features, num_classes, **hparams) whose "
            f"forward(graph, features) returns logits"
        )


def _missing(name, module, module_name, class_name) -> str:
    found = sorted(
        n
        for n, v in vars(module).items()
        if inspect.isclass(v)
        and issubclass(v, nn.Module)
        and getattr(v, "__module__", None) == module.__name__
    )
    if module_name == "__main__":
        return (
            f"student '{name}': the running program (__main__) has no class "
            f"'{class_name}': a class defined in a script cannot be imported by another "
            f"process; define it in a module and name it module.path:{class_name}"
        )
    return (
        f"student '{name}': module '{module_name}' has no class '{class_name}'; its "
        f"nn.Module classes: {', '.join(found) or 'none'}"
    )


def _signature(cls) -> str:
    try:
        return str(inspect.signature(cls))
    except (TypeError, ValueError):
        return "(...)"
