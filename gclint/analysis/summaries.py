"""What the classes and functions of one module do with what they are
given, as small plain data: which constructor parameters end up on the
instance (directly or through a base constructor), which methods store
their arguments, return a closure over self, block or return a fresh
resource, which functions wrap their callable argument or return a fresh
resource, and what the module imports.

A summary depends on its module's text only: names of other modules stay
as the module spells them (`bases`, `forwards`, `returns_call`, `imports`)
and gclint/project.py resolves them when another module reads the summary.
Summaries name parameters by position and keyword, never by libcst node,
so they can be cached (gclint/cache.py) and read for another module.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Callable, Dict, FrozenSet, Iterator, List, Mapping, NamedTuple, Optional, Tuple

import libcst as cst

from gclint.analysis.bindings import FileIndex, is_weak_factory, all_stores, attribute_stores, closure_reads, free_uses, functions_in, held, statements
from gclint.analysis.blocking import (
    blocking_call,
    is_lock,
    is_thread_class,
    joins_thread_holding,
    lock_attributes,
    self_holding_attributes,
)
from gclint.analysis.classes import ClassFacts, is_dataclass, method_named, positional_params, receiver_of
from gclint.analysis.resources import RELEASE_METHODS, WAIT_METHODS
from gclint.names import dotted
from gclint.tree import descendants, is_scope


_PARTIALS = ("functools.partial", "functools.partialmethod", "types.MethodType")
# Bases that contribute no method and no constructor behaviour.
TRIVIAL_BASES = frozenset({"object", "abc.ABC", "typing.Generic", "typing.Protocol"})
_RELEASING = RELEASE_METHODS | WAIT_METHODS | {"kill"}


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
    # (method, kind of resource it returns fresh)
    factory_methods: Tuple[Tuple[str, str], ...] = ()
    # Methods the class body defines itself (they hide a base's).
    methods: Tuple[str, ...] = ()
    has_init: bool = False
    # `super().__init__(p)`: (position, keyword) of our parameter p, and
    # (position, keyword) of the base constructor's argument it is passed as
    # (position -1: passed by keyword). Resolved against the first base.
    forwards: Tuple[Tuple[int, str, int, str], ...] = ()
    # Attributes of self some method may close or hand over (a base's count).
    releases: Tuple[str, ...] = ()
    # Whether every base is known (trivial, or summarised with known bases).
    bases_known: bool = True
    # Methods that are factories by extend-resource-factories (`module.Class.method`).
    configured: Tuple[str, ...] = ()

    def stores(self, method: str) -> Tuple[ParamRef, ...]:
        return next((params for name, params in self.storing_methods if name == method), ())

    def blocks(self, method: str) -> Optional[str]:
        return next((what for name, what in self.blocking_methods if name == method), None)

    def factory(self, method: str) -> Optional[str]:
        return next((kind for name, kind in self.factory_methods if name == method), None)


@dataclass(frozen=True)
class FunctionSummary:
    name: str
    # Positions of parameters the returned closure (or partial) holds.
    wraps: Tuple[int, ...] = ()
    blocking: str = ""
    # Kind of resource it returns fresh ("" when none is known here).
    resource: str = ""
    # The imported callee whose result it returns, as this module names it
    # (another module's summary may say it is a factory).
    returns_call: str = ""


@dataclass(frozen=True)
class ModuleSummary:
    classes: Tuple[ClassSummary, ...] = ()
    functions: Tuple[FunctionSummary, ...] = ()
    # (name bound at module level, what it imports: "pkg.mod.Cls", ".parser.Parser")
    imports: Tuple[Tuple[str, str], ...] = ()
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
        return ModuleSummary(tuple(classes.values()), tuple(functions.values()), self.imports)

    def imported(self, name: str) -> Optional[str]:
        """What a module-level name of this module imports, if it is an import."""
        table = self._index.get("imports")
        if table is None:
            table = self._index["imports"] = dict(self.imports)
        return table.get(name)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "classes": [asdict(c) for c in self.classes],
            "functions": [asdict(f) for f in self.functions],
            "imports": [list(i) for i in self.imports],
        }

    def digest(self) -> str:
        """A short hash of what the summary says (a cache key part of its importers)."""
        found = self._index.get("digest")
        if found is None:
            text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
            found = self._index["digest"] = hashlib.sha256(text.encode()).hexdigest()[:32]
        return found

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ModuleSummary":
        """A summary read back (from the cache); ValueError when the data
        could not be one gclint wrote."""
        try:
            classes = tuple(_class_from_dict(c) for c in data["classes"])
            functions = tuple(_function_from_dict(f) for f in data["functions"])
            imports = tuple((_text(b), _text(t)) for b, t in data["imports"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a module summary: {exc}") from None
        return cls(classes, functions, imports)


def _text(value: Any) -> str:
    if type(value) is not str:
        raise ValueError(f"{value!r} is not a string")
    return value


def _number(value: Any) -> int:
    if type(value) is not int:
        raise ValueError(f"{value!r} is not an integer")
    return value


def _texts(values: Any) -> Tuple[str, ...]:
    return tuple(_text(v) for v in values)


def _param(data: Any) -> ParamRef:
    position, keyword, attribute = data
    return ParamRef(_number(position), _text(keyword), _text(attribute))


def _pairs(values: Any) -> Tuple[Tuple[str, str], ...]:
    return tuple((_text(a), _text(b)) for a, b in values)


def _class_from_dict(data: Mapping[str, Any]) -> ClassSummary:
    return ClassSummary(
        name=_text(data["name"]),
        bases=_texts(data["bases"]),
        stored_params=tuple(_param(p) for p in data["stored_params"]),
        storing_methods=tuple((_text(m), tuple(_param(p) for p in ps)) for m, ps in data["storing_methods"]),
        closure_methods=_texts(data["closure_methods"]),
        blocking_methods=_pairs(data["blocking_methods"]),
        factory_methods=_pairs(data["factory_methods"]),
        methods=_texts(data["methods"]),
        has_init=bool(data["has_init"]),
        forwards=tuple((_number(a), _text(b), _number(c), _text(d)) for a, b, c, d in data["forwards"]),
        releases=_texts(data["releases"]),
        bases_known=bool(data["bases_known"]),
        configured=_texts(data.get("configured", ())),
    )


def _function_from_dict(data: Mapping[str, Any]) -> FunctionSummary:
    return FunctionSummary(
        name=_text(data["name"]),
        wraps=tuple(_number(w) for w in data["wraps"]),
        blocking=_text(data["blocking"]),
        resource=_text(data["resource"]),
        returns_call=_text(data["returns_call"]),
    )


def imported_factory_kind(summary: ModuleSummary, spelled: Optional[str], target: Optional[str] = None) -> Optional[str]:
    """The kind of resource an imported function (`open_log`, `helpers.open_log`)
    returns fresh, by its module's summary; None when unknown. `target` is
    what the name imports where it is used (see named_function)."""
    if target and target != spelled and callable(getattr(summary, "imported_factory_kind", None)):
        return summary.imported_factory_kind(target)  # type: ignore[attr-defined]
    function = named_function(summary, spelled, target)
    return function.resource or None if function is not None else None


def named_class(summary: ModuleSummary, spelled: Optional[str], target: Optional[str]) -> Optional[ClassSummary]:
    """The class `spelled` names where it is used. `target` is what the
    name's scope-aware resolution says it imports (".helpers.Keeper"): an
    import inside a function is followed, and shadows a module-level one.
    A target equal to the spelled name, or None, is no import."""
    if target and target != spelled and callable(getattr(summary, "imported_cls", None)):
        return summary.imported_cls(target)  # type: ignore[attr-defined]
    return summary.cls(spelled)


def named_function(summary: ModuleSummary, spelled: Optional[str], target: Optional[str]) -> Optional[FunctionSummary]:
    """As named_class, for a function."""
    if target and target != spelled and callable(getattr(summary, "imported_function", None)):
        return summary.imported_function(target)  # type: ignore[attr-defined]
    return summary.function(spelled)


def inherited_factory_kind(summary: ModuleSummary, cls_name: str, method: str) -> Optional[str]:
    """The kind of resource `method`, inherited by `cls_name` from a base
    (in another module too) or named in extend-resource-factories, returns
    fresh; None when unknown (a method defined here is the in-file analysis's)."""
    cls = summary.cls(cls_name)
    if cls is None or (method in cls.methods and method not in cls.configured):
        return None
    return cls.factory(method)


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




def summarise(
    module: cst.Module, facts: Callable[[cst.ClassDef], ClassFacts], index: FileIndex, factories: Mapping[str, str] = {}
) -> ModuleSummary:
    """The module's whole summary; `factories` is the resource factory table
    (dotted name -> kind) that "returns a fresh resource" starts from."""
    return LocalSummaries(module, facts, index, factories).complete()


class LocalSummaries:
    """A module's own summary, each class and function summarised the first
    time it is asked about: the file's rules ask about a few of its names,
    and its importers about the names they import, rarely about all."""

    def __init__(
        self, module: cst.Module, facts: Callable[[cst.ClassDef], ClassFacts], index: FileIndex, factories: Mapping[str, str] = {}
    ) -> None:
        self._class_nodes = {s.name.value: s for s in statements(module) if isinstance(s, cst.ClassDef)}
        self._function_nodes = {f.name.value: f for f in functions_in(module)}
        self._module, self._facts = module, facts
        self._imports = {k: v for k, v in index.names.bindings(module).items() if isinstance(v, str)}
        self._base = _Shared(index, factories, {}, self._imports)
        self._shared: Optional[_Shared] = None
        self._classes: Dict[str, ClassSummary] = {}
        self._functions: Dict[str, FunctionSummary] = {}
        self._complete: Optional[ModuleSummary] = None

    def cls(self, name: Optional[str]) -> Optional[ClassSummary]:
        if not name or name not in self._class_nodes:
            return None
        return _summarise_class(name, self._class_nodes, self._facts, self.shared(), self._classes, ())

    def function(self, name: Optional[str]) -> Optional[FunctionSummary]:
        node = self._function_nodes.get(name) if name else None
        if node is None:
            return None
        if name not in self._functions:
            self._functions[name] = _summarise_function(node, self._base.index, self.shared().fresh)
        return self._functions[name]

    def imported(self, name: str) -> Optional[str]:
        return self._imports.get(name)

    def shared(self) -> _Shared:
        # Module-level factories reach a fixed point together: made once, when first needed.
        if self._shared is None:
            self._shared = self._base._replace(fresh=_fresh_functions(self._module, self._base))
        return self._shared

    def complete(self) -> ModuleSummary:
        """Every class and function: what the cache keeps for any importer."""
        if self._complete is None:
            classes = tuple(c for c in map(self.cls, self._class_nodes) if c is not None)
            functions = tuple(_summarise_function(f, self._base.index, self.shared().fresh) for f in functions_in(self._module))
            self._complete = ModuleSummary(classes, functions, tuple(sorted(self._imports.items())))
        return self._complete

    # The rest of ModuleSummary's interface, on the whole summary.
    @property
    def classes(self) -> Tuple[ClassSummary, ...]:
        return self.complete().classes

    @property
    def functions(self) -> Tuple[FunctionSummary, ...]:
        return self.complete().functions

    def to_dict(self) -> Dict[str, Any]:
        return self.complete().to_dict()

    def digest(self) -> str:
        return self.complete().digest()

    def __eq__(self, other: object) -> bool:
        return self.complete() == (other.complete() if isinstance(other, LocalSummaries) else other)

    __hash__ = None  # type: ignore[assignment]


class _Shared(NamedTuple):
    index: FileIndex
    factories: Mapping[str, str]
    # Module-level function -> (kind it returns fresh, imported callee it returns)
    fresh: Mapping[str, Tuple[str, str]]
    # Module-level names bound by an import -> what they import.
    imports: Mapping[str, str]


def _summarise_class(name, classes, facts, shared: _Shared, done, visiting) -> Optional[ClassSummary]:
    if name in done:
        return done[name]
    cls = classes.get(name)
    if cls is None or name in visiting:
        return None
    index = shared.index
    class_facts = facts(cls)
    base_summaries = [_summarise_class(b, classes, facts, shared, done, visiting + (name,)) for b in class_facts.bases]
    bases = [b for b in base_summaries if b is not None]
    init = method_named(cls, "__init__")
    summary = ClassSummary(
        name=name,
        bases=class_facts.bases,
        stored_params=_constructor_params(cls, bases, index),
        storing_methods=_storing_methods(cls, bases, index),
        closure_methods=_closure_methods(cls, class_facts, bases, index),
        blocking_methods=_blocking_methods(cls, class_facts, index, bases),
        factory_methods=_factory_methods(cls, bases, shared),
        methods=tuple(f.name.value for f in functions_in(cls)),
        has_init=init is not None or is_dataclass(cls),
        forwards=_forwards(init, cls) if init is not None else (),
        releases=_releases(cls, index, bases),
        bases_known=all(_trivial(b, index) or (s is not None and s.bases_known) for b, s in zip(cls.bases, base_summaries)),
    )
    done[name] = summary
    return summary


def _trivial(base: cst.Arg, index: FileIndex) -> bool:
    return index.resolve(base.value, ()) in TRIVIAL_BASES


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
    unconditional = {id(s) for line in statements(function) for s in statements(line)}
    for node in index.nodes(function):
        if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            name = node.targets[0].target.value
            # `if isinstance(target, str): target = load(target)`: on the other path it is still the argument.
            if id(node) in unconditional or name not in refs or _weakens(node.value, index, function):
                _follow_alias(name, node.value, aliases, kwargs)
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


def _weakens(value: cst.BaseExpression, index: FileIndex, function: cst.FunctionDef) -> bool:
    return isinstance(value, cst.Call) and is_weak_factory(index.resolve(value.func, (function,)))


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


def _summarise_function(function: cst.FunctionDef, index: FileIndex, fresh: Mapping[str, Tuple[str, str]]) -> FunctionSummary:
    params = positional_params(function)
    wraps = tuple(i for i, p in enumerate(params) if _returns_closure_over(function, p, lambda attr: False, index))
    resource, returns_call = fresh.get(function.name.value, ("", ""))
    return FunctionSummary(function.name.value, wraps, _function_blocking(function, index), resource, returns_call)


def _function_blocking(function: cst.FunctionDef, index: FileIndex) -> str:
    for node in index.nodes(function):
        if isinstance(node, cst.WithItem) and is_lock(node.item, lambda n: False):
            return "takes a lock"
        if isinstance(node, cst.Call):
            what = blocking_call(node, lambda f: index.resolve(f, (function,)))
            if what:
                return what
    return ""


# ------------------------------------------------- what a class hands on


def _forwards(init: cst.FunctionDef, cls: cst.ClassDef) -> Tuple[Tuple[int, str, int, str], ...]:
    """Our parameters passed on to a base constructor: `super().__init__(p)`
    or `Base.__init__(self, p)` (the first base: the one whose constructor
    `super()` reaches in a plain hierarchy)."""
    me = receiver_of(init, cls).instance
    refs = _param_refs(init)
    found = []
    for node in descendants(init.body, stop=is_scope):
        if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "__init__"):
            continue
        args = list(node.args)
        owner = node.func.value
        if not (isinstance(owner, cst.Call) and dotted(owner.func) == "super"):
            if not (args and me is not None and dotted(args[0].value) == me):
                continue
            args = args[1:]
        positional = 0
        for arg in args:
            if arg.star:
                break
            ref = refs.get(arg.value.value) if isinstance(arg.value, cst.Name) else None
            if ref is not None:
                keyword = arg.keyword.value if arg.keyword is not None else ""
                found.append((ref[0], ref[1], -1 if keyword else positional, keyword))
            positional += arg.keyword is None
    return tuple(found)


