"""Which object a name refers to, statement by statement, in one scope:
versions bumped on each rebinding and plain aliases (`y = x`), so that two
statements can be seen to touch the same object. Attribute chains
(`self.items`) are keyed by their root's identity plus the path."""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Tuple

import libcst as cst

from gclint.names import dotted
from gclint.tree import names_in_target

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


def owned_by(key: Optional[str], owner: Optional[str]) -> bool:
    """`self#0.items` is reached through `self#0`."""
    return bool(key and owner) and key.startswith(owner + ".")


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
