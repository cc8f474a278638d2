"""What the classes and functions of one module do with what they are
given, as small plain data: which constructor parameters end up on the
instance, which methods store their arguments, return a closure over self
or block, which functions wrap their callable argument.

Summaries name parameters by position and keyword, never by libcst node,
so they can be cached and read for another module (the next step: the
same summaries for imported modules plug into `ModuleSummary.merged`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Callable, Dict, FrozenSet, Iterator, List, Mapping, NamedTuple, Optional, Tuple

import libcst as cst

from gclint.analysis.bindings import FileIndex, all_stores, attribute_stores, closure_reads, free_uses, functions_in, held, statements
from gclint.analysis.blocking import (
    blocking_call,
    is_lock,
    is_thread_class,
    joins_thread_holding,
    lock_attributes,
    self_holding_attributes,
)
from gclint.analysis.classes import ClassFacts, is_dataclass, method_named, positional_params, receiver_of
from gclint.names import dotted


_PARTIALS = ("functools.partial", "functools.partialmethod", "types.MethodType")


class ParamRef(NamedTuple):
    """A parameter (by position after the receiver, -1 for keyword-only or
    `**kwargs` entries, and by keyword) and the attribute it is stored in."""

    position: int
    keyword: str
    attribute: str


@dataclass(frozen=True)
class ClassSummary:
    name: str
    bases: Tuple[str, ...] = ()
    stored_params: Tuple[ParamRef, ...] = ()
    # (method, parameters it stores on the instance)
    storing_methods: Tuple[Tuple[str, Tuple[ParamRef, ...]], ...] = ()
    closure_methods: Tuple[str, ...] = ()
    # (method, what it does that blocks)
    blocking_methods: Tuple[Tuple[str, str], ...] = ()

    def stores(self, method: str) -> Tuple[ParamRef, ...]:
        return next((params for name, params in self.storing_methods if name == method), ())

    def blocks(self, method: str) -> Optional[str]:
        return next((what for name, what in self.blocking_methods if name == method), None)


@dataclass(frozen=True)
class FunctionSummary:
    name: str
    # Positions of parameters the returned closure (or partial) holds.
    wraps: Tuple[int, ...] = ()
    blocking: str = ""


@dataclass(frozen=True)
class ModuleSummary:
    classes: Tuple[ClassSummary, ...] = ()
    functions: Tuple[FunctionSummary, ...] = ()
    _index: Dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def cls(self, name: Optional[str]) -> Optional[ClassSummary]:
        return self._lookup("class", name, self.classes)

    def function(self, name: Optional[str]) -> Optional[FunctionSummary]:
        return self._lookup("function", name, self.functions)

    def _lookup(self, kind: str, name: Optional[str], items) -> Any:
        table = self._index.get(kind)
        if table is None:
            table = self._index[kind] = {item.name: item for item in items}
        return table.get(name) if name else None

    def merged(self, *others: "ModuleSummary") -> "ModuleSummary":
        """This module's summaries with those of others (imported modules)
        behind them: a name defined here wins."""
        classes = {c.name: c for m in (*reversed(others), self) for c in m.classes}
        functions = {f.name: f for m in (*reversed(others), self) for f in m.functions}
        return ModuleSummary(tuple(classes.values()), tuple(functions.values()))

    def to_dict(self) -> Dict[str, Any]:
        return {"classes": [asdict(c) for c in self.classes], "functions": [asdict(f) for f in self.functions]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ModuleSummary":
        classes = tuple(_class_from_dict(c) for c in data.get("classes", ()))
        functions = tuple(FunctionSummary(f["name"], tuple(f["wraps"]), f["blocking"]) for f in data.get("functions", ()))
        return cls(classes, functions)


def _class_from_dict(data: Mapping[str, Any]) -> ClassSummary:
    return ClassSummary(
        name=data["name"],
        bases=tuple(data["bases"]),
        stored_params=tuple(ParamRef(*p) for p in data["stored_params"]),
        storing_methods=tuple((m, tuple(ParamRef(*p) for p in ps)) for m, ps in data["storing_methods"]),
        closure_methods=tuple(data["closure_methods"]),
        blocking_methods=tuple((m, w) for m, w in data["blocking_methods"]),
    )


def stored_arguments(call: cst.Call, params: Tuple[ParamRef, ...]) -> Iterator[Tuple[cst.BaseExpression, ParamRef]]:
    """The arguments of `call` that land in the parameters `params`."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for param in params:
        if 0 <= param.position < len(positional):
            yield positional[param.position].value, param
            continue
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == param.keyword:
                yield arg.value, param