def _releases(cls: cst.ClassDef, index: FileIndex, bases: List[ClassSummary]) -> Tuple[str, ...]:
    """Attributes of self a method may close or hand over: `self.x.close()`,
    `self.x` passed, returned, yielded, aliased or put in a container."""
    found = {a for base in bases for a in base.releases}
    for method in functions_in(cls):
        me = receiver_of(method, cls).instance
        if me is None:
            continue
        for node in index.nodes(method):
            found.update(_released_by(node, me))
    return tuple(sorted(found))


def _released_by(node: cst.CSTNode, me: str) -> Iterator[str]:
    kind = type(node)
    if kind not in _HANDING:
        return
    if kind is cst.Call:
        func = node.func
        if type(func) is cst.Attribute and func.attr.value in _RELEASING:
            attr = _own_attribute_of(func.value, me)
            if attr:
                yield attr
        return
    if kind in (cst.Tuple, cst.List, cst.Set):
        handed = [e.value for e in node.elements]
    else:
        handed = [getattr(node, _HANDING[kind])]
    for value in handed:
        attr = _own_attribute_of(value, me) if value is not None else None
        if attr:
            yield attr


# Node types through which `self.x` may be closed or handed over, and the field that holds it.
_HANDING = {
    cst.Call: "", cst.Arg: "value", cst.Return: "value", cst.Yield: "value", cst.WithItem: "item",
    cst.Assign: "value", cst.Tuple: "", cst.List: "", cst.Set: "",
}


