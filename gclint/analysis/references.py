"""The per-class reference model: the strong edges an instance makes to
itself, gathered over all of its methods, and whether the class undoes each.

An edge is a statement in a method after which the instance reaches itself:
stored in its own attribute or container (SELF), in an object it holds
(BACK: `self.toolbar.window = self`, `self.factory.clients.append(self)`,
`self._map = Mapping(self)` when Mapping's constructor stores its
argument), or a callable holding it kept by the instance (CALLABLE:
`self.cb = self.tick`) or handed to an object it holds (REGISTERED).

Links undone: an edge the class clears on its own.

A reference from the instance is dropped again when a method that ends the
object's life (`close`, `__exit__`, `shutdown`, `connection_lost`, ...)
rebinds it, or any other method (not an initialiser such as `__init__`)
sets it to None, deletes it, clears the container or takes an entry out
(`_disconnectParser`, `_removeProtocol`); when the callback the edge points
to does so (a one-shot timer resetting its own handle, an override deleting
itself); or when a `finally` of the method that made it does. Also through
a property setter (`self.parent = None` runs the setter that takes self out
of the old parent), by a method a base class of the module defines, and by
the object built from self when its class drops the back link itself (its
`__exit__` sets `self._owner._current = None`). These trust the clean-up to
be called.
"""
from __future__ import annotations

import re
from typing import Dict, FrozenSet, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Set, Tuple

import libcst as cst

from gclint.analysis.bindings import (
    FileIndex,
    free_uses,
    code_text,
    is_name,
    Identities,
    all_stores,
    del_targets,
    functions_in,
    held,
    is_weak_factory,
    owned_by,
    statements,
    strip_subscripts,
)
from gclint.analysis.classes import ClassFacts, class_facts, decorator_names, receiver_of
from gclint.analysis.keeps import Keeper, local_functions
from gclint.analysis.summaries import ModuleSummary, named_class, stored_arguments
from gclint.names import dotted
from gclint.tree import descendants, is_scope, names_in_target

SELF, BACK, CALLABLE, REGISTERED = "self", "back", "callable", "registered"

# Methods that hand a callable to an object which keeps it (event hooks).
# Not `bind` (Tk keeps it in the Tcl interpreter), not `connect*` (asyncio
# uses a protocol factory once, Qt holds bound-method slots weakly).
_REGISTERING = ("on_", "add_", "register", "subscribe", "observe", "listen", "watch")
# Calls that keep a callback only until it has run once (then the loop or
# the future drops it): not a lasting edge.
_ONE_SHOT = frozenset(
    """add_done_callback call_soon call_soon_threadsafe call_later call_at add_timeout add_callback
    spawn_callback callLater callFromThread addCallback addCallbacks addErrback addBoth after after_idle""".split()
)


class Link(NamedTuple):
    """The chain of references an edge closes, formatted only when reported:
    `Selector._map -> Mapping._owner -> Selector`."""

    owner: str
    start: str
    # The object in between: a name ("Mapping._owner"), the stored callable
    # (a node, shown as code), or None when the instance holds itself.
    via: object

    def text(self) -> str:
        if self.via is None:
            return f"{self.owner}.{self.start} -> {self.owner}"
        via = self.via if isinstance(self.via, str) else code_text(self.via, 40)
        return f"{self.owner}.{self.start} -> {via} -> {self.owner}"


class Edge(NamedTuple):
    node: cst.CSTNode
    method: str
    kind: str
    # Where on the instance the reference is kept ("_map", "factory.clients").
    path: str
    link: Link
    undone: bool

    @property
    def chain(self) -> str:
        return self.link.text()


