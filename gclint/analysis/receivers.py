"""Who a function's first parameter is: the one definition of "which
parameter is self" (instance, class, static, property getter/setter), and
of a function's decorator names."""
from __future__ import annotations

from typing import NamedTuple, Optional, Sequence, Tuple

import libcst as cst

from gclint.names import Scope, dotted

INSTANCE, PROPERTY, CLASS, STATIC, NO_RECEIVER = "instance", "property", "class", "static", "none"

# Methods Python makes class (or static) methods without a decorator.
_IMPLICIT_CLASS_METHODS = frozenset({"__new__", "__init_subclass__", "__class_getitem__"})
# The usual spelling of a first parameter that is a class (metaclass methods).
_CLASS_PARAMS = frozenset({"cls", "mcs", "mcls", "metacls", "klass"})
_METACLASS_BASES = frozenset({"type", "ABCMeta", "EnumMeta", "EnumType"})
_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "setter", "getter", "deleter"})


def decorator_names(function: cst.FunctionDef) -> Tuple[str, ...]:
    """Decorators as written, calls stripped: `functools.lru_cache` for
    `@functools.lru_cache(1)`, `x.setter` for `@x.setter`."""
    found = []
    for decorator in function.decorators:
        expr = decorator.decorator
        expr = expr.func if isinstance(expr, cst.Call) else expr
        name = dotted(expr)
        if name:
            found.append(name)
    return tuple(found)


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def positional_params(function: cst.FunctionDef) -> Tuple[str, ...]:
    params = function.params
    return tuple(p.name.value for p in (*params.posonly_params, *params.params))


def param_names(params: cst.Parameters) -> Tuple[str, ...]:
    """Every name a parameter list binds, stars included."""
    names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
    names += [s.name.value for s in (params.star_arg, params.star_kwarg) if isinstance(s, cst.Param)]
    return tuple(names)


def is_metaclass(cls: Optional[cst.ClassDef]) -> bool:
    return cls is not None and any(_last(dotted(b.value) or "") in _METACLASS_BASES for b in cls.bases)


class Receiver(NamedTuple):
    """What a method's first parameter is bound to, and its name."""

    kind: str
    name: Optional[str]

    @property
    def instance(self) -> Optional[str]:
        """The name of the instance parameter (methods and properties)."""
        return self.name if self.kind in (INSTANCE, PROPERTY) else None


def receiver_of(function: cst.FunctionDef, cls: Optional[cst.ClassDef]) -> Receiver:
    """The receiver of `function` defined in the body of `cls` (None: not a method)."""
    params = positional_params(function)
    if cls is None or not params:
        return Receiver(NO_RECEIVER, None)
    decorators = {_last(d) for d in decorator_names(function)}
    first = params[0]
    if "staticmethod" in decorators:
        return Receiver(STATIC, None)
    if "classmethod" in decorators or function.name.value in _IMPLICIT_CLASS_METHODS:
        return Receiver(CLASS, first)
    if first in _CLASS_PARAMS or is_metaclass(cls):
        # A metaclass's instances are classes, which live as long as their module.
        return Receiver(CLASS, first)
    if decorators & _PROPERTY_DECORATORS:
        return Receiver(PROPERTY, first)
    return Receiver(INSTANCE, first)


def binds_instance(function: cst.FunctionDef, cls: cst.ClassDef) -> bool:
    """Whether reading the function from an instance gives a bound method
    that holds the instance (`self.tick`; not a property, static or class method)."""
    return receiver_of(function, cls).kind == INSTANCE


class Method(NamedTuple):
    """The method the walk is inside, seen from its position."""

    function: cst.FunctionDef
    cls: cst.ClassDef
    self: str
    # Scopes between the current node and the method (lambdas, nested defs).
    inner: Tuple[Scope, ...]


def enclosing_method(scopes: Sequence[Scope]) -> Optional[Method]:
    """The nearest method with an instance receiver around the current node
    (innermost scope first), unless a nested function or lambda rebinds the
    receiver's name."""
    for index, scope in enumerate(scopes[:-1]):
        if isinstance(scope, cst.ClassDef):
            return None
        owner = scopes[index + 1]
        if isinstance(scope, cst.FunctionDef) and isinstance(owner, cst.ClassDef):
            name = receiver_of(scope, owner).instance
            inner = tuple(scopes[:index])
            if name is None or any(name in _scope_params(s) for s in inner):
                return None
            return Method(scope, owner, name, inner)
    return None


def _scope_params(scope: Scope) -> Tuple[str, ...]:
    if isinstance(scope, (cst.FunctionDef, cst.Lambda)):
        return param_names(scope.params)
    return ()