def _own_attribute_of(value: cst.BaseExpression, me: str) -> Optional[str]:
    if type(value) is cst.Attribute and type(value.value) is cst.Name and value.value.value == me:
        return value.attr.value
    return None


# ----------------------------------------------- fresh resources returned


def _fresh_functions(module: cst.Module, shared: _Shared) -> Dict[str, Tuple[str, str]]:
    """{function: (kind, imported callee)} for module-level functions that
    return a fresh resource, through each other to a fixed point."""
    returned = {f.name.value: (f, _returned_calls(f, shared.index)) for f in functions_in(module)}
    found: Dict[str, Tuple[str, str]] = {}
    for _ in range(len(returned) + 1):
        changed = False
        for name, (function, calls) in returned.items():
            result = _first_resource(calls, (function,), shared._replace(fresh=found), {}, None)
            if result != found.get(name, ("", "")):
                found[name] = result
                changed = True
        if not changed:
            break
    return {k: v for k, v in found.items() if v != ("", "")}


def _factory_methods(cls: cst.ClassDef, bases: List[ClassSummary], shared: _Shared) -> Tuple[Tuple[str, str], ...]:
    """Methods that return a fresh resource (made here, by another such
    method of the class, or by a factory function of the module)."""
    methods = {}
    for method in functions_in(cls):
        calls = _returned_calls(method, shared.index)
        if calls:
            methods[method.name.value] = (method, receiver_of(method, cls).instance, calls)
    found: Dict[str, str] = {}
    for base in reversed(bases):
        found.update(base.factory_methods)
    for method in functions_in(cls):
        found.pop(method.name.value, None)
    for _ in range(len(methods) + 1):
        changed = False
        for name, (method, me, calls) in methods.items():
            kind, _ = _first_resource(calls, (method, cls), shared, found if me else {}, me)
            if kind and found.get(name) != kind:
                found[name] = kind
                changed = True
        if not changed:
            break
    return tuple(sorted(found.items()))