class ClassModel(NamedTuple):
    name: str
    edges: Tuple[Edge, ...]
    # Attribute paths the class undoes: cleared in a lifecycle-ending method,
    # or set to None / deleted / emptied by any method but an initialiser.
    cleared: FrozenSet[str]
    # Attribute paths any method sets to None, deletes or empties.
    cleared_anywhere: FrozenSet[str]

    def live_edges(self) -> Tuple[Edge, ...]:
        return tuple(e for e in self.edges if not e.undone)

    def finalizer_edge(self, cls: cst.ClassDef) -> Optional[Edge]:
        """For a class with `__del__`, the edge its finalizer finding
        (GCL104) names: the first live one. The cycle rules leave it to
        GCL104, so each cycle is reported once."""
        if not any(f.name.value == "__del__" for f in functions_in(cls)):
            return None
        return next(iter(self.live_edges()), None)

    def undoes(self, path: Optional[str]) -> bool:
        """The class undoes the reference at `path` (see `cleared`)."""
        return bool(path) and covers(self.cleared, path)

    def clears(self, path: Optional[str]) -> bool:
        """Some method of the class clears the reference at `path`."""
        return bool(path) and covers(self.cleared_anywhere, path)


class _Undoing(NamedTuple):
    clears: Dict[str, "MethodClears"]
    # Method -> the paths it undoes (see ClassModel.cleared).
    undoing: Dict[str, FrozenSet[str]]


def _undoing(cls: cst.ClassDef, facts: ClassFacts, index: FileIndex) -> _Undoing:
    methods = {f.name.value: f for f in functions_in(cls)}
    receivers = {name: receiver_of(f, cls).instance for name, f in methods.items()}
    clears = _through_setters(
        {n: clears_of(f, receivers[n], facts, index) for n, f in methods.items() if receivers[n]}, methods
    )
    initialisers = _initialisers(methods, receivers)
    undoing = {
        n: c.dropped | c.reset if ends_lifecycle(methods[n]) else c.dropped
        for n, c in clears.items()
        if n not in initialisers
    }
    return _Undoing(clears, undoing)


def undoing_of(cls: cst.ClassDef, index: FileIndex, facts: Optional[ClassFacts] = None) -> _Undoing:
    """What the methods of `cls` undo, computed once per class."""
    return index.per_function("undoing", cls, lambda c: _undoing(c, facts or class_facts(c, index), index))


def _inherited_undoing(cls: cst.ClassDef, index: FileIndex) -> Dict[str, FrozenSet[str]]:
    """What methods of the class's bases in the same module undo
    (`_removeProtocol` of the factory a subclass inherits)."""
    found: Dict[str, FrozenSet[str]] = {}
    todo, seen = list(cls.bases), {id(cls)}
    while todo:
        base = index.class_named(dotted(todo.pop().value))
        if base is None or id(base) in seen:
            continue
        seen.add(id(base))
        for name, paths in undoing_of(base, index).undoing.items():
            found.setdefault(name, paths)
        todo.extend(base.bases)
    return found


def attributes_emptied(index: FileIndex) -> FrozenSet[str]:
    """Own attributes that some class of the module takes entries out of (or
    clears) outside its initialisers: `self._children.remove(task)` in
    Nursery. A link into another object's `x._children` is undone by that
    object's class (matched by attribute name: the object's type is not known)."""
    def compute(module: cst.Module) -> FrozenSet[str]:
        classes = [s for s in statements(module) if type(s) is cst.ClassDef]
        paths = (p for c in classes for ps in undoing_of(c, index).undoing.values() for p in ps)
        return frozenset(p for p in paths if "." not in p)

    return index.per_function("attributes emptied", index.module, compute) if index.module is not None else frozenset()


def build_model(cls: cst.ClassDef, facts: ClassFacts, summary: ModuleSummary, index: FileIndex) -> ClassModel:
    methods = {f.name.value: f for f in functions_in(cls)}
    receivers = {name: receiver_of(f, cls).instance for name, f in methods.items()}
    clears, own = undoing_of(cls, index, facts)
    undoing = {**_inherited_undoing(cls, index), **own}
    undone_by: Dict[str, Set[str]] = {}
    for n, paths in undoing.items():
        for path in paths:
            undone_by.setdefault(path, set()).add(n)
    edges: List[Edge] = []
    for name, method in methods.items():
        me = receivers[name]
        if me is not None:
            scan = _scan(method, me, cls, facts, summary, index)
            # Undone by another method: the class resets the link itself.
            elsewhere = _UndoneElsewhere(undone_by, name)
            edges.extend(_method_edges(scan, elsewhere, clears, index))
    anywhere = frozenset().union(*undoing.values())
    return ClassModel(cls.name.value, tuple(edges), anywhere, frozenset().union(*(c.dropped for c in clears.values())))


