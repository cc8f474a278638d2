"""Links undone: an edge the class clears on its own.

A reference from the instance is dropped again when a method that ends the
object's life (`close`, `__exit__`, `shutdown`, `connection_lost`, ...)
sets it to None, deletes it, clears the container or takes an entry out;
when the callback the edge points to does so (a one-shot timer resetting
its own handle, an override deleting itself); or when a `finally` of the
method that made it does. These trust the clean-up to be called.
"""
from __future__ import annotations

import re
from typing import Dict, FrozenSet, Iterator, Optional, Set

import libcst as cst

from gclint.analysis.stores import del_targets, strip_subscripts
from gclint.names import dotted
from gclint.tree import descendants, is_scope, names_in_target

_LIFECYCLE_ENDING = re.compile(
    r"^_*(a?close|exit|aexit|shutdown|stop|release|dispose|cancel|connection_?lost|tear_?down|clean_?up"
    r"|commit|rollback|finish|detach|disconnect|unregister|reset|terminate|destroy|abort|unlink|quit|free|dismiss"
    r"|on_?close|handle_?close|remove)",
    re.I,
)
_EMPTYING_METHODS = frozenset({"clear", "pop", "popitem", "popleft", "remove", "discard", "difference_update"})


def ends_lifecycle(function: cst.FunctionDef) -> bool:
    return bool(_LIFECYCLE_ENDING.search(function.name.value))


def self_paths(function: cst.FunctionDef, me: str) -> Dict[str, str]:
    """Locals that name an attribute of `me`: `conn` after `self.conn = conn`
    or `conn = self.conn`."""
    paths: Dict[str, str] = {}
    for node in descendants(function.body, stop=is_scope):
        if not isinstance(node, cst.Assign) or len(node.targets) != 1:
            continue
        target, value = node.targets[0].target, node.value
        if isinstance(target, cst.Name) and _relative(value, me, {}):
            paths[target.value] = _relative(value, me, {})
        elif isinstance(value, cst.Name) and _relative(target, me, {}):
            paths.setdefault(value.value, _relative(target, me, {}))
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


def cleared_in(function: cst.CSTNode, me: str, any_rebinding: bool = True) -> FrozenSet[str]:
    """Attribute paths of `me` that `function` drops: set to None (or, with
    `any_rebinding`, to anything else), deleted, emptied or taken from."""
    paths = self_paths(function, me) if isinstance(function, cst.FunctionDef) else {}
    body = function.body if hasattr(function, "body") else function
    return frozenset(_cleared(descendants(body, stop=is_scope), me, paths, any_rebinding))


def _cleared(nodes: Iterator[cst.CSTNode], me: str, paths: Dict[str, str], any_rebinding: bool) -> Iterator[str]:
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


def cleared_in_finally(function: cst.FunctionDef, me: str) -> FrozenSet[str]:
    found: Set[str] = set()
    for node in descendants(function.body, stop=is_scope):
        if isinstance(node, cst.Finally):
            found |= cleared_in(node, me, any_rebinding=False)
    return frozenset(found)


def covers(cleared: FrozenSet[str], path: str) -> bool:
    """Clearing `a` undoes `a.b` too; clearing `a.b` undoes the link stored at `a.b`."""
    parts = path.split(".")
    return any(".".join(parts[:i]) in cleared for i in range(1, len(parts) + 1))


def names_cleared(function: cst.CSTNode) -> FrozenSet[str]:
    """Local names `function` sets to None or deletes anywhere."""
    found: Set[str] = set()
    for node in descendants(function.body, stop=is_scope):
        if isinstance(node, cst.Assign) and dotted(node.value) == "None":
            for target in node.targets:
                found.update(names_in_target(target.target))
        elif isinstance(node, cst.Del):
            found.update(t.value for t in del_targets(node.target) if isinstance(t, cst.Name))
    return frozenset(found)
