"""GCL2xx: code that builds reference cycles.

Reference counting frees an object the moment its last reference goes,
except when the garbage refers to itself: then only the cycle collector
frees it, later, in a pause that grows with the heap, and never while
collection is disabled. Each rule here is judged by the ground truth in
tests/test_cycles_ground_truth.py: its bad fixtures leave objects in
`gc.garbage` after `main()`, its clean look-alikes leave none.

The rules that look at instances (GCL203, GCL204, GCL205) read the
per-class reference model of gclint.analysis: one finding per edge the
class makes to itself and does not undo, at the statement that closes the
cycle, with the chain in the message.
"""
from __future__ import annotations

import functools
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from gclint.analysis.bindings import (
    Identities,
    code_text,
    is_name,
    argument,
    attribute_stores,
    branch_of,
    container_stores,
    free_uses,
    held,
    int_value,
    is_weak_factory,
    may_store,
    owned_by,
)
from gclint.analysis.references import BACK, CALLABLE, REGISTERED, SELF, ClassModel, attributes_emptied, cleared_after, self_paths
from gclint.analysis.classes import method_named, positional_params
from gclint.analysis.summaries import stored_arguments
from gclint.names import dotted
from gclint.model import Invalid, Severity
from gclint.rule import Rule
from gclint.tree import descendants, names_in_target


def _result_used(ctx, node: cst.CSTNode) -> bool:
    """Whether the current call's value is used (it is not a statement of its own)."""
    return type(node) is cst.Call and type(ctx.parent()) is not cst.Expr


def _never(value: cst.BaseExpression) -> bool:
    return False


def _text(node: cst.CSTNode) -> str:
    return code_text(node)


def holds_key(values, key: str, ids: Identities) -> bool:
    return any(ids.key(v) == key for value in values for v in held(value))


