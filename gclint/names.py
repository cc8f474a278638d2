"""Turn `g.collect` or `collect` into `gc.collect` from a file's own bindings.

A per-file table of imports and assignments, built lazily per scope, stands
in for libcst's ScopeProvider + QualifiedNameProvider (ten times the parse).
It follows Python's scoping: a name assigned anywhere in a function is local
to the whole function; class bodies do not enclose their methods.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple, Union

import libcst as cst

from gclint.tree import children, names_in_target

# A binding is either the dotted name an import gave it, or LOCAL.
LOCAL = None
_AMBIGUOUS = object()
Binding = Optional[str]
Scope = Union[cst.Module, cst.FunctionDef, cst.Lambda, cst.ClassDef]


def dotted(node: cst.BaseExpression) -> Optional[str]:
    """`a.b.c` as text, or None when it is not a plain dotted name."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        left = dotted(node.value)
        return f"{left}.{node.attr.value}" if left else None
    return None


def _module_name(node: Union[cst.Attribute, cst.Name, None], dots: int) -> str:
    name = dotted(node) if node is not None else None
    return "." * dots + (name or "")


class _Bindings:
    """Collects the names one scope binds, without entering nested scopes."""

    def __init__(self) -> None:
        self.table: Dict[str, object] = {}
        self.declared_elsewhere: set = set()

    def bind(self, name: str, value: Binding) -> None:
        old = self.table.get(name, value)
        self.table[name] = value if old == value else _AMBIGUOUS

    def collect(self, scope: Scope) -> Dict[str, Binding]:
        if isinstance(scope, (cst.FunctionDef, cst.Lambda)):
            for param in _params(scope.params):
                self.bind(param, LOCAL)
        if isinstance(scope, cst.Module):
            todo = list(scope.body)
        elif isinstance(scope, cst.Lambda):
            todo = []
        else:
            todo = list(children(scope.body))
        binding_types = _BINDING_TYPES
        while todo:
            node = todo.pop()
            # Most nodes bind nothing: one set lookup here, no call.
            if type(node) in binding_types and self._binds(node):
                continue
            todo.extend(children(node))
        for name in self.declared_elsewhere:
            self.table.pop(name, None)
        return {k: (None if v is _AMBIGUOUS else v) for k, v in self.table.items()}

    def _binds(self, node: cst.CSTNode) -> bool:
        """Record what `node` binds; True when its subtree must not be entered."""
        kind = type(node)
        if kind not in _BINDING_TYPES:
            return False  # most nodes bind nothing: one set lookup instead of isinstance chains
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self.bind(node.name.value, LOCAL)
            # Decorators and defaults run in this scope; walrus there is rare.
            return True
        if isinstance(node, cst.Lambda) or isinstance(node, _COMPREHENSIONS):
            return True
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted(alias.name) or ""
                if alias.asname is not None:
                    self._bind_target(alias.asname.name, full)
                else:
                    self.bind(full.split(".")[0], full.split(".")[0])
            return True
        if isinstance(node, cst.ImportFrom):
            self._bind_from(node)
            return True
        if isinstance(node, (cst.Global, cst.Nonlocal)):
            self.declared_elsewhere.update(n.name.value for n in node.names)
            return True
        for target in _targets(node):
            self._bind_target(target, LOCAL)
        return False

    def _bind_from(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        module = _module_name(node.module, len(node.relative))
        for alias in node.names:
            name = dotted(alias.name) or ""
            full = f"{module}.{name}" if module and not module.endswith(".") else module + name
            target = alias.asname.name if alias.asname is not None else alias.name
            self._bind_target(target, full)

    def _bind_target(self, target: cst.BaseExpression, value: Binding) -> None:
        for name in names_in_target(target):
            self.bind(name, value)


_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
# Every node type _binds does something with (all concrete libcst classes).
_BINDING_TYPES = frozenset(
    {
        cst.FunctionDef, cst.ClassDef, cst.Lambda, *_COMPREHENSIONS, cst.Import, cst.ImportFrom,
        cst.Global, cst.Nonlocal, cst.Assign, cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr,
        cst.WithItem, cst.ExceptHandler, cst.Del, cst.MatchAs, cst.MatchStar, cst.MatchMapping,
    }
)


def _params(params: cst.Parameters) -> Iterable[str]:
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        yield param.name.value
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            yield star.name.value


def _targets(node: cst.CSTNode) -> Iterable[cst.BaseExpression]:
    if isinstance(node, cst.Assign):
        return [t.target for t in node.targets]
    if isinstance(node, (cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr)):
        return [node.target]
    if isinstance(node, cst.WithItem) and node.asname is not None:
        return [node.asname.name]
    if isinstance(node, cst.ExceptHandler) and node.name is not None:
        return [node.name.name]
    if isinstance(node, cst.Del):
        return [node.target]
    if isinstance(node, cst.MatchAs) and node.name is not None:
        return [node.name]
    if isinstance(node, cst.MatchStar) and node.name is not None:
        return [node.name]
    if isinstance(node, cst.MatchMapping) and node.rest is not None:
        return [node.rest]
    return []


class NameResolver:
    """Qualified names of expressions, given the chain of enclosing scopes."""

    def __init__(self, module: cst.Module) -> None:
        self._module = module
        self._tables: Dict[int, Dict[str, Binding]] = {}

    def bindings(self, scope: Scope) -> Dict[str, Binding]:
        table = self._tables.get(id(scope))
        if table is None:
            table = self._tables[id(scope)] = _Bindings().collect(scope)
        return table

    def qualified_name(self, node: cst.BaseExpression, scopes: Tuple[Scope, ...]) -> Optional[str]:
        """`scopes` runs from the innermost scope out; the module is implied.

        Returns None when the name is bound to something other than an
        import (a parameter or local called `gc` is not the module).
        Unbound names come back as they are: builtins such as `open`.
        """
        if isinstance(node, cst.Attribute):
            left = self.qualified_name(node.value, scopes)
            return f"{left}.{node.attr.value}" if left else None
        if not isinstance(node, cst.Name):
            return None
        name = node.value
        for depth, scope in enumerate(scopes):
            # A class body's names are invisible to the functions inside it.
            if isinstance(scope, cst.ClassDef) and depth > 0:
                continue
            table = self.bindings(scope)
            if name in table:
                return table[name]
        table = self.bindings(self._module)
        if name in table:
            return table[name]
        return name