class _UndoneElsewhere(NamedTuple):
    """Whether a method other than `method` undoes a path (or a prefix of it)."""

    undone_by: Dict[str, Set[str]]
    method: str

    def covers(self, path: str) -> bool:
        parts = path.split(".")
        for i in range(1, len(parts) + 1):
            by = self.undone_by.get(".".join(parts[:i]))
            if by and (len(by) > 1 or self.method not in by):
                return True
        return False


def _through_setters(clears: Dict[str, "MethodClears"], methods: Dict[str, cst.FunctionDef]) -> Dict[str, "MethodClears"]:
    """`self.parent = None` runs the `parent` property's setter: the method
    also drops what the setter takes out (`self._parent._children.remove(self)`).
    (`methods` maps a property's name to its last definition, the setter.)"""
    setters = {n for n, f in methods.items() if f"{n}.setter" in decorator_names(f) and n in clears}
    found = {}
    for name, cleared in clears.items():
        via = cleared.dropped & setters - {name}
        extra = frozenset().union(*(clears[s].dropped for s in via))
        found[name] = cleared._replace(dropped=cleared.dropped | extra) if extra else cleared
    return found


def _initialisers(methods: Dict[str, cst.FunctionDef], receivers: Dict[str, Optional[str]]) -> FrozenSet[str]:
    """Methods whose `self.x = None` declares an attribute rather than
    undoing a link: `__init__`, `setUp`, `initfp`..., and those `__init__` calls."""
    found = {n for n in methods if _INITIALISING.search(n)}
    init, me = methods.get("__init__"), receivers.get("__init__")
    if init is not None and me is not None:
        found.update(_methods_called(init.body, me))
    return frozenset(found)


_INITIALISING = re.compile(r"^(__(init|new|post_init)__$|_*(init|set_?[uU]p)([_A-Z]|$|[a-z]*$))")


class _Scan(NamedTuple):
    method: cst.FunctionDef
    me: str
    facts: ClassFacts
    summary: ModuleSummary
    keeper: Keeper
    ids: Identities


def _scan(method, me, cls, facts, summary, index: FileIndex) -> _Scan:
    scopes = (method, cls)

    def resolve_here(expr: cst.BaseExpression) -> Optional[str]:
        return index.resolve(expr, scopes)

    def is_weak(value: cst.BaseExpression) -> bool:
        if isinstance(value, cst.Call):
            return is_weak_factory(resolve_here(value.func))
        return isinstance(value, cst.Attribute) and dotted(value.value) == me and value.attr.value in facts.weak_attrs

    keeper = Keeper(me, resolve_here, facts, local_functions(method, index), summary)
    return _Scan(method, me, facts, summary, keeper, Identities(is_weak))


def _method_edges(scan: _Scan, cleared: _UndoneElsewhere, clears: Dict[str, "MethodClears"], index: FileIndex) -> List[Edge]:
    method = scan.method
    finally_cleared = cleared_in_finally(method, scan.me, index)
    found = []
    for node in index.nodes(method):
        for kind, path, link, value in _edges_at(node, scan):
            undone = (
                cleared.covers(path)
                or covers(finally_cleared, path)
                or _callback_clears(value, path, scan, clears)
                or _built_undoes(value, path, scan, index)
            )
            found.append(Edge(node, method.name.value, kind, path, link, undone))
        scan.keeper.observe(node)
        scan.ids.observe(node)
    return found


def _edges_at(node: cst.CSTNode, scan: _Scan):
    ids, me, facts = scan.ids, scan.me, scan.facts
    own = ids.key_of(me)
    for store in all_stores(node):
        holder = ids.key(store.holder)
        if not (holder == own or owned_by(holder, own)):
            continue
        path = _path(holder, own, store.attribute)
        if store.attribute is None and (path in facts.weak_attrs or path.split(".")[0] in facts.weak_attrs):
            continue
        for value in (v for value in store.values for v in held(value)):
            edge = _edge_for(store, value, holder, own, path, scan)
            if edge is not None:
                yield edge
                break
    if isinstance(node, cst.Call):
        yield from _registered(node, scan, own)


