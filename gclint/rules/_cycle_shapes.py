"""Shapes that build reference cycles, shared by the GCL2xx rules (and by
rules that need to know a class builds a cycle through `self`).

The analysis follows names, not values: within one scope, an `Identities`
table gives every local name a version (bumped on each rebinding) and
remembers plain aliases (`y = x`), so that two statements can be seen to
touch the same object. Attribute chains (`self.items`) are keyed by their
root's identity plus the attribute path.
"""
from __future__ import annotations

import functools
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import libcst as cst
import libcst.matchers as m

from gclint.context import FileContext
from gclint.names import dotted
from gclint.rules._shapes import argument, functions_in
from gclint.tree import descendants, is_scope, names_in_target

Scope = cst.CSTNode

# Container methods that store an argument (by position) in their receiver.
_STORING_METHODS = {"append": 0, "add": 0, "appendleft": 0, "insert": 1, "setdefault": 1}
# Container methods that store every element of a literal they are given.
_EXTENDING_METHODS = ("extend", "update", "extendleft")


# Where a statement is: for each enclosing `if`, which of its parts holds it.
Branch = Tuple[Tuple[int, int], ...]


def branch_of(ctx: FileContext) -> Branch:
    stack = ctx.stack
    return tuple((id(node), id(stack[i + 1])) for i, node in enumerate(stack[:-1]) if type(node) is cst.If)


def excludes(first: Branch, second: Branch) -> bool:
    """Two places in different branches of one `if`: one never runs after the other."""
    parts = dict(first)
    return any(part != parts.get(node, part) for node, part in second)


class Identities:
    """Which object each name in one scope refers to, in source order."""

    def __init__(
        self,
        is_weak: Callable[[cst.BaseExpression], bool] = lambda value: False,
        branch: Callable[[], Branch] = lambda: (),
    ) -> None:
        self._version: Dict[str, int] = {}
        self._alias: Dict[str, str] = {}
        self._alias_branch: Dict[str, Branch] = {}
        self._branch = branch
        self._weak: set = set()
        self._from_attribute: set = set()
        self._is_weak = is_weak

    def key(self, expr: Optional[cst.BaseExpression]) -> Optional[str]:
        """A key equal for two expressions that name the same object; None
        for what is not a plain name or attribute chain, or holds a weak
        proxy (storing it makes no strong reference)."""
        text = dotted(expr) if expr is not None else None
        if text is None:
            return None
        root, dot, rest = text.partition(".")
        if root in self._weak:
            return None
        alias = self._alias.get(root)
        if alias is not None and excludes(self._alias_branch[root], self._branch()):
            # Made an alias in the `if` branch, read in the `else` one.
            alias = None
        base = alias or f"{root}#{self._version.get(root, 0)}"
        return base + dot + rest

    def reads_attribute(self, expr: cst.BaseExpression) -> bool:
        """`link_prev` after `link_prev = link.prev`: a name for an object
        taken out of another one's attribute."""
        return isinstance(expr, cst.Name) and expr.value in self._from_attribute

    def bind(self, name: str, value: Optional[cst.BaseExpression] = None) -> None:
        """`name` now refers to `value` (an alias when it is a plain name)."""
        alias = self.key(value)
        self._version[name] = self._version.get(name, 0) + 1
        self._weak.discard(name)
        self._from_attribute.discard(name)
        if value is not None and self._is_weak(value):
            self._weak.add(name)
        if isinstance(value, cst.Attribute):
            self._from_attribute.add(name)
        if alias is None:
            self._alias.pop(name, None)
        else:
            self._alias[name] = alias
            self._alias_branch[name] = self._branch()

    def bind_target(self, target: cst.BaseExpression, value: Optional[cst.BaseExpression] = None) -> None:
        if isinstance(target, cst.Name):
            self.bind(target.value, value)
            return
        for name in names_in_target(target):
            self.bind(name)

    def observe(self, node: cst.CSTNode) -> None:
        """Record what a binding node (assignment, loop, with, del...) binds."""
        for target, value in bindings_of(node):
            self.bind_target(target, value)


