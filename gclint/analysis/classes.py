"""What a class body defines: its methods and how they bind, its
class-level values, the attributes its methods set on the instance, and
which of those only ever hold weak references."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, Iterator, Mapping, Optional, Tuple

import libcst as cst

from gclint.analysis.receivers import INSTANCE, decorator_names, is_metaclass, receiver_of
from gclint.analysis.stores import attribute_stores, functions_in, statements
from gclint.analysis.weak import is_weak_factory
from gclint.names import dotted
from gclint.tree import descendants, is_scope

_ENUM_BASES = frozenset({"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "ReprEnum"})
_DATACLASS_DECORATORS = frozenset({"dataclass", "dataclasses.dataclass", "attr.s", "attrs", "attr.attrs", "define", "attrs.define", "attr.define", "frozen", "attrs.frozen"})

# (expression, scopes) -> qualified name: the file's resolver.
Resolve = Callable[[cst.BaseExpression, Tuple[cst.CSTNode, ...]], Optional[str]]


@dataclass(frozen=True)
class ClassFacts:
    """Names a class body defines, and attributes its methods set on self."""

    name: str
    # Methods that give a bound method holding the instance when read from it.
    methods: FrozenSet[str]
    # Static and class methods and properties: `self.x` holds no instance.
    unbound: FrozenSet[str]
    class_values: Mapping[str, cst.BaseExpression]
    # Annotated names in the body (dataclass / attrs fields): data.
    fields: FrozenSet[str]
    instance_attrs: FrozenSet[str]
    # Attributes only ever set to weak references or weak containers.
    weak_attrs: FrozenSet[str]
    is_enum: bool
    is_metaclass: bool
    bases: Tuple[str, ...]

    def binds(self, attr: str, strict: bool) -> bool:
        """Whether `self.attr` is (probably) a bound method. Strict: only a
        method defined in the class; else also a name the class does not
        define as data (an inherited method)."""
        if attr in self.methods:
            return True
        known = (self.unbound, self.class_values, self.fields, self.instance_attrs)
        return not strict and not any(attr in names for names in known)

    def shared(self, attr: str) -> bool:
        """A class-level value never set per instance: owned by the class."""
        return attr in self.class_values and attr not in self.instance_attrs


def class_facts(cls: cst.ClassDef, resolve: Resolve) -> ClassFacts:
    methods, unbound, values, fields = set(), set(), {}, set()
    weak, strong, attrs = set(), set(), set()
    for stmt in statements(cls):
        if isinstance(stmt, cst.FunctionDef):
            (methods if receiver_of(stmt, cls).kind == INSTANCE else unbound).add(stmt.name.value)
            _instance_stores(stmt, cls, resolve, attrs, weak, strong)
        for small in statements(stmt) if isinstance(stmt, cst.SimpleStatementLine) else ():
            for target, value in _assignments(small):
                if isinstance(target, cst.Name) and value is not None:
                    values[target.value] = value
                if isinstance(small, cst.AnnAssign) and isinstance(target, cst.Name):
                    fields.add(target.value)
    bases = tuple(dotted(b.value) or "" for b in cls.bases)
    return ClassFacts(
        name=cls.name.value,
        methods=frozenset(methods),
        unbound=frozenset(unbound),
        class_values=values,
        fields=frozenset(fields),
        instance_attrs=frozenset(attrs),
        weak_attrs=frozenset(weak - strong),
        is_enum=any(b.rsplit(".", 1)[-1] in _ENUM_BASES for b in bases),
        is_metaclass=is_metaclass(cls),
        bases=bases,
    )


def is_dataclass(cls: cst.ClassDef) -> bool:
    return any(d in _DATACLASS_DECORATORS for d in decorator_names_of_class(cls))


def decorator_names_of_class(cls: cst.ClassDef) -> Tuple[str, ...]:
    found = []
    for decorator in cls.decorators:
        expr = decorator.decorator
        name = dotted(expr.func if isinstance(expr, cst.Call) else expr)
        if name:
            found.append(name)
    return tuple(found)


def _instance_stores(function, cls, resolve: Resolve, attrs: set, weak: set, strong: set) -> None:
    # `__new__` builds the instance in a local, usually called `self`.
    me = receiver_of(function, cls).instance or ("self" if function.name.value == "__new__" else None)
    if me is None:
        return
    scopes = (function, cls)
    for node in descendants(function.body, stop=is_scope):
        for target in _self_targets(node, me):
            attrs.add(target)
        for store in attribute_stores(node):
            if type(store.holder) is not cst.Name or store.holder.value != me:
                continue
            value = store.values[0]
            name = resolve(value.func, scopes) if isinstance(value, cst.Call) else None
            (weak if is_weak_factory(name) else strong).add(store.attribute)


def _self_targets(node: cst.CSTNode, me: str) -> Iterator[str]:
    for target, _ in _assignments(node):
        for element in _flatten(target):
            if isinstance(element, cst.Attribute) and dotted(element.value) == me:
                yield element.attr.value


def _assignments(small: cst.CSTNode) -> Iterator[Tuple[cst.BaseExpression, Optional[cst.BaseExpression]]]:
    if isinstance(small, cst.Assign):
        for target in small.targets:
            yield target.target, small.value
    elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        yield small.target, getattr(small, "value", None)


def _flatten(target: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _flatten(element.value)
    else:
        yield target


def method_named(cls: cst.ClassDef, name: str) -> Optional[cst.FunctionDef]:
    return next((f for f in functions_in(cls) if f.name.value == name), None)