def _returned_calls(function: cst.FunctionDef, index: FileIndex) -> List[cst.Call]:
    """Calls whose result `function` returns, made there and kept nowhere else."""
    made: Dict[str, cst.Call] = {}
    kept: set = set()
    returned: List[cst.BaseExpression] = []
    for node in index.nodes(function):
        kind = type(node)
        if kind is cst.Assign:
            value = node.value
            if type(value) is cst.Call and len(node.targets) == 1 and type(node.targets[0].target) is cst.Name:
                made[node.targets[0].target.value] = value
            elif type(value) is cst.Name:
                kept.add(value.value)
        elif kind is cst.Arg and type(node.value) is cst.Name:
            kept.add(node.value.value)  # handed to another call before it is returned: not known fresh
        elif kind is cst.Return and node.value is not None:
            returned.append(node.value)
    calls = []
    for value in returned:
        if type(value) is cst.Name and value.value in made and value.value not in kept:
            value = made[value.value]
        if type(value) is cst.Call:
            calls.append(value)
    return calls


def _first_resource(calls: List[cst.Call], scopes, shared: _Shared, own, me: Optional[str]) -> Tuple[str, str]:
    for call in calls:
        result = _call_resource(call, scopes, shared, own, me)
        if result != ("", ""):
            return result
    return "", ""


def _call_resource(call: cst.Call, scopes, shared: _Shared, own, me) -> Tuple[str, str]:
    func = call.func
    if me is not None and type(func) is cst.Attribute and dotted(func.value) == me:
        return own.get(func.attr.value, ""), ""
    if type(func) is cst.Name and func.value in shared.fresh and not any(func.value in shared.index.names.bindings(s) for s in scopes):
        return shared.fresh[func.value]
    name = shared.index.resolve(func, scopes)
    if not name:
        return "", ""
    if name in shared.factories and not _borrows(call):
        return shared.factories[name], ""
    spelled = dotted(func)
    if spelled and spelled.split(".")[0] in shared.imports:
        return "", name  # an imported callee: its own module's summary may know
    return "", ""


def _borrows(call: cst.Call) -> bool:
    """`open(fd, closefd=False)` owns nothing."""
    return any(a.keyword is not None and a.keyword.value == "closefd" and dotted(a.value) == "False" for a in call.args)