def bindings_of(node: cst.CSTNode) -> List[Tuple[cst.BaseExpression, Optional[cst.BaseExpression]]]:
    """(target, value) pairs a node binds; value only for a plain `a = b`."""
    if isinstance(node, cst.Assign):
        return [(t.target, node.value) for t in node.targets]
    if isinstance(node, (cst.AnnAssign, cst.For, cst.NamedExpr)):
        return [(node.target, None)]
    if isinstance(node, cst.WithItem) and node.asname is not None:
        return [(node.asname.name, None)]
    if isinstance(node, cst.ExceptHandler) and node.name is not None:
        return [(node.name.name, None)]
    if isinstance(node, cst.Del):
        return [(node.target, None)]
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        return [(node.name, None)]
    return []


# Node types whose visit changes what names refer to.
BINDING_NODES = (cst.Assign, cst.AnnAssign, cst.For, cst.NamedExpr, cst.WithItem, cst.ExceptHandler, cst.Del)


# Exact types: libcst's node classes are final, and `type(x) in` skips the
# ABC machinery that makes isinstance() slow in the hooks run on every node.
_SCOPE_TYPES = frozenset((cst.FunctionDef, cst.Lambda, cst.ClassDef))


def innermost_scope(ctx: FileContext) -> Scope:
    """The function, lambda or class whose body holds the current node, else the module."""
    stack = ctx.stack
    for i in range(len(stack) - 2, -1, -1):
        node = stack[i]
        if type(node) in _SCOPE_TYPES and stack[i + 1] is node.body:
            return node
    return ctx.module


_STORE_TARGETS = (cst.Attribute, cst.Subscript)


def may_store(node: cst.CSTNode) -> bool:
    """A cheap first test: can `node` store a reference into an object?
    (A method call, an assignment to an attribute or item, an augmented
    assignment.) Most calls and assignments cannot, and are skipped."""
    kind = type(node)
    if kind is cst.Call:
        return type(node.func) is cst.Attribute
    if kind is cst.Assign:
        return any(type(t.target) in _STORE_TARGETS for t in node.targets)
    if kind is cst.AnnAssign:
        return type(node.target) in _STORE_TARGETS
    return kind is cst.AugAssign


class Store(NamedTuple):
    """`holder` keeps a reference to each of `values` after `node` runs."""

    node: cst.CSTNode
    holder: cst.BaseExpression
    values: Tuple[cst.BaseExpression, ...]
    attribute: Optional[str]  # the attribute name for `holder.attribute = value`


def container_stores(node: cst.CSTNode, result_used: bool = False) -> List[Store]:
    """`c.append(v)`, `c.insert(i, v)`, `c[k] = v`, `c += [v]`,
    `c.extend([..v])`, `c.update({k: v})`: the container and what it gains.

    A call whose result is used (`B = A.add(A)`) is arithmetic or a builder,
    not a container mutator (those return None), unless it is `setdefault`."""
    kind = type(node)
    if kind is cst.Call:
        stores = _stores_by_call(node)
        if result_used and not m.matches(node.func, m.Attribute(attr=m.Name("setdefault"))):
            return []
        return stores
    if kind is cst.Assign:
        return [
            Store(node, t.target.value, (node.value,), None)
            for t in node.targets
            if isinstance(t.target, cst.Subscript) and not _is_slice(t.target)
        ]
    if kind is cst.AugAssign and type(node.operator) in (cst.AddAssign, cst.BitOrAssign):
        elements = tuple(literal_elements(node.value))
        return [Store(node, node.target, elements, None)] if elements else []
    return []


