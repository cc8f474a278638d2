"""What code does with names and objects, statement by statement: which
object a name refers to (versions and plain aliases within one scope), what
a statement stores into an object (`obj.attr = v`, `c.append(v)`,
`c[k] = v`), what a stored value holds, whether a name is read (a "free
use", which closures are judged by), and the weak forms that store no
strong reference at all."""
from __future__ import annotations

from typing import Callable, Dict, FrozenSet, Iterator, List, NamedTuple, Optional, Sequence, Tuple, TypeVar

import libcst as cst

from gclint.names import NameResolver, dotted
from gclint.tree import children, descendants, is_scope, names_in_target, scope_nodes

T = TypeVar("T")


class FileIndex:
    """Per-file lookups every analysis step shares: qualified names, and the
    nodes of each function's own body (nested scopes not entered), listed
    once per function instead of once per question."""

    def __init__(self, names: NameResolver, module: Optional[cst.Module] = None) -> None:
        self.names = names
        self.module = module
        self._nodes: Dict[int, Tuple[cst.CSTNode, ...]] = {}
        self._facts: Dict[Tuple[str, int], object] = {}

    def resolve(self, expr: cst.BaseExpression, scopes: Tuple[cst.CSTNode, ...]) -> Optional[str]:
        return self.names.qualified_name(expr, scopes)

    def nodes(self, function: cst.CSTNode) -> Tuple[cst.CSTNode, ...]:
        found = self._nodes.get(id(function))
        if found is None:
            found = self._nodes[id(function)] = tuple(scope_nodes(function.body))
        return found

    def class_named(self, name: Optional[str]) -> Optional[cst.ClassDef]:
        """A class defined at the top of the module, by its name."""
        if self.module is None or not name:
            return None
        classes = self.per_function("classes", self.module, lambda m: {s.name.value: s for s in statements(m) if type(s) is cst.ClassDef})
        return classes.get(name)

    def per_function(self, kind: str, function: cst.CSTNode, compute: Callable[[cst.CSTNode], T]) -> T:
        """`compute(function)`, computed once per function and kind of fact
        (a question asked for every statement must not re-walk the body)."""
        key = (kind, id(function))
        if key not in self._facts:
            self._facts[key] = compute(function)
        return self._facts[key]


_CODE = cst.Module([])


def code_text(node: cst.CSTNode, limit: int = 0) -> str:
    """The source of `node`, shortened to `limit` characters when given (for messages)."""
    text = _CODE.code_for_node(node).strip()
    return text if not limit or len(text) <= limit else text[: limit - 3] + "..."


def is_name(node: cst.CSTNode, name: str) -> bool:
    return type(node) is cst.Name and node.value == name


# --- weak forms

# Calls whose result refers to its first argument weakly.
WEAK_REFERENCES = frozenset({"weakref.ref", "weakref.proxy", "_weakref.ref", "_weakref.proxy", "weakref.WeakMethod"})
# The ones that take a callback as second argument (held strongly).
WITH_CALLBACK = frozenset({"weakref.ref", "weakref.proxy", "_weakref.ref", "_weakref.proxy", "weakref.WeakMethod"})
WEAK_CONTAINERS = frozenset({"weakref.WeakSet", "weakref.WeakValueDictionary", "weakref.WeakKeyDictionary", "_weakrefset.WeakSet"})


def is_weak_factory(name: Optional[str]) -> bool:
    """A weak reference or a weak container (`weakref.Weak*`)."""
    return bool(name) and (name in WEAK_REFERENCES or name in WEAK_CONTAINERS or name.startswith("weakref.Weak"))


# --- what a statement stores

# Container methods that store an argument (by position) in their receiver.
STORING_METHODS = {"append": 0, "add": 0, "appendleft": 0, "insert": 1, "setdefault": 1, "put": 0, "put_nowait": 0}
# Container methods that store every element of a literal they are given.
_EXTENDING_METHODS = ("extend", "update", "extendleft")
_STORE_TARGETS = (cst.Attribute, cst.Subscript)