def _path(holder: str, own: str, attribute: Optional[str]) -> str:
    rest = holder[len(own) + 1:] if holder != own else ""
    return ".".join(p for p in (rest, attribute or "") if p)


def _edge_for(store, value, holder, own, path, scan: _Scan):
    cls_name = scan.facts.name
    if scan.ids.key(value) == own:
        if store.attribute is not None and holder == own:
            return SELF, path, Link(cls_name, path, None), value
        if store.attribute is None and "." not in path:
            if scan.facts.shared(path):
                return None  # a class-level registry: retention (GCL504), not a self-reference
            return SELF, path, Link(cls_name, path, None), value
        head, _, rest = path.partition(".")
        return BACK, path, Link(cls_name, head, rest or head), value
    if not scan.keeper.keeps(value):
        return None
    built = _built_by_class(value, scan)
    if built is not None:
        return BACK, path, Link(cls_name, path, built), value
    return CALLABLE, path, Link(cls_name, path, value), value


def _built_by_class(value: cst.BaseExpression, scan: _Scan) -> Optional[str]:
    """`Mapping(self)` with Mapping a class of this module whose constructor
    stores that argument: "Mapping._owner"."""
    if not isinstance(value, cst.Call):
        return None
    summary = named_class(scan.summary, dotted(value.func), scan.keeper.resolve(value.func))
    if summary is None:
        return None
    for argument, param in stored_arguments(value, summary.stored_params):
        if scan.keeper.keeps(argument):
            return f"{summary.name}.{param.attribute}"
    return None


def _built_undoes(value: cst.BaseExpression, path: str, scan: _Scan, index: FileIndex) -> bool:
    """`self._reporting = Results(self)` where Results, a class of this
    module, undoes the link itself: its `__exit__` sets
    `self._reporter._reporting = None` (or drops `_reporter`)."""
    summary = named_class(scan.summary, dotted(value.func), scan.keeper.resolve(value.func)) if type(value) is cst.Call else None
    built = index.class_named(summary.name) if summary is not None else None
    if built is None:
        return False
    undoing = undoing_of(built, index).undoing
    cleared = frozenset().union(*undoing.values())
    return any(
        covers(cleared, f"{param.attribute}.{path}")
        for argument, param in stored_arguments(value, summary.stored_params)
        if scan.keeper.keeps(argument)
    )


def _registered(call: cst.Call, scan: _Scan, own: Optional[str]):
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value in _ONE_SHOT:
        return
    if not func.attr.value.startswith(_REGISTERING) or not owned_by(scan.ids.key(func.value), own):
        return
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "command":
            continue
        if scan.keeper.keeps(arg.value) and not scan.keeper.is_target(arg.value):
            path = _path(scan.ids.key(func.value), own, None)
            yield REGISTERED, path, Link(scan.facts.name, path, arg.value), arg.value
            return


def _callback_clears(value: cst.BaseExpression, path: str, scan: _Scan, clears) -> bool:
    """The stored callable is a method of the class that clears the edge
    itself: a one-shot callback resetting its handle, an override deleting
    itself from the instance."""
    for name in _methods_called(value, scan.me):
        found = clears.get(name)
        if found is not None and covers(found.dropped, path):
            return True
    return False


def _methods_called(value: cst.BaseExpression, me: str) -> List[str]:
    """`self.m`, `partial(self.m, ...)`, `lambda: self.m()`: the methods the callable runs."""
    found = []
    for node in (value, *descendants(value)):
        if type(node) is cst.Attribute and type(node.value) is cst.Name and node.value.value == me:
            found.append(node.attr.value)
    return found


# --- links undone

# The word must end the name or be followed by `_` or a capital:
# `close`, `close_all`, `connectionLost`; not `closed`, `freeze`.
_LIFECYCLE_ENDING = re.compile(
    r"^_*(?i:a?close|exit|aexit|shutdown|stop|release|dispose|cancel|connection_?lost|tear_?down|clean_?up"
    r"|commit|rollback|finish|detach|disconnect|unregister|reset|terminate|destroy|abort|unlink|quit|free|dismiss"
    r"|on_?close|handle_?close|remove)(_|[A-Z]|$)"
)
_EMPTYING_METHODS = frozenset({"clear", "pop", "popitem", "popleft", "remove", "discard", "difference_update"})