def _stores_by_call(call: cst.Call) -> List[Store]:
    if type(call.func) is not cst.Attribute:
        return []
    method, receiver = call.func.attr.value, call.func.value
    if method in _STORING_METHODS:
        value = argument(call, _STORING_METHODS[method], "")
        return [Store(call, receiver, (value,), None)] if value is not None else []
    if method in _EXTENDING_METHODS:
        values = [v for a in call.args if not a.star and a.keyword is None for v in literal_elements(a.value)]
        values += [a.value for a in call.args if a.keyword is not None]
        return [Store(call, receiver, tuple(values), None)] if values else []
    return []


def _is_slice(target: cst.Subscript) -> bool:
    # `a[:] = a` copies the elements; it does not store `a` in itself.
    return any(isinstance(e.slice, cst.Slice) for e in target.slice)


def literal_elements(node: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The elements of a list/tuple/set literal, the keys and values of a dict literal."""
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        for element in node.elements:
            if isinstance(element, cst.Element):
                yield element.value
    elif isinstance(node, cst.Dict):
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                yield element.key
                yield element.value


def attribute_stores(node: cst.CSTNode) -> List[Store]:
    """`obj.attr = value` (and annotated or chained forms)."""
    kind = type(node)
    if kind is cst.Assign:
        targets = [t.target for t in node.targets]
    elif kind is cst.AnnAssign and node.value is not None:
        targets = [node.target]
    else:
        return []
    value = node.value
    return [Store(node, t.value, (value,), t.attr.value) for t in targets if type(t) is cst.Attribute]


def held(value: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The expressions whose objects `value` keeps a reference to when stored:
    itself, either branch of a conditional, elements of literal containers."""
    if isinstance(value, cst.IfExp):
        yield from held(value.body)
        yield from held(value.orelse)
    elif isinstance(value, (cst.List, cst.Tuple, cst.Set, cst.Dict)):
        for element in literal_elements(value):
            yield from held(element)
    elif value is not None:
        yield value


def holds_key(values: Sequence[cst.BaseExpression], key: str, ids: Identities) -> bool:
    return any(ids.key(v) == key for value in values for v in held(value))


def owned_by(key: Optional[str], owner: Optional[str]) -> bool:
    """`self#0.items` is reached through `self#0`."""
    return bool(key and owner) and key.startswith(owner + ".")


_WEAK_FACTORIES = ("weakref.ref", "weakref.proxy", "_weakref.ref", "_weakref.proxy", "weakref.WeakMethod")


def is_weak_reference(ctx: FileContext, value: cst.BaseExpression) -> bool:
    """`weakref.proxy(x)`: a value whose storage makes no strong reference to x."""
    return isinstance(value, cst.Call) and ctx.qualified_name(value.func) in _WEAK_FACTORIES


def holds_weak_reference(ctx: FileContext, me: Optional[str], weak: Callable[[], frozenset], value: cst.BaseExpression) -> bool:
    """A weak reference made here, or read from an attribute of `self` that
    the class only ever sets to one (`root = self.__root`)."""
    if type(value) is cst.Call:
        return is_weak_reference(ctx, value)
    if me is None or type(value) is not cst.Attribute or type(value.value) is not cst.Name:
        return False
    return value.value.value == me and value.attr.value in weak()


def weak_attributes(ctx: FileContext, cls: cst.ClassDef) -> frozenset:
    """Attributes of `self` the methods of `cls` set to weak references or
    weak containers (`self.children = weakref.WeakSet()`), and never to
    anything else."""
    weak, strong = set(), set()
    for method in functions_in(cls):
        # `__new__` builds the instance in a local, usually called `self`.
        me = self_name_of(method) or ("self" if method.name.value == "__new__" else None)
        for node in descendants(method.body, stop=is_scope):
            for store in attribute_stores(node):
                if not m.matches(store.holder, m.Name(me or "")):
                    continue
                name = ctx.qualified_name(store.values[0].func) if isinstance(store.values[0], cst.Call) else None
                is_weak = name in _WEAK_FACTORIES or (name or "").startswith("weakref.Weak")
                (weak if is_weak else strong).add(store.attribute)
    return frozenset(weak - strong)


# --- `self` and the class around it -------------------------------------

_NOT_BOUND = ("staticmethod", "classmethod", "property", "setter", "getter", "deleter", "cached_property")


def decorator_names(function: cst.FunctionDef) -> List[str]:
    names = []
    for decorator in function.decorators:
        expr = decorator.decorator
        expr = expr.func if isinstance(expr, cst.Call) else expr
        text = dotted(expr) or ""
        names.append(text.rsplit(".", 1)[-1])
    return names


def is_instance_method(function: cst.FunctionDef) -> bool:
    return not any(name in _NOT_BOUND for name in decorator_names(function))


# Methods Python makes class methods by itself, and the usual names of a
# first parameter that is a class (metaclass methods).
_IMPLICIT_CLASS_METHODS = ("__init_subclass__", "__class_getitem__", "__new__")
_CLASS_PARAMS = ("cls", "mcs", "mcls", "metacls", "klass")


def self_name_of(method: cst.FunctionDef) -> Optional[str]:
    params = (*method.params.posonly_params, *method.params.params)
    if not params or not is_instance_method(method) or method.name.value in _IMPLICIT_CLASS_METHODS:
        return None
    name = params[0].name.value
    return None if name in _CLASS_PARAMS else name


def enclosing_self(ctx: FileContext) -> Tuple[Optional[str], Optional[cst.ClassDef]]:
    """The name of `self` of the method the current node is in (also from a
    function or lambda nested in it), and that method's class."""
    stack = ctx.stack
    for i in range(len(stack) - 2, 0, -1):
        node = stack[i]
        if isinstance(node, cst.FunctionDef) and stack[i + 1] is node.body:
            owner = stack[i - 2] if i >= 2 else None
            if isinstance(owner, cst.ClassDef):
                return self_name_of(node), owner
        if isinstance(node, cst.ClassDef) and stack[i + 1] is node.body:
            return None, None
    return None, None


def class_level_attributes(cls: cst.ClassDef) -> frozenset:
    """Names assigned in the class body but never as `self.name = ...` in its
    methods: shared by all instances, owned by the class, not the instance."""
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    in_body = set()
    for stmt in body:
        for small in getattr(stmt, "body", ()) if isinstance(stmt, cst.SimpleStatementLine) else ():
            for target, _ in bindings_of(small) if isinstance(small, (cst.Assign, cst.AnnAssign)) else ():
                in_body.update(names_in_target(target))
    for method in functions_in(cls):
        me = self_name_of(method)
        for store in (s for n in descendants(method.body, stop=is_scope) for s in attribute_stores(n)):
            if m.matches(store.holder, m.Name(me)) and store.attribute in in_body:
                in_body.discard(store.attribute)
    return frozenset(in_body)


def method_names(cls: cst.ClassDef) -> frozenset:
    """Methods of `cls` that bind to the instance when read from it."""
    return frozenset(f.name.value for f in functions_in(cls) if is_instance_method(f))


def uses_name(node: cst.CSTNode, name: str) -> bool:
    """Whether the variable `name` is read anywhere in `node` (nested scopes
    included); attribute names and keywords (`x.name`, `f(name=1)`) are not reads."""
    not_variables = set()
    for child in descendants(node):
        if isinstance(child, cst.Attribute):
            not_variables.add(id(child.attr))
        elif isinstance(child, cst.Arg) and child.keyword is not None:
            not_variables.add(id(child.keyword))
        elif isinstance(child, cst.Name) and child.value == name and id(child) not in not_variables:
            return True
    return False


def lambda_params(node: cst.Lambda) -> List[str]:
    params = node.params
    names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
    names += [p.name.value for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
    return names


def cleared_after(function: cst.CSTNode, name: str, binding: cst.CSTNode, any_rebinding: bool = False) -> bool:
    """Whether `function`, after `binding` in source order, deletes `name`,
    sets it to None, calls `name.clear()` (or, with `any_rebinding`, rebinds
    it at all): the reference a cycle needs is dropped."""
    seen = False
    for node in descendants(function.body, stop=is_scope):
        if node is binding:
            seen = True
        elif seen and _drops(node, name, any_rebinding):
            return True
    return False


def _drops(node: cst.CSTNode, name: str, any_rebinding: bool) -> bool:
    if m.matches(node, m.Call(func=m.Attribute(value=m.Name(name), attr=m.Name("clear")))):
        # `errors.clear()` empties a container that held the reference.
        return True
    if isinstance(node, cst.Del):
        return name in _deleted_names(node.target)
    if isinstance(node, cst.Assign) and any(name in names_in_target(t.target) for t in node.targets):
        return any_rebinding or m.matches(node.value, m.Name("None"))
    if isinstance(node, cst.NamedExpr) and any_rebinding:
        return name in names_in_target(node.target)
    return False


def _deleted_names(target: cst.BaseExpression) -> List[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _deleted_names(e.value)]
    return []


# --- reusable: does a class build a cycle through `self`? ----------------


class SelfCycle(NamedTuple):
    node: cst.CSTNode
    how: str


def self_cycles(ctx: FileContext, cls: cst.ClassDef) -> List[SelfCycle]:
    """Statements in the methods of `cls` that make an instance refer to
    itself: `self.me = self`, `self.items.append(self)`, `self.child.parent
    = self`, or a bound method / self-using closure kept on `self`.

    Scans the class on demand (for rules that ask about one class, such as a
    finalizer check), with the same tests the GCL203/GCL204/GCL205 rules
    apply during the walk.
    """
    found = []
    methods = method_names(cls)
    for method in functions_in(cls):
        me = self_name_of(method)
        if me is None:
            continue
        ids = Identities(functools.partial(is_weak_reference, ctx))
        callables = SelfCallables(ctx, me, methods)
        for node in descendants(method.body, stop=is_scope):
            kept = callables.stored_on_self(node, ids)
            how = self_store(node, ids, me) or (kept and f"a callable that holds self is {kept}")
            if how:
                found.append(SelfCycle(node, how))
            callables.observe(node)
            ids.observe(node)
    return found


def self_store(node: cst.CSTNode, ids: Identities, me: str) -> Optional[str]:
    """`self` stored in itself, in a container it owns, or in an object it owns."""
    own = ids.key(cst.Name(me))
    for store in attribute_stores(node):
        holder = ids.key(store.holder)
        if holds_key(store.values, own, ids) and (holder == own or owned_by(holder, own)):
            return "self stored in an attribute of itself"
    for store in container_stores(node):
        if owned_by(ids.key(store.holder), own) and holds_key(store.values, own, ids):
            return "self stored in a container it owns"
    return None


# --- callables that keep `self` alive -------------------------------------

_KEEPING_CALLS = ("functools.partial", "functools.partialmethod", "types.MethodType")
_WEAKREF_WITH_CALLBACK = ("weakref.ref", "weakref.proxy", "_weakref.ref", "_weakref.proxy")


class SelfCallables:
    """Knows which expressions in a method evaluate to callables that keep
    `self` alive: bound methods of self, closures over self, partials of
    them, weak references whose callback is one of those, and objects built
    with one (`Thread(target=self.run)`)."""

    def __init__(self, ctx: FileContext, me: str, methods: frozenset) -> None:
        self.ctx = ctx
        self.me = me
        self.methods = methods
        self.local_callables: set = set()

    def observe(self, node: cst.CSTNode) -> None:
        """Follow names: `cb = self.tick` makes `cb` one; rebinding clears it."""
        if isinstance(node, cst.FunctionDef):
            # A nested def that binds its own `self` does not use the method's.
            own = self.me in self.ctx.names.bindings(node)
            self._mark(node.name.value, not own and uses_name(node.body, self.me))
        elif isinstance(node, cst.Assign):
            keeps = self.keeps_self(node.value)
            for target in node.targets:
                for name in names_in_target(target.target):
                    self._mark(name, keeps and isinstance(target.target, cst.Name))
        elif isinstance(node, BINDING_NODES):
            for target, _ in bindings_of(node):
                for name in names_in_target(target):
                    self._mark(name, False)

    def _mark(self, name: str, keeps: bool) -> None:
        if keeps:
            self.local_callables.add(name)
        else:
            self.local_callables.discard(name)

    def keeps_self(self, expr: Optional[cst.BaseExpression]) -> bool:
        if expr is None:
            return False
        if isinstance(expr, cst.Name):
            return expr.value in self.local_callables
        if isinstance(expr, cst.Attribute):
            return m.matches(expr.value, m.Name(self.me)) and expr.attr.value in self.methods
        if isinstance(expr, cst.Lambda):
            return self.me not in lambda_params(expr) and uses_name(expr.body, self.me)
        if isinstance(expr, (cst.List, cst.Tuple, cst.Set, cst.Dict, cst.IfExp)):
            return any(self.keeps_self(v) for v in held(expr))
        if isinstance(expr, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            return self.keeps_self(expr.elt)
        if isinstance(expr, cst.DictComp):
            return self.keeps_self(expr.value)
        if isinstance(expr, cst.Call):
            return self._call_keeps_self(expr)
        return False

    def _call_keeps_self(self, call: cst.Call) -> bool:
        # A local or parameter resolves to None; its spelling still says "class".
        name = self.ctx.qualified_name(call.func) or dotted(call.func) or ""
        args = [a.value for a in call.args]
        if name in _WEAKREF_WITH_CALLBACK:
            return self.keeps_self(argument(call, 1, "callback"))
        if name in _KEEPING_CALLS:
            return any(self.keeps_self(a) or m.matches(a, m.Name(self.me)) for a in args)
        if _looks_like_constructor(name) and not name.startswith(_DROPS_CALLBACKS):
            # An object built with a callback usually keeps it (Engine(on_change=...)).
            return any(self.keeps_self(a) for a in _kept_arguments(call))
        return False

    def stored_on_self(self, node: cst.CSTNode, ids: Identities) -> Optional[str]:
        """A self-keeping callable stored on self, in a container self owns,
        or registered with an object self owns."""
        own = ids.key(cst.Name(self.me))
        for store in attribute_stores(node) + container_stores(node):
            holder = ids.key(store.holder)
            if (holder == own or owned_by(holder, own)) and any(self.keeps_self(v) for v in store.values):
                return "stored on self"
        if isinstance(node, cst.Call) and self._registered_with_owned(node, ids, own):
            return "handed to an object self keeps"
        return None

    def _registered_with_owned(self, call: cst.Call, ids: Identities, own: Optional[str]) -> bool:
        func = call.func
        if not (isinstance(func, cst.Attribute) and _registers_callback(func.attr.value)):
            return False
        if not owned_by(ids.key(func.value), own):
            return False
        return any(self.keeps_self(a) for a in _kept_arguments(call))


# Classes that do not keep the callback they are built with for long:
# weak references, and threads, which drop their target when run() ends.
_DROPS_CALLBACKS = ("weakref.", "threading.", "multiprocessing.")


def _kept_arguments(call: cst.Call) -> List[cst.BaseExpression]:
    """Arguments an object may keep. Not Tk's `command=`: Tk hands it to the
    Tcl interpreter, which holds it outside what the cycle collector sees,
    until the widget is destroyed."""
    return [a.value for a in call.args if not (a.keyword and a.keyword.value == "command")]


def _looks_like_constructor(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return last[:1].isupper()


def _registers_callback(method: str) -> bool:
    """Method names that keep the callable they are given (event hooks)."""
    # Not `bind`: Tk's keeps the callable in the Tcl interpreter, outside
    # the objects the cycle collector sees. Not `connect*`: asyncio's use a
    # protocol factory once, and Qt holds bound-method slots weakly.
    return method.startswith(("on_", "add_", "register", "subscribe", "observe", "listen", "watch"))