# ---------------------------------------------------------------- computing




def summarise(module: cst.Module, facts: Callable[[cst.ClassDef], ClassFacts], index: FileIndex) -> ModuleSummary:
    classes = {s.name.value: s for s in statements(module) if isinstance(s, cst.ClassDef)}
    done: Dict[str, ClassSummary] = {}
    for name in classes:
        _summarise_class(name, classes, facts, index, done, ())
    functions = tuple(_summarise_function(f, index) for f in functions_in(module))
    return ModuleSummary(tuple(done[n] for n in classes), functions)


def _summarise_class(name, classes, facts, index: FileIndex, done, visiting) -> Optional[ClassSummary]:
    if name in done:
        return done[name]
    cls = classes.get(name)
    if cls is None or name in visiting:
        return None
    class_facts = facts(cls)
    base_summaries = [_summarise_class(b, classes, facts, index, done, visiting + (name,)) for b in class_facts.bases]
    bases = [b for b in base_summaries if b is not None]
    summary = ClassSummary(
        name=name,
        bases=class_facts.bases,
        stored_params=_constructor_params(cls, bases, index),
        storing_methods=_storing_methods(cls, bases, index),
        closure_methods=_closure_methods(cls, class_facts, bases, index),
        blocking_methods=_blocking_methods(cls, class_facts, index, bases),
    )
    done[name] = summary
    return summary


def _constructor_params(cls: cst.ClassDef, bases: List[ClassSummary], index: FileIndex) -> Tuple[ParamRef, ...]:
    init = method_named(cls, "__init__")
    if init is None:
        if is_dataclass(cls):
            return tuple(ParamRef(i, f, f) for i, f in enumerate(_annotated_fields(cls)))
        return bases[0].stored_params if bases else ()
    return _stored_params(init, receiver_of(init, cls).instance, bases, index)


def _annotated_fields(cls: cst.ClassDef) -> List[str]:
    names = []
    for stmt in statements(cls):
        for small in statements(stmt) if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                names.append(small.target.value)
    return names


def _storing_methods(cls: cst.ClassDef, bases: List[ClassSummary], index: FileIndex):
    found = {}
    for base in reversed(bases):
        found.update(base.storing_methods)
    for method in functions_in(cls):
        me = receiver_of(method, cls).instance
        if me is None or method.name.value == "__init__":
            continue
        stored = _stored_params(method, me, [], index)
        if stored:
            found[method.name.value] = stored
        else:
            found.pop(method.name.value, None)
    return tuple(found.items())


def _param_refs(function: cst.FunctionDef) -> Dict[str, Tuple[int, str]]:
    """Parameter name -> (position after the receiver, keyword)."""
    positional = positional_params(function)[1:]
    refs = {name: (i, name) for i, name in enumerate(positional)}
    refs.update({p.name.value: (-1, p.name.value) for p in function.params.kwonly_params})
    return refs