def ends_lifecycle(function: cst.FunctionDef) -> bool:
    return bool(_LIFECYCLE_ENDING.search(function.name.value))


def self_paths(function: cst.FunctionDef, me: str, index: FileIndex) -> Dict[str, str]:
    """Locals that name an attribute of `me`: `conn` after `self.conn = conn`
    or `conn = self.conn`."""
    paths: Dict[str, str] = {}
    for node in index.nodes(function):
        if type(node) is not cst.Assign:
            continue
        targets = [t.target for t in node.targets]
        names = [t.value for t in targets if type(t) is cst.Name]
        attributes = [p for p in (_relative(t, me, {}) for t in targets if type(t) is cst.Attribute) if p]
        if attributes:
            # `self.conn = conn`, `self._subject = s = make()`: the local names the attribute.
            for name in names + ([node.value.value] if type(node.value) is cst.Name else []):
                paths.setdefault(name, attributes[0])
        elif names and _relative(node.value, me, {}):
            for name in names:
                paths[name] = _relative(node.value, me, {})
    return paths


def _relative(expr: cst.BaseExpression, me: str, paths: Dict[str, str]) -> Optional[str]:
    """`self.a.b` -> "a.b" (also through a local in `paths`)."""
    text = dotted(strip_subscripts(expr))
    if text is None:
        return None
    root, _, rest = text.partition(".")
    if root == me:
        return rest or None
    if root in paths:
        return f"{paths[root]}.{rest}" if rest else paths[root]
    return None


class MethodClears(NamedTuple):
    """Attribute paths of self a method drops (set to None, deleted, emptied,
    taken from) and the ones it resets to a fresh literal (`= []`, `= 0`):
    a rebinding to another object (`self.get = self._emit`) undoes nothing."""

    dropped: FrozenSet[str]
    reset: FrozenSet[str]


def clears_of(function: cst.FunctionDef, me: str, facts: ClassFacts, index: FileIndex) -> MethodClears:
    paths = self_paths(function, me, index)
    dropped, reset = set(), set()
    for node in index.nodes(function):
        if type(node) is cst.Assign:
            paths_here = [p for t in node.targets for p in _paths_of_target(t.target, me, paths)]
            if dotted(node.value) == "None":
                dropped.update(paths_here)
            elif type(node.value) in _FRESH_LITERALS:
                reset.update(paths_here)
            elif not _mentions_self(node.value, me, facts):
                # Another object's attribute pointed elsewhere (`self.conn.txn =
                # self._previous`): that object no longer refers to self.
                dropped.update(p for p in paths_here if "." in p)
        else:
            dropped.update(_cleared((node,), me, paths, False))
    return MethodClears(frozenset(dropped), frozenset(reset))


def _mentions_self(value: cst.BaseExpression, me: str, facts: ClassFacts) -> bool:
    """`self`, a bound method of self, or a lambda using self (a crude test
    that needs no flow: what a reset must not be)."""
    if dotted(value) == me:
        return True
    if type(value) is cst.Attribute and dotted(value.value) == me:
        return value.attr.value in facts.methods
    return type(value) is cst.Lambda and free_uses(value, me)


_FRESH_LITERALS = (cst.List, cst.Dict, cst.Set, cst.Tuple, cst.Integer, cst.Float, cst.SimpleString)


def _cleared(nodes: Iterable[cst.CSTNode], me: str, paths: Dict[str, str], any_rebinding: bool) -> Iterator[str]:
    for node in nodes:
        kind = type(node)
        if kind is cst.Assign:
            if any_rebinding or dotted(node.value) == "None":
                for target in node.targets:
                    yield from _paths_of_target(target.target, me, paths)
        elif kind is cst.Del:
            for target in del_targets(node.target):
                path = _relative(target, me, paths)
                if path:
                    yield path
        elif kind is cst.Call and type(node.func) is cst.Attribute and node.func.attr.value in _EMPTYING_METHODS:
            path = _relative(node.func.value, me, paths)
            if path:
                yield path


