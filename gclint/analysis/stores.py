"""Statements that store a reference into an object: `obj.attr = v`,
`c.append(v)`, `c[k] = v`, `c += [v]`; and what a stored value holds."""
from __future__ import annotations

from typing import Iterator, List, NamedTuple, Optional, Sequence, Tuple

import libcst as cst

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
    if isinstance(node, cst.Integer):
        value = node.evaluated_value
        return value if isinstance(value, int) else None
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