class _FollowsNames(Rule):
    """Keeps an `Identities` table per scope, updated as bindings are walked,
    so a rule can tell that two statements touch the same object. Checks run
    on `visit_*`, bindings are recorded on `leave_*` (after the right-hand
    side was evaluated)."""

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._tables: Dict[int, Identities] = {}
        self._names_weakref = "weakref" in ctx.source

    def ids(self) -> Identities:
        scope = self.ctx.innermost_scope()
        table = self._tables.get(id(scope))
        if table is None:
            # The stack, not a bound method of the rule: the table must not hold the rule.
            table = self._tables[id(scope)] = Identities(self._weak_test(), functools.partial(branch_of, self.ctx.stack))
        return table

    def _weak_test(self):
        # Every weak reference gclint recognises comes from the weakref
        # modules, so a file that never names them needs no test.
        if not self._names_weakref:
            return _never
        method = self.ctx.enclosing_method()
        weak = self.ctx.analysis.facts(method.cls).weak_attrs if method is not None else frozenset()
        me = method.self if method is not None else None
        scopes = self.ctx.scopes()
        analysis = self.ctx.analysis

        def is_weak(value: cst.BaseExpression) -> bool:
            if type(value) is cst.Call:
                return is_weak_factory(analysis.resolve(value.func, scopes))
            return me is not None and type(value) is cst.Attribute and is_name(value.value, me) and value.attr.value in weak

        return is_weak

    def bound(self, node: cst.CSTNode) -> None:
        self.ids().observe(node)

    def leave_Assign(self, node: cst.Assign) -> None:
        self.bound(node)

    def leave_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.bound(node)

    def visit_For(self, node: cst.For) -> None:
        self.bound(node)

    def leave_WithItem(self, node: cst.WithItem) -> None:
        self.bound(node)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self.bound(node)

    def leave_Del(self, node: cst.Del) -> None:
        self.bound(node)

    def leave_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.bound(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # The def binds its name in the enclosing scope (the current one).
        self.bound(node)


def _says_nothing_about(ctx, cls: cst.ClassDef) -> bool:
    """Classes whose instances are real cycles but harmless: enum members
    live as long as their class anyway, and so do singletons the module
    builds at import (`app = App()`, and no other `App(` in the file)."""
    return ctx.analysis.facts(cls).is_enum or ctx.analysis.built_at_import(cls)


def _own_edges(model: ClassModel, cls: cst.ClassDef):
    """The live edges these rules report: all but the one GCL104 names for
    a class with `__del__` (one finding per cycle)."""
    skipped = model.finalizer_edge(cls)
    return [e for e in model.live_edges() if e is not skipped]


def _at_import(ctx) -> bool:
    """Module or class body code: it runs once, at import, and what it links
    lives as long as the module anyway."""
    return isinstance(ctx.innermost_scope(), (cst.Module, cst.ClassDef))


class _ReadsModel(Rule):
    """Reports the live edges of given kinds from each class's reference model."""

    KINDS: Tuple[str, ...] = ()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if _says_nothing_about(self.ctx, node):
            return
        model = self.ctx.analysis.model(node)
        reported: Set[int] = set()
        for edge in _own_edges(model, node):
            if edge.kind in self.KINDS and id(edge.node) not in reported:
                reported.add(id(edge.node))
                self.report(edge.node, self.describe(edge, model))

    def describe(self, edge, model: ClassModel) -> str:
        raise NotImplementedError


class ContainerContainsItself(_FollowsNames):
    """A container made to contain itself.

    What it flags:
    A list, dict, set or deque given itself as an element:
    `x.append(x)`, `x.add(x)`, `x.insert(i, x)`, `x.appendleft(x)`,
    `x[k] = x`, `x.setdefault(k, x)`, `x.extend([..., x])`, `x += [x]`,
    `x.update({k: x})`, also through a plain alias of `x` in the same scope
    (`y = x; y.append(x)`) and when the value is a literal that holds `x`
    (`x.append([x])`).

    Why it matters:
    A container that holds itself always has a reference count above zero,
    so reference counting never frees it: only the cycle collector does,
    later, and never while collection is disabled. Everything it holds stays
    alive until then.

    One finding per container and scope: the first statement that closes
    the cycle. Test files are not checked: a self-containing container in a
    test is a test of recursive repr, copy or serialisation.

    Known limits:
    Names are followed in source order within one scope, not through
    branches: an alias set in one branch of an `if` is taken as set after
    it. Slice assignment (`x[:] = x`) copies elements and is not flagged.

    Code at module or class level is not checked: it runs once, at import,
    and what it links lives as long as the module anyway.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    2 findings (0 in tests; 2 in the earlier 2026-12 run); 2 read in
    context: 2 right, 0 worth acting on, 0 wrong.
    Below the default bar (90% right and 60% worth acting on): off by
    default.
    """

    code = "GCL201"
    EVIDENCE = "cycle"
    name = "container-contains-itself"
    USE_INSTEAD = """
        def f():
            x = []
            x.append(x.copy())  # a snapshot of the list, not the list itself
    """
    REFERENCES = (
        ('The gc module', 'https://docs.python.org/3/library/gc.html'),
        ('gc.get_referents()', 'https://docs.python.org/3/library/gc.html#gc.get_referents'),
    )
    severity = Severity.WARNING
    message = "`{name}` is stored inside itself: a container that contains itself is a reference cycle that only the cycle collector can free"
    VALID = [
        'def double(a):\n    return a.add(a)\n',
        "def f():\n    x = []\n    x.append(list(x))\n",
        "def f():\n    x = []\n    y = []\n    x.append(y)\n",
        "def f(x):\n    x[:] = x\n",
        "def f(x):\n    y = x\n    y = []\n    y.append(x)\n",
        "def f(d):\n    d[\"copy\"] = dict(d)\n",
    ]
    INVALID = [
        Invalid("def f():\n    x = []\n    x.append(x)\n", (3, 5)),
        Invalid("def f():\n    d = {}\n    d['self'] = d\n", (3, 5)),
        Invalid("def f(x):\n    alias = x\n    alias.insert(0, x)\n", (3, 5)),
        Invalid("def f(x):\n    x += [1, x]\n", (2, 5)),
        Invalid("def f(d):\n    d.update({'me': d})\n    d.setdefault('again', d)\n    return d.setdefault('more', [d])\n", (2, 5)),
        Invalid("def f(d, e):\n    d.setdefault('again', d)\n    return e.setdefault('more', [e])\n", (2, 5), (3, 12)),
        Invalid("class Node:\n    def f(self):\n        self.items.extend([self.items])\n", (3, 9)),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        self._check(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._check(node)

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._reported: Set[str] = set()

    def _check(self, node: cst.CSTNode) -> None:
        if not may_store(node) or self.ctx.options.is_test_file or _at_import(self.ctx):
            return
        ids = self.ids()
        for store in container_stores(node, _result_used(self.ctx, node)):
            key = ids.key(store.holder)
            if key and holds_key(store.values, key, ids):
                # One finding per container: its first self-insertion closes the cycle.
                where = f"{id(self.ctx.innermost_scope())}:{key}"
                if where not in self._reported:
                    self._reported.add(where)
                    self.report(node, self.message.format(name=_text(store.holder)))
                return


class MutualReference(_FollowsNames):
    """Two objects made to refer to each other in one scope.

    What it flags:
    Two statements in one function (or module) that store each of two
    objects in the other: `a.append(b)` with `b.append(a)`, `a[k] = b` with
    `b[k] = a`, `a.x = b` with `b.y = a`, in any combination. The second
    statement, which closes the cycle, is reported.

    Why it matters:
    Each object keeps the other's reference count above zero, so neither is
    freed by reference counting when the last outside reference goes: the
    pair (and everything they hold) waits for the cycle collector. Hold one
    direction weakly (`weakref.ref`, `weakref.proxy`, a `WeakValueDictionary`)
    or break the link explicitly when done.

    Not flagged, in a method: a link the class undoes itself, when a method
    that ends the object's life (`close`, `commit`, `__exit__`, `release`,
    `connection_lost`...) sets it to None or deletes it
    (`self.conn.txn = None`).

    Known limits:
    A clean-up method is trusted to be called; dynamic mode shows whether it
    is. Names are followed in source order within one scope; a link made in one
    method and the reverse link made in another are not matched. A parent
    that keeps its children in a container attribute (`self.children`) is
    GCL204's case, and an object stored in itself is GCL203's.

    Code at module or class level is not checked: it runs once, at import,
    and what it links lives as long as the module anyway.
    A link is also undone by a method a base class of the same module
    defines (a deferred's `_removeProtocol` callback), and `other.add(self)`
    stores nothing when `other` is a parameter annotated with a class of the
    module whose `add()` only touches attributes of its argument.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    29 findings (15 in tests; 31 in the earlier 2026-12 run); 24 read in
    context: 24 right, 0 worth acting on, 0 wrong.
    Below the default bar (90% right and 60% worth acting on): off by
    default.
    """

    code = "GCL202"
    EVIDENCE = "cycle"
    name = "mutual-reference"
    USE_INSTEAD = """
        import weakref

        def link(a, b):
            a.append(b)
            b.append(weakref.ref(a))  # b can reach a without keeping it alive
    """
    REFERENCES = (
        ('The gc module', 'https://docs.python.org/3/library/gc.html'),
        ('weakref: weak references', 'https://docs.python.org/3/library/weakref.html'),
    )
    severity = Severity.WARNING
    message = "`{a}` and `{b}` now refer to each other: a reference cycle that only the cycle collector can free; hold one direction with weakref"
    VALID = [
        'def unlink(link):\n    link_prev = link.prev\n    link_next = link.next\n    link_prev.next = link_next\n    link_next.prev = link_prev\n',
        "def link(a, b):\n    a.next = b\n    b.count = 1\n",
        "def link(a, b):\n    a.append(b)\n    b = []\n    b.append(a)\n",
        "import weakref\n\ndef link(a, b):\n    a.peer = b\n    b.peer = weakref.proxy(a)\n",
        "def copy(a, b):\n    a.x = b.x\n    b.y = a.y\n",
        # Made in __enter__, undone in __exit__.
        "class Context:\n    def __enter__(self):\n        self._subject = s = self._make()\n        s._ctx = self\n        return self\n\n    def __exit__(self, *exc):\n        self._subject._ctx = None\n        self._subject = None\n",
        # Undone by pointing the connection back at the previous transaction.
        "class Nested:\n    def __init__(self, connection):\n        self.connection = connection\n        self._previous = connection.nested\n        connection.nested = self\n\n    def _deactivate(self):\n        if self.connection.nested is self:\n            self.connection.nested = self._previous\n",
        # Undone by a method inherited from a base class of this module (a deferred's callback).
        "class Factory:\n    def _removeProtocol(self, result):\n        self.currentProtocol = None\n        return result\n\nclass ESMTPFactory(Factory):\n    def buildProtocol(self, addr):\n        p = self.protocol()\n        p.factory = self\n        self.currentProtocol = p\n        self.result.addBoth(self._removeProtocol)\n        return p\n",
        # Linked once at import: lives as long as the module anyway.
        "class Node:\n    pass\n\nroot, leaf = Node(), Node()\nroot.child = leaf\nleaf.parent = root\n",
        # TaskGroup.add() counts its argument and keeps nothing.
        "class TaskGroup:\n    def add(self, task):\n        self.size += 1\n        task.group = self\n\nclass Task:\n    def __init__(self, group: TaskGroup):\n        self.group = group\n        group.add(self)\n",
        # Undone when the transaction ends.
        "class Transaction:\n    def __init__(self, conn):\n        self.conn = conn\n        conn.txn = self\n\n    def commit(self):\n        self.conn.txn = None\n",
    ]
    INVALID = [
        Invalid("def link(a, b):\n    a.append(b)\n    b.append(a)\n", (3, 5)),
        Invalid("def pair():\n    left, right = {}, {}\n    left['other'] = right\n    right['other'] = left\n", (4, 5)),
        Invalid("class Node:\n    def attach(self, other):\n        self.peer = other\n        other.peer = self\n", (4, 9)),
        Invalid("def chain(items):\n    prev = None\n    for item in items:\n        item.prev = prev\n        if prev is not None:\n            prev.next = item\n        prev = item\n", (6, 13)),
    ]

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._edges: Dict[int, Set[Tuple[str, str]]] = {}

    def visit_Call(self, node: cst.Call) -> None:
        self._check(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node)

    def _check(self, node: cst.CSTNode) -> None:
        if not may_store(node) or _at_import(self.ctx):
            return
        ids = self.ids()
        edges = self._edges.setdefault(id(self.ctx.innermost_scope()), set())
        stored = container_stores(node, _result_used(self.ctx, node))
        if stored and _keeps_nothing(self.ctx, node):
            stored = []
        for store in attribute_stores(node) + stored:
            holder = ids.key(store.holder)
            for value in (v for value in store.values for v in held(value)):
                key = ids.key(value)
                if not _distinct(holder, key) or _relinks(ids, store.holder, value):
                    continue
                if (key, holder) in edges:
                    if not _undone_by_class(self.ctx, node):
                        self.report(node, self.message.format(a=_text(store.holder), b=_text(value)))
                    return
                edges.add((holder, key))


def _keeps_nothing(ctx, call: cst.CSTNode) -> bool:
    """`group.add(self)` where `group: TaskGroup` is a parameter and
    TaskGroup, a class of this module, has an add() that only touches
    attributes of its argument (`self.count += 1; other.group = self`):
    the call stores nothing."""
    if type(call) is not cst.Call or type(call.func) is not cst.Attribute or type(call.func.value) is not cst.Name:
        return False
    function = ctx.enclosing_function()
    cls = _class_named(ctx.module, _annotation_of(function, call.func.value.value)) if function else None
    method = method_named(cls, call.func.attr.value) if cls is not None else None
    params = positional_params(method)[1:] if method is not None else ()
    return bool(params) and len(call.args) == 1 and _only_attributes_used(method, params[0])


def _annotation_of(function: cst.FunctionDef, name: str) -> Optional[str]:
    for param in (*function.params.posonly_params, *function.params.params, *function.params.kwonly_params):
        if param.name.value == name and param.annotation is not None:
            written = param.annotation.annotation
            return written.evaluated_value if type(written) is cst.SimpleString else dotted(written)
    return None


def _class_named(module: cst.Module, name: Optional[str]) -> Optional[cst.ClassDef]:
    return next((s for s in module.body if type(s) is cst.ClassDef and s.name.value == name), None) if name else None


def _only_attributes_used(function: cst.FunctionDef, param: str) -> bool:
    """Every use of `param` in the body reads or sets one of its attributes."""
    nodes = list(descendants(function.body))
    uses = sum(1 for n in nodes if is_name(n, param))
    return uses == sum(1 for n in nodes if type(n) is cst.Attribute and is_name(n.value, param))


def _relinks(ids: Identities, holder: cst.BaseExpression, value: cst.BaseExpression) -> bool:
    """Objects taken out of an existing structure (`link_prev = link.prev`)
    are being re-linked: the structure's links, and whether they are weak
    proxies, were decided where it was built."""
    return ids.reads_attribute(holder) or ids.reads_attribute(value)


def _distinct(a: Optional[str], b: Optional[str]) -> bool:
    """Two separate objects, neither reached through the other."""
    return bool(a and b) and a != b and not owned_by(a, b) and not owned_by(b, a)


class SelfAttributeSelf(_FollowsNames):
    """An object stored inside itself.

    What it flags:
    An attribute of an object set to the object itself or to a literal that
    holds it (`self.me = self`, `obj.attr = obj`, `self.root = self if ...
    else ...`, `self.scope = {"ctx": self}`, `self.items = [self]`), and an
    instance added to a container it owns (`self.items.append(self)`,
    `self.index[key] = self`), in any method of its class, unless the class
    undoes it: a method that ends the object's life (`close`, `__exit__`,
    `shutdown`, `stop`, `release`, `connection_lost`, `tearDown`...) or a
    `finally` of the same method sets the attribute to None, deletes it or
    empties the container. A container that the class body defines
    (`instances = []` at class level, never set per instance) is a registry
    the class owns (GCL504), and one the class only sets to a
    `weakref.WeakSet` holds nothing: neither is flagged. Enum members are
    not flagged (they live as long as their class anyway).

    Why it matters:
    The object's own `__dict__` (or container) keeps its reference count
    above zero, so it is never freed by reference counting: every instance
    becomes cyclic garbage that waits for the cycle collector, together with
    everything it holds. Where the object needs to find itself, it already
    has `self`; where a reference back is needed, use `weakref.proxy(self)`.

    Known limits:
    A clean-up method is trusted to be called; dynamic mode shows whether it
    is. A property or `__setattr__` that stores a weak reference instead is
    not recognised. The object is followed by name within one method.

    Not reported, though real: instances that live as long as their module
    anyway (enum members; a singleton the module builds at import, `app =
    App()` in module-level code with no other `App(` in the file, though
    instances other modules make are not seen), and, in a class with
    `__del__`, the edge GCL104 reports (each cycle is reported once).
    Code at module or class level is not checked: it runs once, at import,
    and what it links lives as long as the module anyway.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    26 findings (15 in tests; 30 in the earlier 2026-12 run); 19 read in
    context: 19 right, 1 worth acting on, 0 wrong.
    Below the default bar (90% right and 60% worth acting on): off by
    default.
    """

    code = "GCL203"
    EVIDENCE = "cycle"
    name = "self-attribute-self"
    USE_INSTEAD = """
        import weakref

        class Node:
            def __init__(self):
                self.me = weakref.ref(self)  # call self.me() to get the node back
    """
    REFERENCES = (
        ('The gc module', 'https://docs.python.org/3/library/gc.html'),
        ('weakref.ref', 'https://docs.python.org/3/library/weakref.html#weakref.ref'),
    )
    severity = Severity.WARNING
    message = "`{name}` is stored inside itself ({chain}): the object refers to itself, a reference cycle that only the cycle collector can free"
    VALID = [
        'def add(clause, current):\n    if current is None:\n        current = clause\n    else:\n        current.children.append(clause)\n    return current\n',
        'class Breakpoint:\n    instances = []\n\n    def __init__(self):\n        self.instances.append(self)\n',
        'from weakref import proxy\n\nclass Ring:\n    def __init__(self):\n        self.root = root = proxy(self.hardroot)\n        root.prev = root.next = root\n',
        "class Node:\n    def __init__(self, parent=None):\n        self.root = parent.root if parent else None\n",
        "import weakref\n\nclass Node:\n    def __init__(self):\n        self.me = weakref.proxy(self)\n",
        "class Node:\n    def __init__(self):\n        self.items = [1, 2]\n        self.name = type(self).__name__\n",
        "def f(obj, other):\n    obj.attr = other\n",
        # A name set to None is no alias of another None.
        "def f():\n    proto = None\n    proto.transport = None\n",
        # Undone by the method that ends the object's life.
        "class Parser:\n    def __init__(self):\n        self.current = self\n\n    def close(self):\n        self.current = None\n",
        # A class-level registry written from a property setter: GCL504's case.
        "class Unit:\n    by_symbol = {}\n\n    @property\n    def symbol(self):\n        return self._symbol\n\n    @symbol.setter\n    def symbol(self, value):\n        self._symbol = value\n        self.by_symbol[value] = self\n",
        # Enum members live as long as their class.
        "import enum\n\nclass Color(enum.Enum):\n    RED = 1\n\n    def __init__(self, value):\n        self.me = self\n",
        # A class-level WeakSet registry holds nothing.
        "import weakref\n\nclass Conn:\n    _live = weakref.WeakSet()\n\n    def __init__(self):\n        self._live.add(self)\n",
        # A singleton built at import lives as long as the module anyway.
        "class App:\n    def __init__(self):\n        self.current = self\n\napp = App()\n",
    ]
    INVALID = [
        Invalid("class Node:\n    def __init__(self):\n        self.me = self\n", (3, 9)),
        Invalid("class Node:\n    def __init__(self, parent):\n        self.root = self if parent is None else parent.root\n", (3, 9)),
        Invalid("class Ctx:\n    def __init__(self):\n        self.scope = {'ctx': self}\n", (3, 9)),
        Invalid("def f(obj):\n    obj.attr = obj\n", (2, 5)),
        Invalid("class Node:\n    def register(self):\n        self.index[self.key] = self\n", (3, 9)),
        Invalid("class Node:\n    def __init__(self):\n        self.items = [self]\n", (3, 9)),
        Invalid("class Node:\n    def __init__(self):\n        self.current = self\n\n    def reset_stats(self):\n        self.count = 0\n", (3, 9)),
        # Built at import, and again in a function: not a singleton.
        Invalid("class App:\n    def __init__(self):\n        self.current = self\n\napp = App()\n\ndef make():\n    return App()\n", (3, 9)),
    ]

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if _says_nothing_about(self.ctx, node):
            return
        reported: Set[int] = set()
        for edge in _own_edges(self.ctx.analysis.model(node), node):
            if edge.kind == SELF and id(edge.node) not in reported:
                reported.add(id(edge.node))
                self.report(edge.node, self.message.format(name="self", chain=edge.chain))

    def visit_Call(self, node: cst.Call) -> None:
        self._check(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check(node)

    def _check(self, node: cst.CSTNode) -> None:
        """Objects other than an instance in its own method (those are the
        class model's): `obj.attr = obj` anywhere."""
        if not may_store(node) or _at_import(self.ctx):
            return
        ids = self.ids()
        method = self.ctx.enclosing_method()
        mine = ids.key_of(method.self) if method is not None and not method.inner else None
        for store in attribute_stores(node):
            key = ids.key(store.holder)
            if key and key != mine and holds_key(store.values, key, ids):
                chain = f"{_text(store.holder)}.{store.attribute} -> {_text(store.holder)}"
                self.report(node, self.message.format(name=_text(store.holder), chain=chain))
                return


class BackReferenceWithoutWeakref(_FollowsNames):
    """A parent-child link made strong in both directions.

    What it flags:
    In one function, a back link `child.parent = self` together with the
    forward link `self.children.append(child)` (or `self.children[k] =
    child`, `.add`, `.insert`...), or the mirror image `self.parent =
    parent` with `parent.children.append(self)`; and, in any method of a
    class, the instance stored in an object it holds: a back link on it
    (`self.child.owner = self`), the instance put in its container
    (`self.factory.clients.append(self)`), or an object built with the
    instance by a class of the same module whose constructor keeps that
    argument (`self._map = Mapping(self)`, `self.error = Error(msg,
    response=self)`). The statement that closes the cycle is reported, with
    the chain (`Selector._map -> Mapping._owner -> Selector`). Not flagged:
    a link the class undoes itself, in a method that ends the object's life
    (`close`, `__exit__`, `commit`, `connection_lost`, `tearDown`...), in a
    `finally` of the same method, or in the callback the link points to.

    Why it matters:
    Parent and child keep each other alive: when the last outside reference
    to the tree goes, reference counting frees nothing, and the whole tree
    waits for the cycle collector. Hold the back link weakly:
    `child.parent = weakref.ref(self)` (or `weakref.proxy(self)`), and the
    tree is freed the moment it is dropped.

    Known limits:
    A clean-up method is trusted to be called; dynamic mode shows whether it
    is. Constructors are seen through for classes of the same module and of
    the project modules it imports (their summaries, gclint/project.py); a
    class gclint cannot resolve (third-party, dynamic) makes no edge. The two links of a pair
    must be made in the same function. A one-way link (only `self.parent =
    parent`) is not a cycle and is not flagged, nor are children kept in a
    container the class only ever sets to a `weakref.WeakSet`-like one.

    Not reported, though real: what GCL203 leaves out (enum members,
    singletons the module builds at import, the edge GCL104 names, code at
    module or class level).
    Also undone: `self.parent = None` in a lifecycle-ending method when the
    `parent` property's setter takes the instance out of the old parent's
    container, and a link to an object built from self whose own class
    drops it (`Results(self)` whose `__exit__` sets
    `self._reporter._reporting = None`), or that a base class of the module
    undoes. A child put into another object's container
    (`self._new_nursery._children.add(task)`) is taken as removed again when
    some class of the module takes entries out of its own attribute of that
    name (`self._children.remove(task)`): matched by attribute name, since
    the other object's type is not known.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    86 findings (17 in tests; 100 in the earlier 2026-12 run); 32 read in
    context: 32 right, 1 worth acting on, 0 wrong.
    Below the default bar (90% right and 60% worth acting on): off by
    default.
    """

    code = "GCL204"
    EVIDENCE = "cycle"
    name = "back-reference-without-weakref"
    USE_INSTEAD = """
        import weakref

        class Node:
            def add(self, child):
                # The parent owns its children; a child only points back.
                child.parent = weakref.proxy(self)
                self.children.append(child)
    """
    REFERENCES = (
        ('weakref: weak references', 'https://docs.python.org/3/library/weakref.html'),
        ('weakref.proxy', 'https://docs.python.org/3/library/weakref.html#weakref.proxy'),
    )
    severity = Severity.WARNING
    message = "{chain}: parent and child refer to each other strongly, a reference cycle; hold the back link with weakref.ref() or weakref.proxy()"
    VALID = [
        "import weakref\n\nclass Node:\n    def add(self, child):\n        child.parent = weakref.ref(self)\n        self.children.append(child)\n",
        "class Node:\n    def __init__(self, parent):\n        self.parent = parent\n",
        "class Node:\n    def add(self, child):\n        self.children.append(child)\n",
        "import weakref\n\nclass Node:\n    def __init__(self):\n        self.children = weakref.WeakSet()\n\n    def add(self, child):\n        child.parent = self\n        self.children.add(child)\n",
        # Appended to another object's list and removed on disconnect.
        "class Client:\n    def connection_made(self, transport):\n        self.factory.clients.append(self)\n\n    def connection_lost(self, exc):\n        self.factory.clients.remove(self)\n",
        # The helper is released in close().
        "class Mapping:\n    def __init__(self, owner):\n        self._owner = owner\n\nclass Selector:\n    def __init__(self):\n        self._map = Mapping(self)\n\n    def close(self):\n        self._map = None\n",
        # Moved by its property setter, which close() runs with None.
        "class Status:\n    @property\n    def parent(self):\n        return self._parent\n\n    @parent.setter\n    def parent(self, parent):\n        if self._parent is not None:\n            self._parent._children.remove(self)\n        self._parent = parent\n        if self._parent is not None:\n            self._parent._children.add(self)\n\n    def close(self):\n        self.parent = None\n",
        # Moved into another nursery, whose class removes each task when it finishes.
        "class Nursery:\n    def __init__(self):\n        self._children = set()\n\n    def _child_finished(self, task):\n        self._children.remove(task)\n\nclass TaskStatus:\n    def started(self, tasks):\n        for task in tasks:\n            task._parent_nursery = self._new_nursery\n            self._new_nursery._children.add(task)\n",
        # The helper undoes the back link in its own __exit__.
        "class Results:\n    def __init__(self, reporter):\n        self._reporter = reporter\n\n    def __exit__(self, *exc):\n        self._reporter._reporting = None\n\nclass Reporter:\n    def gather(self):\n        self._reporting = Results(self)\n        return self._reporting\n",
        # A helper whose constructor does not keep its argument.
        "class Mapping:\n    def __init__(self, owner):\n        self.size = len(owner)\n\nclass Selector:\n    def __init__(self):\n        self._map = Mapping(self)\n",
    ]
    INVALID = [
        Invalid("class Node:\n    def add(self, child):\n        child.parent = self\n        self.children.append(child)\n", (3, 9)),
        Invalid("class Node:\n    def __init__(self, parent):\n        self.parent = parent\n        parent.children.append(self)\n", (3, 9)),
        Invalid("class Tree:\n    def add(self, name, child):\n        self.nodes[name] = child\n        child.tree = self\n", (4, 9)),
        Invalid("class Window:\n    def __init__(self, toolbar):\n        self.toolbar = toolbar\n        self.toolbar.window = self\n", (4, 9)),
        Invalid("class Mapping:\n    def __init__(self, owner):\n        self._owner = owner\n\nclass Selector:\n    def __init__(self):\n        self._map = Mapping(self)\n", (7, 9)),
        Invalid("class RequestError(Exception):\n    def __init__(self, *args, **kwargs):\n        self.response = kwargs.pop('response', None)\n        super().__init__(*args)\n\nclass DecodeError(RequestError):\n    pass\n\nclass Response:\n    def decode(self, msg):\n        self._error = DecodeError(msg, response=self)\n", (11, 9)),
        Invalid("class Client:\n    def connection_made(self, transport):\n        self.factory.clients.append(self)\n", (3, 9)),
    ]

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._back: Dict[int, Dict[Tuple[str, str], cst.CSTNode]] = {}
        self._forward: Dict[int, Dict[Tuple[str, str], cst.CSTNode]] = {}
        self._reported: Set[int] = set()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if _says_nothing_about(self.ctx, node):
            return
        for edge in _own_edges(self.ctx.analysis.model(node), node):
            if edge.kind == BACK and id(edge.node) not in self._reported:
                self._reported.add(id(edge.node))
                self.report(edge.node, self.message.format(chain=edge.chain))

    def visit_Call(self, node: cst.Call) -> None:
        self._check(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check(node)

    def _check(self, node: cst.CSTNode) -> None:
        if not may_store(node) or _at_import(self.ctx):
            return
        scope = id(self.ctx.innermost_scope())
        back = self._back.setdefault(scope, {})
        forward = self._forward.setdefault(scope, {})
        ids = self.ids()
        for store in attribute_stores(node):
            self._back_link(store, ids, back, forward)
        for store in container_stores(node, _result_used(self.ctx, node)):
            self._forward_link(store, ids, back, forward)

    def _back_link(self, store, ids, back, forward) -> None:
        child = ids.key(store.holder)
        parent = ids.key(store.values[0])
        if not (child and parent) or child == parent or owned_by(parent, child) or owned_by(child, parent):
            return  # an object self holds: the class model's BACK edge
        back[(child, parent)] = store.node
        if (parent, child) in forward:
            self._report(store.node, forward[(parent, child)])

    def _forward_link(self, store, ids, back, forward) -> None:
        holder = ids.key(store.holder)
        if not holder or "." not in holder or self._weak_container(store.holder):
            return
        parent = holder.rsplit(".", 1)[0]
        for value in store.values:
            child = ids.key(value)
            if not child or child == parent:
                continue
            forward.setdefault((parent, child), store.node)
            if (child, parent) in back:
                self._report(back[(child, parent)], store.node)

    def _report(self, back_node: cst.CSTNode, forward_node: cst.CSTNode) -> None:
        if id(back_node) in self._reported or self._undone(forward_node) or self._undone(back_node):
            return
        self._reported.add(id(back_node))
        chain = f"{_text(forward_node)} -> {_text(back_node)}"
        self.report(back_node, self.message.format(chain=chain))

    def _undone(self, node: cst.CSTNode) -> bool:
        """The class clears the link this statement makes (`self.children`,
        `self.parent.children`), or it puts a child into another object's
        container whose class takes entries out (`nursery._children.add(task)`
        with Nursery removing finished tasks)."""
        return _undone_by_class(self.ctx, node) or self._emptied_by_its_owner(node)

    def _emptied_by_its_owner(self, node: cst.CSTNode) -> bool:
        method = self.ctx.enclosing_method()
        for store in container_stores(node):
            holder = store.holder
            if type(holder) is cst.Attribute and not (method is not None and is_name(holder.value, method.self)):
                if holder.attr.value in attributes_emptied(self.ctx.analysis.index):
                    return True
        return False

    def _weak_container(self, holder: cst.BaseExpression) -> bool:
        """`self.children` assigned a weakref.Weak* container in this class."""
        if not (isinstance(holder, cst.Attribute) and isinstance(holder.value, cst.Name)):
            return False
        method = self.ctx.enclosing_method()
        if method is None or holder.value.value != method.self:
            return False
        return holder.attr.value in self.ctx.analysis.facts(method.cls).weak_attrs


def _undone_by_class(ctx, node: cst.CSTNode) -> bool:
    """Whether the class of the current method clears the reference `node`
    stores (by its path from self: `self.conn.txn`, also as `conn.txn`
    after `self.conn = conn`)."""
    method = ctx.enclosing_method()
    if method is None:
        return False
    model = ctx.analysis.model(method.cls)
    paths = self_paths(method.function, method.self, ctx.analysis.index)
    for store in attribute_stores(node) + container_stores(node):
        text = _text(store.holder)
        root, _, rest = text.partition(".")
        base = "" if root == method.self else paths.get(root)
        if base is None:
            continue
        path = ".".join(p for p in (base, rest, store.attribute or "") if p)
        if model.undoes(path):
            return True
    return False


class SelfBoundCallableStoredOnSelf(_ReadsModel):
    """A callable that holds `self`, kept by `self`.

    What it flags:
    In any method, a bound method of the instance (`self.tick`), a lambda or
    nested function that uses `self`, `functools.partial(self.m, ...)`,
    `types.MethodType(f, self)`, a wrapper of the same module whose returned
    closure holds its argument (`self.cb = logged(self.tick)`), a weak
    reference whose callback is one of those, or an object built with one
    (`Engine(lambda: self._values)`), when it is stored on `self`
    (`self.cb = self.tick`), in a container `self` owns
    (`self.routes["/"] = self.index`), or handed to an event hook of an
    object `self` keeps (`self.button.on_click(lambda: self.accept())`).
    Not flagged: a link the class undoes (set to None or deleted in a
    lifecycle-ending method, in a `finally`, or by the callback itself: a
    one-shot override that deletes itself, a timer callback that resets its
    own handle), and callbacks given to something that drops them after one
    run (`add_done_callback`, `call_later`, `call_soon`, `add_timeout`).

    Why it matters:
    A bound method holds its instance (`__self__`), a closure holds the
    cell for `self`: storing either on the instance makes it refer to
    itself, so it is only freed by the cycle collector. A lambda that
    captures a plain local copy (`vals = self._values; lambda: vals`) does
    not hold `self`; `weakref.WeakMethod(self.tick)` does not either.

    Known limits:
    A clean-up is trusted to be called; dynamic mode shows whether it is.
    Only methods defined in the class itself are recognised as methods
    (inherited ones are not known). Objects given a callback are assumed
    to keep it when they are built by a call whose name is capitalised (a
    class), or when the method they are given it through looks like an event
    hook (`on_*`, `add_*`, `register*`, `subscribe`, `observe`...). Not
    flagged, because the callable does not stay in a cycle the collector
    has to break: threads (they drop their target when `run()` ends), Tk's
    `command=` options and `bind()` (Tk keeps the callable in the Tcl
    interpreter until the widget is destroyed), first parameters that are
    classes (`cls`, `__init_subclass__`).

    Not reported, though real: what GCL203 leaves out (enum members,
    singletons the module builds at import, the edge GCL104 names).

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    276 findings (84 in tests; 280 in the earlier 2026-12 run); 38 read in
    context: 38 right, 1 worth acting on, 0 wrong.
    Below the default bar (90% right and 60% worth acting on): off by
    default.
    """

    code = "GCL205"
    EVIDENCE = "cycle"
    name = "self-bound-callable-stored-on-self"
    USE_INSTEAD = """
        import weakref

        class Clock:
            def start(self):
                self.cb = weakref.WeakMethod(self.tick)  # call it as self.cb()()

            def tick(self):
                pass
    """
    REFERENCES = (
        ('weakref.WeakMethod', 'https://docs.python.org/3/library/weakref.html#weakref.WeakMethod'),
        ('Bound methods hold their instance (__self__)', 'https://docs.python.org/3/reference/datamodel.html#instance-methods'),
    )
    severity = Severity.WARNING
    message = "a callable holding self is {how} ({chain}): a reference cycle; store a weakref.WeakMethod or look the callable up when it is needed"
    KINDS = (CALLABLE, REGISTERED)
    VALID = [
        "class Model:\n    def bind(self):\n        vals = self._values\n        self.getter = lambda: vals\n",
        "import weakref\n\nclass Clock:\n    def start(self):\n        self.cb = weakref.WeakMethod(self.tick)\n\n    def tick(self):\n        pass\n",
        "class Clock:\n    def start(self, scheduler):\n        scheduler.every(1, self.tick)\n\n    def tick(self):\n        pass\n",
        "class Clock:\n    def start(self):\n        self.rate = self.compute_rate()\n\n    def compute_rate(self):\n        return 1\n",
        "class Clock:\n    @staticmethod\n    def tick():\n        pass\n\n    def start(self):\n        self.cb = self.tick\n",
        "from weakref import ref\n\nclass Bag:\n    def __init__(self):\n        def _remove(item, selfref=ref(self)):\n            self = selfref()\n            if self is not None:\n                self.data.discard(item)\n        self._remove = _remove\n",
        "from tkinter import Button\n\nclass Dialog:\n    def build(self, root):\n        self.ok = Button(root, text='OK', command=self.accept)\n        self.ok.bind('<Return>', self.accept)\n\n    def accept(self, event=None):\n        pass\n",
        "import threading\n\nclass Server:\n    def start(self):\n        self.thread = threading.Thread(target=self.serve)\n\n    def serve(self):\n        pass\n",
        "class Base:\n    def __init_subclass__(cls):\n        cls.handler = cls.default_handler\n\n    def default_handler(self):\n        pass\n",
        # A timer handle cleared by its own callback.
        "class Conn:\n    def arm(self):\n        self._timer = Timer(5, self._on_timeout)\n\n    def _on_timeout(self):\n        self._timer = None\n",
        # A one-shot override that deletes itself from the instance.
        "class Stream:\n    def __init__(self):\n        self.read = self._first_read\n\n    def _first_read(self):\n        del self.read\n        return b''\n",
        # A done-callback on a pending future: dropped once it has run.
        "class Job:\n    def start(self):\n        self.future.add_done_callback(self._done)\n\n    def _done(self, fut):\n        pass\n",
        # Reset by another method of the class when the request is done.
        "class Client:\n    def connect(self, Parser):\n        self._parser = Parser(self._on_response)\n\n    def _on_response(self, r):\n        pass\n\n    def _disconnectParser(self):\n        self._parser = None\n",
        # Undone in close().
        "class Clock:\n    def start(self):\n        self.cb = self.tick\n\n    def tick(self):\n        pass\n\n    def close(self):\n        self.cb = None\n",
    ]
    INVALID = [
        Invalid("class Clock:\n    def start(self):\n        self.cb = self.tick\n\n    def tick(self):\n        pass\n", (3, 9)),
        Invalid("class App:\n    def __init__(self):\n        self.routes = {}\n        self.routes['/'] = self.index\n\n    def index(self):\n        return 'home'\n", (4, 9)),
        Invalid("class Dialog:\n    def build(self):\n        self.button.on_click(lambda: self.accept())\n", (3, 9)),
        Invalid("class Model:\n    def __init__(self, Engine):\n        self.engine = Engine(lambda: self._values)\n", (3, 9)),
        Invalid("import weakref\n\nclass Registry:\n    def track(self, xs):\n        self._storage = [weakref.ref(x, self._remove) for x in xs]\n\n    def _remove(self, ref):\n        pass\n", (5, 9)),
        Invalid("import functools\n\nclass Job:\n    def arm(self):\n        def fire():\n            self.run()\n        self.handlers.append(fire)\n        self.retry = functools.partial(self.run, 3)\n\n    def run(self, n=1):\n        pass\n", (7, 9), (8, 9)),
        # A bound method kept through a wrapper defined in the same file.
        Invalid("def logged(func):\n    def inner(*args):\n        return func(*args)\n    return inner\n\nclass Clock:\n    def start(self):\n        self.cb = logged(self.tick)\n\n    def tick(self):\n        pass\n", (8, 9)),
        Invalid("import types\n\nclass Clock:\n    def start(self, f):\n        self.cb = types.MethodType(f, self)\n", (5, 9)),
    ]

    def describe(self, edge, model: ClassModel) -> str:
        how = "stored on self" if edge.kind == CALLABLE else "handed to an object self keeps"
        return self.message.format(how=how, chain=edge.chain)


_EXC_INFO = ("sys.exc_info",)
_CURRENT_EXCEPTION = ("sys.exception",)


class ExceptionKeptInFrame(Rule):
    """An exception or traceback kept in the frame that handled it.

    What it flags:
    Inside an except clause of a function: the exception caught with
    `except E as e` bound to another local name (`err = e`), to an attribute
    or a container (`self.failure = e`, `self.failures.append(e)`,
    `errors[k] = e`); `e.__traceback__`, `sys.exc_info()` (whole, or its
    value or traceback item) or `sys.exception()` bound the same way;
    unless the name is deleted or set to None later in the function.

    Why it matters:
    An exception holds its traceback, the traceback holds the frame that
    handled it, and the frame holds its local variables: a name (or an
    object reachable from one, such as `self`) that keeps the exception
    closes a cycle, which also keeps every local of that frame alive until
    the cycle collector runs. This is why Python deletes the `as e` name at
    the end of the clause. Clear the name in a `finally`
    (`del err` or `err = None`), or keep only what is needed (`str(e)`,
    `traceback.format_exception(e)`).

    Also an exception handed to something that keeps it: a future or task
    (`fut.set_exception(e)` with `fut` a local or on self), or a method of
    the class that stores its argument (`self._record(e)` where `_record`
    appends it to a list on self). Not flagged: an attribute of the handled
    exception itself (`e.tb = ...`); an attribute of self that some
    method of the class sets to None or deletes (the method that re-raises
    a stored `exc_info`); an attribute a method or property of the class
    returns (`def exception(self): return self._exception`): a real cycle,
    kept on purpose as part of the class's interface.

    Known limits:
    Any `del name`, `name = None`, `name.clear()` or a loop that walks the
    name to None (`while tb is not None: tb = tb.tb_next`, no `break`)
    after the binding counts as clearing,
    whether or not it runs on every path. `sys.exc_info()` outside an
    except clause is not flagged: the exception then being handled was
    caught by a caller, and its traceback does not reach this frame. Module
    and class level code is not checked (its frame lives as long as the
    module anyway). A clearing method is trusted to be called. Methods
    that store their argument are seen only in the same module.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    163 findings (64 in tests; 167 in the earlier 2026-12 run); 37 read in
    context: 37 right, 1 worth acting on, 0 wrong.
    Below the default bar (90% right and 60% worth acting on): off by
    default.
    """

    code = "GCL206"
    EVIDENCE = "cycle"
    name = "exception-kept-in-frame"
    USE_INSTEAD = """
        def connect(addresses):
            err = None
            try:
                for address in addresses:
                    try:
                        return open(address)
                    except OSError as e:
                        err = e
                raise err
            finally:
                # The traceback refers to this frame; dropping the name breaks the cycle.
                err = None
    """
    REFERENCES = (
        ('The try statement: "as target" is cleared at the end of the except clause', 'https://docs.python.org/3/reference/compound_stmts.html#except-clause'),
        ('PEP 3110: Catching exceptions in Python 3000', 'https://peps.python.org/pep-3110/'),
        ('traceback.clear_frames()', 'https://docs.python.org/3/library/traceback.html#traceback.clear_frames'),
    )
    severity = Severity.WARNING
    message = "`{target}` keeps {what}, whose traceback holds this frame, which holds `{target}`: a reference cycle; `del {target}` (or set it to None) in a finally"
    store_message = "{what} stored in `{target}` keeps the traceback, and through it this frame and its locals: a reference cycle; store str(e) or clear it when done"
    TRIGGERS = ("except",)
    VALID = [
        "def load(path):\n    try:\n        return open(path).read()\n    except OSError as e:\n        raise RuntimeError(path) from e\n",
        "def connect(addresses):\n    err = None\n    for address in addresses:\n        try:\n            return open(address)\n        except OSError as e:\n            err = e\n    try:\n        raise err\n    finally:\n        err = None\n",
        "import sys\n\ndef kind():\n    try:\n        1 / 0\n    except ZeroDivisionError:\n        exc_type = sys.exc_info()[0]\n    return exc_type\n",
        "def run(job, errors):\n    try:\n        job()\n    except Exception as e:\n        errors.append(str(e))\n",
        "def first_working(factories):\n    errors = []\n    for make in factories:\n        try:\n            return make()\n        except OSError as exc:\n            errors.append(exc)\n    try:\n        raise ExceptionGroup('all failed', errors)\n    finally:\n        errors.clear()\n",
        "import sys\n\ndef report(job):\n    try:\n        job()\n    except Exception:\n        etype, value, tb = sys.exc_info()\n        try:\n            print(etype, value)\n        finally:\n            del value, tb\n",
        "import sys, traceback\n\ndef print_current():\n    etype, value, tb = sys.exc_info()\n    traceback.print_exception(etype, value, tb)\n",
        "def chain(exc):\n    try:\n        raise ValueError\n    except ValueError:\n        tb = exc.__traceback__\n    return tb\n",
        # The traceback stored into the exception itself.
        "import sys\n\ndef run(job):\n    try:\n        job()\n    except Exception as e:\n        e.saved_tb = sys.exc_info()[2]\n        raise\n",
        # The frame's link to the holder is broken right after (as concurrent.futures does).
        "class WorkItem:\n    def run(self):\n        try:\n            self.fn()\n        except BaseException as exc:\n            self.future.set_exception(exc)\n            self = None\n",
        # Kept on purpose: the class hands the exception out.
        "class Reader:\n    def read(self):\n        try:\n            self._read()\n        except OSError as exc:\n            self._exception = exc\n\n    def exception(self):\n        return self._exception\n",
        # The traceback local is walked to its end: None once the loop is done.
        "def innermost(job):\n    try:\n        job()\n    except Exception as e:\n        tb = e.__traceback__\n        while tb is not None:\n            line = tb.tb_lineno\n            tb = tb.tb_next\n        return line\n",
        # exc_info kept on self and cleared by the method that re-raises it.
        "import sys\n\nclass Future:\n    def run(self, fn):\n        try:\n            fn()\n        except Exception:\n            self._exc_info = sys.exc_info()\n\n    def result(self):\n        try:\n            raise self._exc_info[1]\n        finally:\n            self._exc_info = None\n",
    ]
    INVALID = [
        Invalid("def connect(addresses):\n    for address in addresses:\n        try:\n            return open(address)\n        except OSError as e:\n            err = e\n    raise err\n", (6, 13)),
        Invalid("import sys\n\ndef report(job):\n    try:\n        job()\n    except Exception:\n        info = sys.exc_info()\n        print(info)\n", (7, 9)),
        Invalid("class Runner:\n    def run(self, job):\n        try:\n            job()\n        except Exception as e:\n            self.failures.append(e)\n", (6, 13)),
        Invalid("def trace():\n    try:\n        1 / 0\n    except ZeroDivisionError as e:\n        tb = e.__traceback__\n    return tb.tb_lineno\n", (5, 9)),
        Invalid("class Task:\n    def run(self):\n        try:\n            self.step()\n        except Exception as exc:\n            self.error = exc\n", (6, 13)),
        # Handed to a method of the class that stores its argument.
        Invalid("class Runner:\n    def run(self, job):\n        try:\n            job()\n        except Exception as exc:\n            self._record(exc)\n\n    def _record(self, error):\n        self.errors.append(error)\n", (6, 13)),
        # The walk may stop early (`break`) with the traceback still bound.
        Invalid("def frame_of(job, name):\n    try:\n        job()\n    except Exception as e:\n        tb = e.__traceback__\n        while tb is not None:\n            if tb.tb_frame.f_code.co_name == name:\n                break\n            tb = tb.tb_next\n        return tb\n", (5, 9)),
        # Handed to a future kept in a local.
        Invalid("import asyncio\n\nasync def run(job):\n    fut = asyncio.get_running_loop().create_future()\n    try:\n        job()\n    except Exception as exc:\n        fut.set_exception(exc)\n    return fut\n", (8, 9)),
    ]

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        # Except clauses open around the current node: most statements are
        # in none, and need no walk up the stack.
        self._open_handlers = 0

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._open_handlers += 1

    def leave_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._open_handlers -= 1

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._open_handlers += 1

    def leave_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._open_handlers -= 1

    def visit_Assign(self, node: cst.Assign) -> None:
        function = self._function() if self._open_handlers else None
        if function is None or not self._in_handler():
            return
        for target in (t.target for t in node.targets):
            for name, what in self._kept(target, node.value):
                if self._keeps(node, function, name, target):
                    # One finding per statement, naming the first name that keeps it.
                    shown = _text(target) if name is None else name
                    template = self.store_message if name is None else self.message
                    self.report(node, template.format(target=shown, what=what))
                    return

    def visit_Call(self, node: cst.Call) -> None:
        function = self._function() if self._open_handlers else None
        if function is None or not self._in_handler():
            return
        for store in container_stores(node, _result_used(self.ctx, node)):
            what = next((w for w in map(self._keeps_traceback, store.values) if w), None)
            if what and self._holder_keeps(node, function, store.holder):
                self.report(node, self.store_message.format(what=what, target=_text(store.holder)))
                return
        kept = self._handed_over(node)
        if kept is not None:
            what, holder = kept
            if self._holder_keeps(node, function, holder):
                self.report(node, self.store_message.format(what=what, target=_text(holder)))

    def _handed_over(self, call: cst.Call) -> Optional[Tuple[str, cst.BaseExpression]]:
        """An exception handed to something that keeps it: `fut.set_exception(e)`
        (the future keeps it), or `self._record(e)` when the class's own
        `_record` stores that argument on self."""
        func = call.func
        if type(func) is not cst.Attribute:
            return None
        if func.attr.value == "set_exception" and call.args:
            what = self._keeps_traceback(call.args[0].value)
            return (what, func.value) if what else None
        method = self.ctx.enclosing_method()
        if method is None or not is_name(func.value, method.self):
            return None
        summary = self.ctx.analysis.summary.cls(method.cls.name.value)
        for value, param in stored_arguments(call, summary.stores(func.attr.value) if summary else ()):
            what = self._keeps_traceback(value)
            if what:
                return what, cst.Attribute(func.value, cst.Name(param.attribute))
        return None

    def _holder_keeps(self, node: cst.CSTNode, function: cst.FunctionDef, holder: cst.BaseExpression) -> bool:
        if isinstance(holder, cst.Name):
            return self._is_local(function, holder.value) and not cleared_after(function, holder.value, node, self.ctx.analysis.index)
        return self._keeps(node, function, None, holder)

    def _keeps(self, node: cst.CSTNode, function: cst.FunctionDef, name: Optional[str], target: cst.BaseExpression) -> bool:
        """A local unless cleared later; an attribute or item unless it is
        the handled exception's own (`e.tb = ...`: Python deletes `e` at the
        end of the clause) or one the class clears (the method that
        re-raises a stored exc_info and sets it to None)."""
        if name is not None:
            return self._is_local(function, name) and not cleared_after(function, name, node, self.ctx.analysis.index)
        root = _root_name(target)
        if root in self._handled_names():
            return False
        if root is not None and cleared_after(function, root, node, self.ctx.analysis.index):
            return False  # `self = None` after `self.future.set_exception(exc)` breaks the frame's link
        method = self.ctx.enclosing_method()
        if method is None or root != method.self:
            return True
        path = (_text(target).partition(".")[2]).split("[")[0]
        if path.split(".")[0] in self.ctx.analysis.facts(method.cls).exposed_attrs:
            return False  # kept on purpose: the class hands it out (`def exception(self): return self._exc`)
        return not self.ctx.analysis.model(method.cls).clears(path)

    def _kept(self, target: cst.BaseExpression, value: cst.BaseExpression) -> List[Tuple[Optional[str], str]]:
        """(name or None for an attribute/item, what it keeps) for each part
        of `target` that receives something holding a traceback."""
        if isinstance(target, (cst.Tuple, cst.List)) and self._is_exc_info(value):
            # `etype, value, tb = sys.exc_info()`: only the last two keep the traceback.
            elements = [e.value for e in target.elements][1:]
            return [(n, "the exception from sys.exc_info()") for e in elements for n in names_in_target(e)]
        what = self._keeps_traceback(value)
        if not what:
            return []
        if isinstance(target, cst.Name):
            return [(target.value, what)]
        if isinstance(target, (cst.Attribute, cst.Subscript)):
            return [(None, what)]
        return []

    def _keeps_traceback(self, value: cst.BaseExpression) -> Optional[str]:
        """What `value` holds that keeps this frame's traceback: the handled
        exception, its `__traceback__`, `sys.exc_info()` or `sys.exception()`.
        (An exception caught by a caller has a traceback without this frame.)"""
        handled = self._handled_names()
        for part in held(value):
            if isinstance(part, cst.Name) and part.value in handled:
                return f"the exception `{part.value}`"
            if _is_traceback_of_name(part) and part.value.value in handled:
                return "its traceback"
            if self._is_exc_info(part):
                return "the result of sys.exc_info()"
            if isinstance(part, cst.Subscript) and self._is_exc_info(part.value) and _index(part) != 0:
                return "an item of sys.exc_info()"
            if isinstance(part, cst.Call) and self.ctx.qualified_name(part.func) in _CURRENT_EXCEPTION:
                return "the exception from sys.exception()"
        return None

    def _is_exc_info(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Call) and self.ctx.qualified_name(node.func) in _EXC_INFO

    def _handlers(self) -> List[cst.CSTNode]:
        """Except clauses of the current function whose body holds the current node."""
        found = []
        stack = self.ctx.stack
        for i in range(len(stack) - 2, -1, -1):
            node = stack[i]
            if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                break
            if isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler)) and stack[i + 1] is node.body:
                found.append(node)
        return found

    def _in_handler(self) -> bool:
        return bool(self._handlers())

    def _handled_names(self) -> Set[str]:
        return {
            h.name.name.value for h in self._handlers() if h.name is not None and isinstance(h.name.name, cst.Name)
        }

    def _function(self) -> Optional[cst.FunctionDef]:
        scope = self.ctx.innermost_scope()
        return scope if isinstance(scope, cst.FunctionDef) else None

    def _is_local(self, function: cst.FunctionDef, name: str) -> bool:
        # Names declared global or nonlocal are left out of the function's table.
        return name in self.ctx.names.bindings(function)


def _root_name(node: cst.BaseExpression) -> Optional[str]:
    while type(node) in (cst.Attribute, cst.Subscript):
        node = node.value
    return node.value if type(node) is cst.Name else None


def _is_traceback_of_name(node: cst.CSTNode) -> bool:
    return type(node) is cst.Attribute and type(node.value) is cst.Name and node.attr.value == "__traceback__"


def _index(subscript: cst.Subscript) -> Optional[int]:
    if len(subscript.slice) != 1 or not isinstance(subscript.slice[0].slice, cst.Index):
        return None
    return int_value(subscript.slice[0].slice.value)


# Calls that return the calling frame itself (or records holding it).
_FRAME_GETTERS = ("inspect.currentframe", "sys._getframe")
_STACK_GETTERS = ("inspect.stack", "inspect.trace")


class FrameKeptInLocal(Rule):
    """The current frame bound to one of its own locals.

    What it flags:
    Inside a function, `inspect.currentframe()`, `sys._getframe()` (or
    `sys._getframe(0)`), `inspect.stack()` or `inspect.trace()` (whole, or
    item 0) bound to a local name that is not deleted, set to None or
    rebound later in the function (`frame = frame.f_back` walks on), or
    stored on an attribute (`self.frame = sys._getframe()`).

    Why it matters:
    The frame holds its local variables; a local that holds the frame
    closes a cycle, which keeps every local of the frame alive until the
    cycle collector runs. The inspect documentation's own recipe is to
    `del frame` in a `finally`.

    Known limits:
    A frame further up (`sys._getframe(1)`, `currentframe().f_back`) is not
    flagged: the caller's frame does not refer to the callee's, and measured
    on CPython 3.9-3.13 it leaves no cyclic garbage. Any later `del`,
    `= None` or rebinding counts as clearing, whether or not it runs on
    every path. Test files are not checked: a frame kept by a test lives
    only as long as the test run.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    No finding: precision not measured there; the rule is exact on its
    examples and fixtures.
    """

    code = "GCL207"
    EVIDENCE = "cycle"
    name = "frame-kept-in-local"
    USE_INSTEAD = """
        import inspect

        def caller():
            frame = inspect.currentframe()
            try:
                return frame.f_back.f_code.co_name
            finally:
                del frame  # the frame holds its locals, this name included
    """
    REFERENCES = (
        ('inspect: the interpreter stack (the note on keeping references to frame objects)', 'https://docs.python.org/3/library/inspect.html#the-interpreter-stack'),
        ('sys._getframe()', 'https://docs.python.org/3/library/sys.html#sys._getframe'),
    )
    severity = Severity.WARNING
    message = "`{name}` holds the current frame, and the frame holds `{name}`: a reference cycle that keeps every local alive; `del {name}` in a finally"
    TRIGGERS = ("currentframe", "_getframe", "stack", "trace")
    VALID = [
        "import inspect\n\ndef caller():\n    frame = inspect.currentframe()\n    try:\n        return frame.f_back.f_code.co_name\n    finally:\n        del frame\n",
        "import sys\n\ndef caller():\n    frame = sys._getframe(1)\n    return frame.f_code.co_name\n",
        "import sys\n\ndef depth():\n    f = sys._getframe()\n    n = 0\n    while f is not None:\n        n += 1\n        f = f.f_back\n    return n\n",
        "import inspect\n\ndef caller_name():\n    return inspect.stack()[1].function\n",
        "import sys\n\ndef caller_file():\n    f = sys._getframe()\n    while f := f.f_back:\n        if f.f_code.co_filename != __file__:\n            return f.f_code.co_filename\n",
    ]
    INVALID = [
        Invalid("import inspect\n\ndef caller():\n    frame = inspect.currentframe()\n    return frame.f_back.f_code.co_name\n", (4, 5)),
        Invalid("import sys as system\n\nclass Tracer:\n    def __init__(self):\n        self.frame = system._getframe()\n", (5, 9)),
        Invalid("import inspect\n\ndef where():\n    records = inspect.stack()\n    return records[1].lineno\n", (4, 5)),
    ]

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.ctx.options.is_test_file:
            return  # a test's frame dies with the test run: real, and harmless
        scope = self.ctx.innermost_scope()
        if not isinstance(scope, cst.FunctionDef) or not self._current_frame(node.value):
            return
        for target in (t.target for t in node.targets):
            if isinstance(target, (cst.Attribute, cst.Subscript)):
                self.report(node, self.message.format(name=_text(target)))
            elif isinstance(target, cst.Name) and not cleared_after(scope, target.value, node, self.ctx.analysis.index, any_rebinding=True):
                self.report(node, self.message.format(name=target.value))

    def _current_frame(self, value: cst.BaseExpression) -> bool:
        if isinstance(value, cst.Subscript):
            return _index(value) == 0 and self._is_call(value.value, _STACK_GETTERS)
        if self._is_call(value, _STACK_GETTERS):
            return True
        if not self._is_call(value, _FRAME_GETTERS):
            return False
        depth = argument(value, 0, "depth")
        return depth is None or int_value(depth) == 0

    def _is_call(self, node: cst.BaseExpression, names) -> bool:
        return isinstance(node, cst.Call) and self.ctx.qualified_name(node.func) in names


def _escaping_uses(node: cst.CSTNode, name: str) -> bool:
    """`return f`, `yield f`, `x.attr = f`, `c[k] = f`, `register(f)`: the
    function is handed out to live on (not called and dropped)."""
    kind = type(node)
    if kind in (cst.Return, cst.Yield):
        return node.value is not None and is_name(node.value, name)
    if kind is cst.Arg:
        return is_name(node.value, name)
    if kind is cst.Assign:
        return is_name(node.value, name) and any(type(t.target) is not cst.Name for t in node.targets)
    return False


class RecursiveClosure(Rule):
    """A nested function that refers to itself.

    What it flags:
    A function defined inside another function whose body calls (or
    otherwise reads) its own name, unless the outer function deletes the
    name or sets it to None afterwards.

    Why it matters:
    The nested function reaches itself through a closure cell: function ->
    `__closure__` -> cell -> function. That is a reference cycle, so every
    call of the outer function leaves the function, its cell and everything
    else the closure holds as cyclic garbage (NumPy and PyTorch both fixed
    this shape in hot paths). Make it a module-level function (passing what
    it needs as arguments), or `del` the name in a `finally` once done.

    Known limits:
    Not flagged: a nested function the outer one hands out (returns,
    yields, stores on an object or in a container, passes to a call), which
    is meant to live on: its cycle only becomes garbage when whoever kept
    it lets go, not at every call. A `del name` or `name = None` anywhere after the definition counts as
    breaking the cell. Recursive lambdas (`f = lambda n: f(n - 1)`) are not
    checked.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    50 findings (22 in tests; 50 in the earlier 2026-12 run); 27 read in
    context: 27 right, 3 worth acting on, 0 wrong.
    Below the default bar (90% right and 60% worth acting on): off by
    default.
    """

    code = "GCL208"
    EVIDENCE = "cycle"
    name = "recursive-closure"
    USE_INSTEAD = """
        def flatten(tree):
            out = []
            stack = [tree]
            while stack:
                node = stack.pop()
                out.append(node)
                stack.extend(reversed(node.children))
            return out
    """
    REFERENCES = (
        ('The gc module', 'https://docs.python.org/3/library/gc.html'),
        ('Closures and cell objects', 'https://docs.python.org/3/reference/datamodel.html#function.__closure__'),
    )
    severity = Severity.WARNING
    message = "nested function `{name}` refers to itself through its closure cell: every call of `{outer}` leaves a function-cell reference cycle; make it a module-level function or `del {name}` in a finally"
    TRIGGERS = ("def",)
    VALID = [
        "def _walk(node, out):\n    out.append(node)\n    for child in node.children:\n        _walk(child, out)\n\ndef flatten(tree):\n    out = []\n    _walk(tree, out)\n    return out\n",
        "def flatten(tree):\n    out = []\n    def walk(node):\n        out.append(node)\n    walk(tree)\n    return out\n",
        "def flatten(tree):\n    def walk(node):\n        for child in node.children:\n            walk(child)\n    try:\n        walk(tree)\n    finally:\n        del walk\n",
        "class Tree:\n    def walk(self):\n        for child in self.children:\n            child.walk()\n",
        "def outer():\n    def inner(walk):\n        return walk.inner\n    return inner\n",
        # Returned: meant to live on (a decorator's wrapper).
        "def memo(f):\n    def wrapper(*a):\n        wrapper.calls += 1\n        return f(*a)\n    wrapper.calls = 0\n    return wrapper\n",
        # The comprehension's own variable shadows the function's name.
        "def outer(nodes):\n    def name(node):\n        return [name for name in node.names]\n    return [name(n) for n in nodes]\n",
    ]
    INVALID = [
        Invalid("def flatten(tree):\n    out = []\n    def walk(node):\n        out.append(node)\n        for child in node.children:\n            walk(child)\n    walk(tree)\n    return out\n", (3, 9)),
        Invalid("class Parser:\n    async def parse(self, text):\n        async def step(i):\n            return await step(i + 1) if i < len(text) else i\n        return await step(0)\n", (3, 19)),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        outer = self.ctx.innermost_scope()
        if not isinstance(outer, (cst.FunctionDef, cst.Lambda)):
            return
        name = node.name.value
        if name in self.ctx.names.bindings(node) or not free_uses(node.body, name):
            return
        if isinstance(outer, cst.FunctionDef) and (cleared_after(outer, name, node, self.ctx.analysis.index) or self._escapes(outer, name)):
            return
        outer_name = outer.name.value if isinstance(outer, cst.FunctionDef) else "<lambda>"
        self.report(node.name, self.message.format(name=name, outer=outer_name))

    def _escapes(self, outer: cst.FunctionDef, name: str) -> bool:
        """The nested function is meant to outlive the call (a returned
        wrapper, a registered callback): its cycle is not garbage of each call."""
        return any(_escaping_uses(n, name) for n in self.ctx.analysis.index.nodes(outer))