def _paths_of_target(target: cst.BaseExpression, me: str, paths: Dict[str, str]) -> Iterator[str]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _paths_of_target(element.value, me, paths)
        return
    if isinstance(target, cst.Attribute):
        path = _relative(target, me, paths)
        if path:
            yield path


def cleared_in_finally(function: cst.FunctionDef, me: str, index: FileIndex) -> FrozenSet[str]:
    """Attribute paths of self a `finally` of `function` sets to None, deletes or empties."""
    found: Set[str] = set()
    for node in index.nodes(function):
        if type(node) is cst.Finally:
            found.update(_cleared(descendants(node.body, stop=is_scope), me, {}, any_rebinding=False))
    return frozenset(found)


def covers(cleared: FrozenSet[str], path: str) -> bool:
    """Clearing `a` undoes `a.b` too; clearing `a.b` undoes the link stored at `a.b`."""
    parts = path.split(".")
    return any(".".join(parts[:i]) in cleared for i in range(1, len(parts) + 1))


# --- locals cleared later


def cleared_after(function: cst.CSTNode, name: str, binding: cst.CSTNode, index: FileIndex, any_rebinding: bool = False) -> bool:
    """Whether `function`, after `binding` in source order, deletes `name`,
    sets it to None, calls `name.clear()`, walks it to None (or, with
    `any_rebinding`, rebinds it at all): the reference the name held is
    dropped. The last drop of every name is found in one pass per function."""
    last = index.per_function("last drops" if any_rebinding else "last clears", function, lambda f: _last_drops(index.nodes(f), any_rebinding))
    if name not in last:
        return False
    order = index.per_function("source order", function, lambda f: {id(n): i for i, n in enumerate(index.nodes(f))})
    at = order.get(id(binding))
    return at is not None and last[name] > at


def _last_drops(nodes: Sequence[cst.CSTNode], any_rebinding: bool) -> Dict[str, int]:
    """Name -> position of the last node that drops it."""
    found: Dict[str, int] = {}
    for position, node in enumerate(nodes):
        for name in dropped_names(node, any_rebinding):
            found[name] = position
    return found


def dropped_names(node: cst.CSTNode, any_rebinding: bool = False) -> Iterator[str]:
    """Names whose reference `node` drops (see `cleared_after`)."""
    kind = type(node)
    if kind is cst.Call:
        func = node.func
        # `errors.clear()` empties a container that held the reference.
        if type(func) is cst.Attribute and func.attr.value == "clear" and type(func.value) is cst.Name:
            yield func.value.value
    elif kind is cst.Del:
        yield from names_in_target(node.target)
    elif kind is cst.Assign:
        if any_rebinding or is_name(node.value, "None"):
            for target in node.targets:
                yield from names_in_target(target.target)
    elif kind is cst.NamedExpr:
        if any_rebinding:
            yield from names_in_target(node.target)
    elif kind is cst.While:
        test = node.test
        walked = test.left if type(test) is cst.Comparison else test
        if type(walked) is cst.Name and _walks_to_none(node, walked.value):
            yield walked.value


def _walks_to_none(loop: cst.While, name: str) -> bool:
    """`while tb is not None: tb = tb.tb_next`: the name is None (or false)
    once the loop ends."""
    test = loop.test
    tested = is_name(test, name) or (
        type(test) is cst.Comparison
        and is_name(test.left, name)
        and len(test.comparisons) == 1
        and type(test.comparisons[0].operator) is cst.IsNot
        and is_name(test.comparisons[0].comparator, "None")
    )
    if not tested or loop.orelse is not None:
        return False
    body = list(descendants(loop.body, stop=is_scope))
    # A `break` can leave the loop with the name still set.
    return not any(type(node) is cst.Break for node in body) and any(
        type(node) is cst.Assign
        and any(is_name(t.target, name) for t in node.targets)
        and type(node.value) is cst.Attribute
        and is_name(node.value.value, name)
        for node in body
    )


