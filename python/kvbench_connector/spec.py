"""Loading what the user named: `py:MODULE:CLASS` connectors and `MODULE:ATTR` stream accessors.

Every failure is a BadInput naming the flag, so kvbench prints one line and exits 2.
"""
import importlib
import inspect
import re
import traceback

from .api import OPTIONAL_HOOKS, SCHEDULER_HOOKS, WORKER_HOOKS

_DOTTED = r"[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*"
CONNECTOR_SPEC = re.compile(rf"^py:({_DOTTED}):({_DOTTED})$")
ACCESSOR_SPEC = re.compile(rf"^({_DOTTED}):({_DOTTED})$")


class BadInput(Exception):
    """The user's input is wrong: one line, exit 2."""

    def __init__(self, message, code="BAD_INPUT"):
        super().__init__(message)
        self.code = code


class NoTorch(BadInput):
    def __init__(self, message):
        super().__init__(message, "NO_TORCH")


def last_line(exc):
    """The exception's last line, as Python prints it."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    first = text.splitlines()[0] if text else repr(exc)  # torch's CUDA errors go on for lines
    return first


def _import(module, flag, value):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name == "torch" or (e.name or "").startswith("torch."):
            raise NoTorch(f"{flag} {value}: importing {module} needs torch, which this Python cannot import ({last_line(e)})")
        raise BadInput(f"{flag} {value}: importing {module} failed: {last_line(e)}")
    except BaseException as e:  # a module may raise anything, SystemExit included
        raise BadInput(f"{flag} {value}: importing {module} failed: {last_line(e)}")


def _attr(obj, dotted, flag, value, module):
    for part in dotted.split("."):
        if not hasattr(obj, part):
            raise BadInput(f"{flag} {value}: {module} has no attribute {dotted}")
        obj = getattr(obj, part)
    return obj


def _resolve(value, flag, pattern, form):
    """MODULE and ATTR of a spec, imported: the object it names."""
    m = pattern.match(value)
    if not m:
        raise BadInput(f"{flag} {value}: expected {form}")
    module, name = m.groups()
    return _attr(_import(module, flag, value), name, flag, value, module), f"{module}.{name}"


def load_connector_class(value, flag="--connector"):
    cls, where = _resolve(value, flag, CONNECTOR_SPEC, "py:MODULE:CLASS (for example py:our_kv.backend:GlobalStoreConnector)")
    if not inspect.isclass(cls):
        raise BadInput(f"{flag} {value}: {where} is not a class")
    check_protocol(cls, flag, value)
    return cls


def _signature(fn):
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None  # a builtin without a signature: trust it


def check_protocol(cls, flag, value):
    """Every required hook present and callable with the arguments kvbench passes."""
    missing = [h for h in list(SCHEDULER_HOOKS) + list(WORKER_HOOKS) if not callable(getattr(cls, h, None))]
    if missing:
        raise BadInput(f"{flag} {value}: {cls.__name__} has no {', '.join(missing)} (docs/connector-api.md lists the hooks)")
    hooks = {**SCHEDULER_HOOKS, **WORKER_HOOKS, **{k: v for k, v in OPTIONAL_HOOKS.items() if callable(getattr(cls, k, None))}}
    for hook, params in hooks.items():
        sig = _signature(getattr(cls, hook))
        if sig is None:
            continue
        try:
            sig.bind(object(), *params)
        except TypeError:
            raise BadInput(f"{flag} {value}: {cls.__name__}.{hook}{sig} cannot take ({', '.join(params)}) as kvbench passes them")
    sig = _signature(cls)
    if sig is not None:
        try:
            sig.bind({}, None)
        except TypeError:
            raise BadInput(f"{flag} {value}: {cls.__name__}{sig} cannot be constructed as {cls.__name__}(config, role)")


def load_accessor(value, flag="--stream-accessor"):
    fn, where = _resolve(value, flag, ACCESSOR_SPEC, "MODULE:ATTR (for example vllm.utils:current_stream)")
    if not callable(fn):
        raise BadInput(f"{flag} {value}: {where} is not callable")
    return fn
