"""Whether a variable is read in a piece of code (the one definition of a
"free use", which closures are judged by), and whether a local is cleared
after it was bound."""
from __future__ import annotations

from typing import FrozenSet, Iterable, List, Sequence

import libcst as cst

from gclint.analysis.receivers import param_names
from gclint.tree import children, descendants, is_scope, names_in_target

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


def cleared_after(function: cst.CSTNode, name: str, binding: cst.CSTNode, any_rebinding: bool = False) -> bool:
    """Whether `function`, after `binding` in source order, deletes `name`,
    sets it to None, calls `name.clear()` (or, with `any_rebinding`, rebinds
    it at all): the reference the name held is dropped."""
    seen = False
    for node in descendants(function.body, stop=is_scope):
        if node is binding:
            seen = True
        elif seen and drops_name(node, name, any_rebinding):
            return True
    return False


def drops_name(node: cst.CSTNode, name: str, any_rebinding: bool = False) -> bool:
    kind = type(node)
    if kind is cst.Call:
        func = node.func
        # `errors.clear()` empties a container that held the reference.
        return type(func) is cst.Attribute and func.attr.value == "clear" and _is_name(func.value, name)
    if kind is cst.Del:
        return name in _deleted_names(node.target)
    if kind is cst.Assign and any(name in names_in_target(t.target) for t in node.targets):
        return any_rebinding or _is_name(node.value, "None")
    if kind is cst.NamedExpr and any_rebinding:
        return name in names_in_target(node.target)
    return False


def _is_name(node: cst.CSTNode, name: str) -> bool:
    return type(node) is cst.Name and node.value == name


def _deleted_names(target: cst.BaseExpression) -> Iterable[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _deleted_names(e.value)]
    return []
