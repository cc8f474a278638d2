"""The per-class reference model: the strong edges an instance makes to
itself, gathered over all of its methods, and whether the class undoes each.

An edge is a statement in a method after which the instance reaches itself:
stored in its own attribute or container (SELF), in an object it holds
(BACK: `self.toolbar.window = self`, `self.factory.clients.append(self)`,
`self._map = Mapping(self)` when Mapping's constructor stores its
argument), or a callable holding it kept by the instance (CALLABLE:
`self.cb = self.tick`) or handed to an object it holds (REGISTERED).
"""
from __future__ import annotations

from typing import Callable, FrozenSet, List, NamedTuple, Optional, Tuple

import libcst as cst

from gclint.analysis.aliases import Identities, owned_by
from gclint.analysis.classes import ClassFacts
from gclint.analysis.keeps import PARTIALS, Keeper, local_functions
from gclint.analysis.receivers import receiver_of
from gclint.analysis.stores import all_stores, functions_in, held
from gclint.analysis.summaries import ModuleSummary, stored_arguments
from gclint.analysis.undone import cleared_in, cleared_in_finally, covers, ends_lifecycle
from gclint.analysis.weak import is_weak_factory
from gclint.names import dotted
from gclint.tree import descendants, is_scope

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


class Edge(NamedTuple):
    node: cst.CSTNode
    method: str
    kind: str
    # Where on the instance the reference is kept ("_map", "factory.clients").
    path: str
    chain: str
    undone: bool


class ClassModel(NamedTuple):
    name: str
    edges: Tuple[Edge, ...]
    # Attribute paths a lifecycle-ending method of the class clears.
    cleared: FrozenSet[str]
    # Attribute paths any method sets to None, deletes or empties.
    cleared_anywhere: FrozenSet[str]

    def live_edges(self) -> Tuple[Edge, ...]:
        return tuple(e for e in self.edges if not e.undone)

    def undoes(self, path: Optional[str]) -> bool:
        """A lifecycle-ending method of the class clears the reference at `path`."""
        return bool(path) and covers(self.cleared, path)

    def clears(self, path: Optional[str]) -> bool:
        """Some method of the class clears the reference at `path`."""
        return bool(path) and covers(self.cleared_anywhere, path)


def build_model(
    cls: cst.ClassDef,
    facts: ClassFacts,
    summary: ModuleSummary,
    resolve: Callable[[cst.BaseExpression, Tuple[cst.CSTNode, ...]], Optional[str]],
) -> ClassModel:
    methods = {f.name.value: f for f in functions_in(cls)}
    receivers = {name: receiver_of(f, cls).instance for name, f in methods.items()}
    cleared = frozenset().union(
        *(cleared_in(f, receivers[n]) for n, f in methods.items() if receivers[n] and ends_lifecycle(f))
    )
    anywhere = frozenset().union(
        *(cleared_in(f, receivers[n], any_rebinding=False) for n, f in methods.items() if receivers[n])
    )
    edges: List[Edge] = []
    for name, method in methods.items():
        me = receivers[name]
        if me is not None:
            edges.extend(_method_edges(method, me, cls, facts, summary, resolve, cleared, methods))
    return ClassModel(cls.name.value, tuple(edges), cleared, anywhere)


class _Scan(NamedTuple):
    method: cst.FunctionDef
    me: str
    facts: ClassFacts
    summary: ModuleSummary
    keeper: Keeper
    ids: Identities


def _method_edges(method, me, cls, facts, summary, resolve, cleared, methods) -> List[Edge]:
    scopes = (method, cls)

    def resolve_here(expr: cst.BaseExpression) -> Optional[str]:
        return resolve(expr, scopes)

    def is_weak(value: cst.BaseExpression) -> bool:
        if isinstance(value, cst.Call):
            return is_weak_factory(resolve_here(value.func))
        return isinstance(value, cst.Attribute) and dotted(value.value) == me and value.attr.value in facts.weak_attrs

    keeper = Keeper(me, resolve_here, facts, local_functions(method), summary)
    scan = _Scan(method, me, facts, summary, keeper, Identities(is_weak))
    finally_cleared = cleared_in_finally(method, me)
    found = []
    for node in descendants(method.body, stop=is_scope):
        for kind, path, chain, value in _edges_at(node, scan):
            undone = covers(cleared, path) or covers(finally_cleared, path) or _callback_clears(value, path, scan, methods)
            found.append(Edge(node, method.name.value, kind, path, chain, undone))
        keeper.observe(node)
        scan.ids.observe(node)
    return found


def _edges_at(node: cst.CSTNode, scan: _Scan):
    ids, me, facts = scan.ids, scan.me, scan.facts
    own = ids.key(cst.Name(me))
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
            return SELF, path, f"{cls_name}.{path} -> {cls_name}", value
        if store.attribute is None and "." not in path:
            if scan.facts.shared(path):
                return None  # a class-level registry: retention (GCL504), not a self-reference
            return SELF, path, f"{cls_name}.{path} -> {cls_name}", value
        head, _, rest = path.partition(".")
        return BACK, path, f"{cls_name}.{head} -> {rest or head} -> {cls_name}", value
    if not scan.keeper.keeps(value):
        return None
    built = _built_by_class(value, scan)
    if built is not None:
        return BACK, path, f"{cls_name}.{path} -> {built} -> {cls_name}", value
    return CALLABLE, path, f"{cls_name}.{path} -> {_short(value)} -> {cls_name}", value


def _built_by_class(value: cst.BaseExpression, scan: _Scan) -> Optional[str]:
    """`Mapping(self)` with Mapping a class of this module whose constructor
    stores that argument: "Mapping._owner"."""
    if not isinstance(value, cst.Call):
        return None
    summary = scan.summary.cls(dotted(value.func))
    if summary is None:
        return None
    for argument, param in stored_arguments(value, summary.stored_params):
        if scan.keeper.keeps(argument):
            return f"{summary.name}.{param.attribute}"
    return None


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
            chain = f"{scan.facts.name}.{path} -> {_short(arg.value)} -> {scan.facts.name}"
            yield REGISTERED, path, chain, arg.value
            return


def _callback_clears(value: cst.BaseExpression, path: str, scan: _Scan, methods) -> bool:
    """The stored callable is a method of the class that clears the edge
    itself: a one-shot callback resetting its handle, an override deleting
    itself from the instance."""
    for name in _methods_called(value, scan.me):
        method = methods.get(name)
        if method is not None and covers(cleared_in(method, scan.me), path):
            return True
    return False


def _methods_called(value: cst.BaseExpression, me: str) -> List[str]:
    """`self.m`, `partial(self.m, ...)`, `lambda: self.m()`: the methods the callable runs."""
    found = []
    for node in (value, *descendants(value)):
        if isinstance(node, cst.Attribute) and dotted(node.value) == me:
            found.append(node.attr.value)
    return found


def _short(node: cst.CSTNode) -> str:
    text = cst.Module([]).code_for_node(node).strip()
    return text if len(text) <= 40 else text[:37] + "..."