def _stored_params(function: cst.FunctionDef, me: Optional[str], bases: List[ClassSummary], index: FileIndex) -> Tuple[ParamRef, ...]:
    """Parameters of `function` it stores on `me`: `self.x = p`,
    `self.items.append(p)`, a `**kwargs` entry taken out and stored, or a
    parameter passed on to a base constructor (from this module) that stores it."""
    if me is None:
        return ()
    refs = _param_refs(function)
    star = function.params.star_kwarg
    kwargs = star.name.value if isinstance(star, cst.Param) else None
    aliases: Dict[str, Tuple[int, str]] = dict(refs)
    stored: Dict[Tuple[int, str], str] = {}
    for node in index.nodes(function):
        if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            _follow_alias(node.targets[0].target.value, node.value, aliases, kwargs)
        for store in all_stores(node):
            attribute = _own_attribute(store, me)
            if attribute is None:
                continue
            for value in (v for value in store.values for v in held(value)):
                ref = _parameter_in(value, aliases, kwargs)
                if ref is not None:
                    stored.setdefault(ref, attribute)
        if isinstance(node, cst.Call) and bases:
            _forwarded(node, me, aliases, bases[0], stored)
    return tuple(ParamRef(pos, kw, attr) for (pos, kw), attr in stored.items())


def _parameter_in(value: cst.BaseExpression, aliases, kwargs: Optional[str]) -> Optional[Tuple[int, str]]:
    if isinstance(value, cst.Name):
        return aliases.get(value.value)
    key = _kwargs_entry(value, kwargs)
    return (-1, key) if key is not None else None


def _follow_alias(name: str, value: cst.BaseExpression, aliases, kwargs: Optional[str]) -> None:
    """`p2 = p` and `response = kwargs.pop("response", None)` carry a parameter."""
    if isinstance(value, cst.Name) and value.value in aliases:
        aliases[name] = aliases[value.value]
        return
    key = _kwargs_entry(value, kwargs)
    if key is not None:
        aliases[name] = (-1, key)
    else:
        aliases.pop(name, None)


def _kwargs_entry(value: cst.BaseExpression, kwargs: Optional[str]) -> Optional[str]:
    if kwargs is None:
        return None
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value in ("pop", "get"):
        if dotted(value.func.value) == kwargs and value.args and isinstance(value.args[0].value, cst.SimpleString):
            return value.args[0].value.raw_value  # not evaluated_value: literal_eval leaves cyclic garbage
    if isinstance(value, cst.Subscript) and dotted(value.value) == kwargs:
        index = value.slice[0].slice if len(value.slice) == 1 else None
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            return index.value.raw_value
    return None


def _own_attribute(store, me: str) -> Optional[str]:
    """The attribute of `me` a store puts its value in (`self.x = v`, `self.xs.append(v)`)."""
    holder = store.holder
    if store.attribute is not None:
        return store.attribute if isinstance(holder, cst.Name) and holder.value == me else None
    if isinstance(holder, cst.Attribute) and isinstance(holder.value, cst.Name) and holder.value.value == me:
        return holder.attr.value
    return None


