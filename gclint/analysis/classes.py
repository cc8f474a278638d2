"""Classes: which parameter of a method is its receiver (instance, class,
static, property getter/setter: the one definition of "which parameter is
self"), decorator names, and what a class body defines: its methods and
how they bind, its class-level values and fields, the attributes its
methods set on the instance, and which of those only hold weak references."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterator, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import libcst as cst

from gclint.analysis.bindings import FileIndex, attribute_stores, functions_in, is_weak_factory, param_names, statements
from gclint.names import Scope, dotted
from gclint.tree import descendants, is_scope


INSTANCE, PROPERTY, CLASS, STATIC, NO_RECEIVER = "instance", "property", "class", "static", "none"

# Methods Python makes class (or static) methods without a decorator.
_IMPLICIT_CLASS_METHODS = frozenset({"__new__", "__init_subclass__", "__class_getitem__"})
# The usual spelling of a first parameter that is a class (metaclass methods).
_CLASS_PARAMS = frozenset({"cls", "mcs", "mcls", "metacls", "klass"})
_METACLASS_BASES = frozenset({"type", "ABCMeta", "EnumMeta", "EnumType"})
_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "setter", "getter", "deleter"})


def decorator_names(node: Union[cst.FunctionDef, cst.ClassDef]) -> Tuple[str, ...]:
    """Decorators of a function or class as written, calls stripped:
    `functools.lru_cache` for `@functools.lru_cache(1)`, `x.setter` for `@x.setter`."""
    found = []
    for decorator in node.decorators:
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


# --- what a class body defines

_ENUM_BASES = frozenset({"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "ReprEnum"})
_DATACLASS_DECORATORS = frozenset({"dataclass", "dataclasses.dataclass", "attr.s", "attrs", "attr.attrs", "define", "attrs.define", "attr.define", "frozen", "attrs.frozen"})

# (expression, scopes) -> qualified name: the file's resolver.


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
    # Attributes a method or property returns (`return self._error`): kept
    # on purpose, as part of the class's interface.
    exposed_attrs: FrozenSet[str]
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


def class_facts(cls: cst.ClassDef, index: FileIndex) -> ClassFacts:
    methods, unbound, values, fields = set(), set(), {}, set()
    weak, strong, attrs, exposed = set(), set(), set(), set()
    for stmt in statements(cls):
        if isinstance(stmt, cst.FunctionDef):
            (methods if receiver_of(stmt, cls).kind == INSTANCE else unbound).add(stmt.name.value)
            _instance_stores(stmt, cls, index, attrs, weak, strong, exposed)
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
        exposed_attrs=frozenset(exposed),
        is_enum=any(b.rsplit(".", 1)[-1] in _ENUM_BASES for b in bases),
        is_metaclass=is_metaclass(cls),
        bases=bases,
    )


def is_dataclass(cls: cst.ClassDef) -> bool:
    return any(d in _DATACLASS_DECORATORS for d in decorator_names(cls))


def _instance_stores(function, cls, index: FileIndex, attrs: set, weak: set, strong: set, exposed: set) -> None:
    # `__new__` builds the instance in a local, usually called `self`.
    me = receiver_of(function, cls).instance or ("self" if function.name.value == "__new__" else None)
    if me is None:
        return
    scopes = (function, cls)
    for node in index.nodes(function):
        kind = type(node)
        if kind is cst.Return:
            if type(node.value) is cst.Attribute and dotted(node.value.value) == me:
                exposed.add(node.value.attr.value)
            continue
        if kind not in _ASSIGNMENTS:
            continue  # most nodes: nothing below can hold for them
        for target in _self_targets(node, me):
            attrs.add(target)
        for store in attribute_stores(node):
            if type(store.holder) is not cst.Name or store.holder.value != me:
                continue
            value = store.values[0]
            name = index.resolve(value.func, scopes) if _may_be_weak_call(value) else None
            (weak if is_weak_factory(name) else strong).add(store.attribute)


_ASSIGNMENTS = frozenset({cst.Assign, cst.AnnAssign, cst.AugAssign})


def _may_be_weak_call(value: cst.BaseExpression) -> bool:
    """Spelled like a weak factory (`ref`, `proxy`, `Weak*`): worth resolving."""
    if type(value) is not cst.Call:
        return False
    func = value.func
    last = func.attr.value if type(func) is cst.Attribute else func.value if type(func) is cst.Name else ""
    return "ref" in last or "proxy" in last or "Weak" in last  # also aliases: `_proxy`, `wref`


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


# `Name(` not preceded by `class ` (the definition itself).
_CALLED_NAME = re.compile(r"(?<!class )\b([A-Za-z_]\w*)\s*\(")


def built_at_import(module: cst.Module, source: str) -> FrozenSet[str]:
    """Classes of the module that it instantiates only in module-level code
    (`app = App()`): singletons built once at import, which live as long as
    the module. Any other `Name(` in the text (a call in a function, even a
    mention in a comment) disqualifies the class; instances made by other
    modules are not seen."""
    classes = {s.name.value for s in statements(module) if type(s) is cst.ClassDef}
    if not classes:
        return frozenset()
    at_import: Dict[str, int] = {}
    for node in descendants(module, stop=is_scope):
        if type(node) is cst.Call and type(node.func) is cst.Name and node.func.value in classes:
            at_import[node.func.value] = at_import.get(node.func.value, 0) + 1
    if not at_import:
        return frozenset()
    written: Dict[str, int] = {}
    for name in _CALLED_NAME.findall(source):
        if name in at_import:
            written[name] = written.get(name, 0) + 1
    return frozenset(name for name, count in at_import.items() if written.get(name) == count)


def method_named(cls: cst.ClassDef, name: str) -> Optional[cst.FunctionDef]:
    return next((f for f in functions_in(cls) if f.name.value == name), None)