def argument(call: cst.Call, position: int, keyword: str) -> Optional[cst.BaseExpression]:
    """The expression passed as positional `position` or as `keyword=`."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if len(positional) > position:
        return positional[position].value
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    return None


def int_value(node: Optional[cst.BaseExpression]) -> Optional[int]:
    # int(text, 0), not evaluated_value: ast.literal_eval leaves cyclic garbage per call.
    if isinstance(node, cst.Integer):
        try:
            return int(node.value, 0)
        except ValueError:  # a legacy literal such as `00`
            return 0 if set(node.value) <= {"0", "_"} else None
    return None


def may_store(node: cst.CSTNode) -> bool:
    """A cheap first test: can `node` store a reference into an object?
    Most calls and assignments cannot, and are skipped."""
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
        func = node.func
        if result_used and not (type(func) is cst.Attribute and func.attr.value == "setdefault"):
            return []
        return _stores_by_call(node)
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
    if method in STORING_METHODS:
        value = argument(call, STORING_METHODS[method], "")
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


def all_stores(node: cst.CSTNode, result_used: bool = False) -> List[Store]:
    return attribute_stores(node) + container_stores(node, result_used)


def held(value: Optional[cst.BaseExpression]) -> Iterator[cst.BaseExpression]:
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


def strip_subscripts(expr: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(expr, cst.Subscript):
        expr = expr.value
    return expr


def del_targets(target: cst.BaseExpression) -> List[cst.BaseExpression]:
    if isinstance(target, (cst.Tuple, cst.List)):
        return [t for e in target.elements for t in del_targets(e.value)]
    return [target]


def statements(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """The statements directly in a module, class or function body."""
    body = getattr(node, "body", ())
    return body.body if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else body


def functions_in(container: cst.CSTNode) -> Iterator[cst.FunctionDef]:
    """Functions defined directly in a module or class body."""
    for stmt in statements(container):
        if isinstance(stmt, cst.FunctionDef):
            yield stmt


# --- which object a name refers to

# Where a statement is: for each enclosing `if`, which of its parts holds it.
Branch = Tuple[Tuple[int, int], ...]


def branch_of(stack: List[cst.CSTNode]) -> Branch:
    return tuple((id(node), id(stack[i + 1])) for i, node in enumerate(stack[:-1]) if type(node) is cst.If)


def excludes(first: Branch, second: Branch) -> bool:
    """Two places in different branches of one `if`: one never runs after the other."""
    parts = dict(first)
    return any(part != parts.get(node, part) for node, part in second)


def _no_branch() -> Branch:
    return ()


def _never_weak(value: cst.BaseExpression) -> bool:
    return False


class Identities:
    """Which object each name in one scope refers to, in source order."""

    def __init__(
        self,
        is_weak: Callable[[cst.BaseExpression], bool] = _never_weak,
        branch: Callable[[], Branch] = _no_branch,
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
        return None if text is None else self.key_of(text)

    def key_of(self, text: str) -> Optional[str]:
        """`key()` for a dotted name given as text (`self`, `self.items`)."""
        root, dot, rest = text.partition(".")
        if root in _CONSTANTS:
            return None  # `x = None` makes `x` no alias of anything
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


_CONSTANTS = frozenset({"None", "True", "False"})


def owned_by(key: Optional[str], owner: Optional[str]) -> bool:
    """`self#0.items` is reached through `self#0`."""
    return bool(key and owner) and key.startswith(owner + ".")


def bindings_of(node: cst.CSTNode) -> List[Tuple[cst.BaseExpression, Optional[cst.BaseExpression]]]:
    """(target, value) pairs a node binds; value only for a plain `a = b`.
    (Exact types: this runs on every node, and isinstance() on libcst's
    ABCs is slow.)"""
    kind = type(node)
    if kind not in _BINDING_TYPES:
        return []
    if kind is cst.Assign:
        return [(t.target, node.value) for t in node.targets]
    if kind in (cst.AnnAssign, cst.For, cst.NamedExpr, cst.Del):
        return [(node.target, None)]
    if kind is cst.WithItem:
        return [(node.asname.name, None)] if node.asname is not None else []
    if kind is cst.ExceptHandler:
        return [(node.name.name, None)] if node.name is not None else []
    return [(node.name, None)]  # FunctionDef, ClassDef


# Node types whose visit changes what names refer to.
BINDING_NODES = (cst.Assign, cst.AnnAssign, cst.For, cst.NamedExpr, cst.WithItem, cst.ExceptHandler, cst.Del)
_BINDING_TYPES = frozenset((*BINDING_NODES, cst.FunctionDef, cst.ClassDef))


# --- whether a name is read


def param_names(params: cst.Parameters) -> Tuple[str, ...]:
    """Every name a parameter list binds, stars included."""
    names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
    names += [s.name.value for s in (params.star_arg, params.star_kwarg) if isinstance(s, cst.Param)]
    return tuple(names)


_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def free_uses(node: cst.CSTNode, name: str) -> bool:
    """Whether the variable `name` is read in `node`, nested scopes included,
    not counting attribute names, keyword names, and nested functions,
    lambdas or comprehensions that bind `name` themselves. A parameter
    default is evaluated where the function is defined: `q=self.queue` holds
    the queue, `me=self` holds self."""
    todo: List[cst.CSTNode] = [node]
    while todo:
        current = todo.pop()
        if type(current) is cst.Name:
            if current.value == name:
                return True
            continue
        todo.extend(_readable_children(current, name))
    return False


def _readable_children(node: cst.CSTNode, name: str) -> Sequence[cst.CSTNode]:
    kind = type(node)
    if kind is cst.Attribute:
        return [node.value]
    if kind is cst.Arg:
        return [node.value]
    if kind is cst.Param:
        return [node.default] if isinstance(node.default, cst.Name) else []
    if kind in (cst.FunctionDef, cst.Lambda):
        if name in param_names(node.params):
            return [p for p in children(node.params)]
        return children(node)
    if kind in _COMPREHENSIONS and name in _comprehension_targets(node):
        # `[walk for walk in xs]` reads its own `walk`; only the first
        # iterable is evaluated outside.
        return [node.for_in.iter]
    return children(node)


def _comprehension_targets(node: cst.CSTNode) -> FrozenSet[str]:
    names = set()
    clause = node.for_in
    while clause is not None:
        names.update(names_in_target(clause.target))
        clause = clause.inner_for_in
    return frozenset(names)


def closure_reads(function: cst.CSTNode, name: str) -> bool:
    """What the function object holds: its body's free variables and its
    defaults, not its decorators (they run once, in the enclosing scope,
    and what they return is another object)."""
    if isinstance(function, cst.FunctionDef) and function.decorators:
        return free_uses(function.with_changes(decorators=()), name)
    return free_uses(function, name)