def _forwarded(call: cst.Call, me: str, aliases, base: ClassSummary, stored) -> None:
    """`super().__init__(owner)` or `Base.__init__(self, owner)`."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "__init__"):
        return
    args = list(call.args)
    if isinstance(func.value, cst.Call) and dotted(func.value.func) == "super":
        pass
    elif dotted(func.value) == base.name and args and dotted(args[0].value) == me:
        args = args[1:]
    else:
        return
    for value, param in stored_arguments(call.with_changes(args=args), base.stored_params):
        if isinstance(value, cst.Name) and value.value in aliases:
            stored.setdefault(aliases[value.value], param.attribute)


def _returned(function: cst.FunctionDef, index: FileIndex) -> Iterator[cst.BaseExpression]:
    for node in index.nodes(function):
        if isinstance(node, cst.Return) and node.value is not None:
            yield node.value


def _nested_defs(function: cst.FunctionDef, index: FileIndex) -> Dict[str, cst.FunctionDef]:
    return {n.name.value: n for n in index.nodes(function) if isinstance(n, cst.FunctionDef)}


def _returns_closure_over(function: cst.FunctionDef, name: str, bound: Callable[[cst.Attribute], bool], index: FileIndex) -> bool:
    """Whether a value `function` returns is a lambda, nested function or
    partial that holds `name`, or a bound method `bound` accepts."""
    nested = _nested_defs(function, index)
    for value in _returned(function, index):
        if isinstance(value, cst.Lambda) and free_uses(value, name):
            return True
        if isinstance(value, cst.Name) and value.value in nested and closure_reads(nested[value.value], name):
            return True
        if isinstance(value, cst.Attribute) and dotted(value.value) == name and bound(value):
            return True
        if isinstance(value, cst.Call) and dotted(value.func) in ("partial", "functools.partial"):
            if any(dotted(a.value) == name or (isinstance(a.value, cst.Attribute) and dotted(a.value.value) == name) for a in value.args):
                return True
    return False


def _closure_methods(cls: cst.ClassDef, facts: ClassFacts, bases: List[ClassSummary], index: FileIndex) -> Tuple[str, ...]:
    found = {m for base in bases for m in base.closure_methods}
    for method in functions_in(cls):
        me = receiver_of(method, cls).instance
        if me and _returns_closure_over(method, me, lambda attr: attr.attr.value in facts.methods, index):
            found.add(method.name.value)
    return tuple(sorted(found))


def _blocking_methods(cls: cst.ClassDef, facts: ClassFacts, index: FileIndex, bases: List[ClassSummary]):
    """Methods that block, directly or by calling another method of the class that does."""
    found: Dict[str, str] = {}
    for base in reversed(bases):
        found.update(base.blocking_methods)
    methods = {m.name.value: m for m in functions_in(cls) if receiver_of(m, cls).instance}
    stores = [s for m in methods.values() for n in index.nodes(m) for s in attribute_stores(n)]
    locks = lock_attributes(stores, lambda call: index.resolve(call.func, ()))
    # A join of a thread that keeps the instance alive does not block its finalizer.
    thread = is_thread_class((*facts.bases, *(b for base in bases for b in base.bases)))
    threads: Dict[str, FrozenSet[str]] = {}  # receiver name -> attributes holding a thread built from it
    calls: Dict[str, List[str]] = {}
    for name, method in methods.items():
        me = receiver_of(method, cls).instance
        holders = threads.get(me)
        if holders is None:
            holders = threads[me] = self_holding_attributes(stores, me)
        harmless = partial(joins_thread_holding, me=me, is_thread=thread, holders=holders)
        what, called = _direct_blocking(method, cls, me, (locks, harmless), index)
        if what:
            found[name] = what
        calls[name] = called
    changed = True
    while changed:  # a method that calls a blocking method blocks (bounded: one pass per method at most)
        changed = False
        for name, called in calls.items():
            if name in found:
                continue
            via = next((c for c in called if c in found), None)
            if via is not None:
                found[name] = f"calls self.{via}(), which {found[via]}"
                changed = True
    return tuple(found.items())


def _direct_blocking(method, cls, me, known, index: FileIndex) -> Tuple[Optional[str], List[str]]:
    scopes = (method, cls)
    locks, harmless = known
    called: List[str] = []
    for node in index.nodes(method):
        if isinstance(node, cst.WithItem) and is_lock(node.item, lambda n: n.split(".")[-1] in locks):
            return "takes a lock", called
        if isinstance(node, cst.Call):
            what = blocking_call(node, lambda f: index.resolve(f, scopes))
            if what and not harmless(node):
                return what, called
            func = node.func
            if isinstance(func, cst.Attribute) and dotted(func.value) == me:
                called.append(func.attr.value)
    return None, called


def _summarise_function(function: cst.FunctionDef, index: FileIndex) -> FunctionSummary:
    params = positional_params(function)
    wraps = tuple(i for i, p in enumerate(params) if _returns_closure_over(function, p, lambda attr: False, index))
    return FunctionSummary(function.name.value, wraps, _function_blocking(function, index))


def _function_blocking(function: cst.FunctionDef, index: FileIndex) -> str:
    for node in index.nodes(function):
        if isinstance(node, cst.WithItem) and is_lock(node.item, lambda n: False):
            return "takes a lock"
        if isinstance(node, cst.Call):
            what = blocking_call(node, lambda f: index.resolve(f, (function,)))
            if what:
                return what
    return ""
