"""What the finalizer and retention rules share: which method and `self`
the walk is in, what a class defines, and whether an expression keeps an
object alive (the object itself, a bound method of it, a closure over it)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterator, Mapping, Optional, Sequence, Tuple

import libcst as cst

from gclint.names import Scope, dotted
from gclint.rules._shapes import Resolver
from gclint.tree import children, descendants, is_scope

_NOT_INSTANCE = frozenset({"staticmethod", "classmethod", "builtins.staticmethod", "builtins.classmethod"})
_NOT_BOUND_TO_INSTANCE = _NOT_INSTANCE | {"property", "cached_property", "functools.cached_property"}


def positional_params(function: cst.FunctionDef) -> Tuple[str, ...]:
    params = function.params
    return tuple(p.name.value for p in (*params.posonly_params, *params.params))


def decorator_names(function: cst.FunctionDef) -> FrozenSet[str]:
    """Decorators as written (`functools.lru_cache` for `@functools.lru_cache(1)`)."""
    found = set()
    for decorator in function.decorators:
        expr = decorator.decorator
        expr = expr.func if isinstance(expr, cst.Call) else expr
        name = dotted(expr)
        if name:
            found.add(name)
    return frozenset(found)


# Methods whose first parameter is the class, without a decorator saying so.
_IMPLICIT_CLASS_METHODS = frozenset({"__new__", "__init_subclass__", "__class_getitem__"})
_METACLASS_BASES = frozenset({"type", "abc.ABCMeta", "ABCMeta", "enum.EnumMeta", "EnumMeta", "enum.EnumType"})


def self_name(function: cst.FunctionDef, cls: cst.ClassDef) -> Optional[str]:
    """The instance parameter of a method; None for static and class
    methods and for methods of a metaclass (whose instances are classes,
    which live as long as their module anyway)."""
    params = positional_params(function)
    if not params or decorator_names(function) & _NOT_INSTANCE:
        return None
    if function.name.value in _IMPLICIT_CLASS_METHODS:
        return None
    if any(dotted(base.value) in _METACLASS_BASES for base in cls.bases):
        return None
    return params[0]


@dataclass(frozen=True)
class Method:
    """The instance method the walk is inside, seen from its position."""

    function: cst.FunctionDef
    cls: cst.ClassDef
    self: str
    # Scopes between the current node and the method (lambdas, nested defs).
    inner: Tuple[Scope, ...]


def enclosing_method(scopes: Sequence[Scope]) -> Optional[Method]:
    """The nearest instance method around the current node whose `self` is
    not shadowed by a parameter of a nested function or lambda."""
    for index, scope in enumerate(scopes[:-1]):
        if isinstance(scope, cst.FunctionDef) and isinstance(scopes[index + 1], cst.ClassDef):
            name = self_name(scope, scopes[index + 1])
            inner = tuple(scopes[:index])
            if name is None or any(name in _scope_params(s) for s in inner):
                return None
            return Method(scope, scopes[index + 1], name, inner)
        if isinstance(scope, cst.ClassDef):
            return None
    return None


def _scope_params(scope: Scope) -> FrozenSet[str]:
    if isinstance(scope, (cst.FunctionDef, cst.Lambda)):
        params = scope.params
        names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
        names += [s.name.value for s in (params.star_arg, params.star_kwarg) if isinstance(s, cst.Param)]
        return frozenset(names)
    return frozenset()


def body_statements(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    body = getattr(node, "body", ())
    return body.body if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else body


@dataclass(frozen=True)
class ClassFacts:
    """Names a class body defines, and attributes its methods set on self."""

    methods: FrozenSet[str]
    # Static and class methods and properties: `self.x` holds no instance.
    unbound: FrozenSet[str]
    class_values: Mapping[str, cst.BaseExpression]
    instance_attrs: FrozenSet[str]

    def binds(self, attr: str, strict: bool) -> bool:
        """Whether `self.attr` is (probably) a bound method. Strict: only a
        method defined in the class; else also a name the class does not
        set as data (an inherited method)."""
        if attr in self.methods:
            return True
        known = (self.unbound, self.class_values, self.instance_attrs)
        return not strict and not any(attr in names for names in known)


def class_facts(cls: cst.ClassDef) -> ClassFacts:
    methods, unbound, values, attrs = set(), set(), {}, set()
    for stmt in body_statements(cls):
        if isinstance(stmt, cst.FunctionDef):
            # A static or class method bound through self holds no instance.
            bound = not decorator_names(stmt) & _NOT_BOUND_TO_INSTANCE
            (methods if bound else unbound).add(stmt.name.value)
            attrs.update(_self_attributes(stmt, cls))
        for small in body_statements(stmt) if isinstance(stmt, cst.SimpleStatementLine) else ():
            for target, value in _assignments(small):
                if isinstance(target, cst.Name) and value is not None:
                    values[target.value] = value
    return ClassFacts(frozenset(methods), frozenset(unbound), values, frozenset(attrs))


def _assignments(small: cst.CSTNode) -> Iterator[Tuple[cst.BaseExpression, Optional[cst.BaseExpression]]]:
    if isinstance(small, cst.Assign):
        for target in small.targets:
            yield target.target, small.value
    elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        yield small.target, getattr(small, "value", None)


def _self_attributes(function: cst.FunctionDef, cls: cst.ClassDef) -> Iterator[str]:
    name = self_name(function, cls)
    if name is None:
        return
    for node in descendants(function.body, stop=is_scope):
        for target, _ in _assignments(node):
            for element in _flatten(target):
                if isinstance(element, cst.Attribute) and dotted(element.value) == name:
                    yield element.attr.value


def _flatten(target: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _flatten(element.value)
    else:
        yield target


def free_uses(node: cst.CSTNode, name: str) -> bool:
    """Whether `name` is read in `node`, not counting attribute names,
    keyword names, and nested functions or lambdas whose parameters shadow it."""
    todo = [node]
    while todo:
        current = todo.pop()
        if isinstance(current, cst.Name):
            if current.value == name:
                return True
            continue
        todo.extend(_readable_children(current, name))
    return False


def _readable_children(node: cst.CSTNode, name: str) -> Sequence[cst.CSTNode]:
    if isinstance(node, cst.Attribute):
        return [node.value]
    if isinstance(node, cst.Arg):
        return [node.value]
    if isinstance(node, cst.Param):
        # A default keeps the value it evaluated to: `q=self.queue` holds
        # the queue, only `me=self` holds self.
        return [node.default] if isinstance(node.default, cst.Name) else []
    if isinstance(node, (cst.FunctionDef, cst.Lambda)):
        defaults = [p for p in children(node) if p is not node.body]
        return defaults if name in _scope_params(node) else children(node)
    return children(node)


def local_functions(function: cst.CSTNode) -> Dict[str, cst.FunctionDef]:
    """Functions defined directly in the body of `function` (closures)."""
    found = {}
    for node in descendants(function.body, stop=is_scope):
        if isinstance(node, cst.FunctionDef):
            found[node.name.value] = node
    return found


_PARTIALS = ("functools.partial", "functools.partialmethod")


class Holder:
    """Decides whether an expression keeps the object `target` alive.

    `target` is a dotted name (`self`, `conn`, `self._conn`). Inside a
    method, `facts` tells `self.close` (a bound method, holds self) from
    `self.path` (data); `closures` are the functions defined in the method.
    """

    def __init__(
        self,
        target: str,
        resolver: Resolver,
        facts: Optional[ClassFacts] = None,
        self_param: Optional[str] = None,
        closures: Optional[Mapping[str, cst.FunctionDef]] = None,
    ) -> None:
        self.target = target
        self.root = target.split(".")[0]
        self.resolver = resolver
        self.facts = facts
        self.self_param = self_param
        self.closures = closures or {}

    def holds(self, expr: Optional[cst.BaseExpression], callable_position: bool = False, calls: bool = False) -> bool:
        """`callable_position`: the expression is called later, so an
        unknown attribute of the target is taken for a bound method. `calls`:
        a call of a method of the target counts (a coroutine holds its self)."""
        if expr is None:
            return False
        if dotted(expr) == self.target:
            return True
        if isinstance(expr, cst.Attribute) and dotted(expr.value) == self.target:
            return self._bound(expr.attr.value, callable_position)
        if isinstance(expr, cst.Lambda):
            return self._closure_holds(expr)
        if isinstance(expr, cst.Name) and expr.value in self.closures:
            return self._closure_holds(self.closures[expr.value])
        if isinstance(expr, cst.Call):
            return self._call_holds(expr, calls)
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            return any(self.holds(e.value, calls=calls) for e in expr.elements)
        return False

    def _closure_holds(self, function: cst.CSTNode) -> bool:
        """A lambda or nested function that uses the target, or calls a
        nested function of the method that does (one level deep)."""
        if free_uses(function, self.root):
            return True
        return any(
            free_uses(function, name) and free_uses(closure, self.root)
            for name, closure in self.closures.items()
            if closure is not function
        )

    def _bound(self, attr: str, callable_position: bool) -> bool:
        if self.facts is not None and self.target == self.self_param:
            return self.facts.binds(attr, strict=not callable_position)
        return callable_position

    def _call_holds(self, call: cst.Call, calls: bool) -> bool:
        if self.resolver.name(call.func) in _PARTIALS:
            return any(self.holds(a.value, callable_position=i == 0) for i, a in enumerate(call.args))
        func = call.func
        return calls and isinstance(func, cst.Attribute) and dotted(func.value) == self.target


def holder_for_method(method: Method, resolver: Resolver) -> Holder:
    return Holder(method.self, resolver, class_facts(method.cls), method.self, local_functions(method.function))


def code_of(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)
