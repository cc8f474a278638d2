"""Small questions about libcst shapes that several rules ask."""
from __future__ import annotations

import re
from typing import Callable, Iterator, Optional, Sequence, Tuple

import libcst as cst

from gclint.analysis.bindings import argument, functions_in, int_value  # noqa: F401  (re-exported for resources.py and gcapi.py until the merge)
from gclint.context import FileContext
from gclint.names import Scope
from gclint.tree import descendants, is_scope


def calls_in(node: cst.CSTNode) -> Iterator[cst.Call]:
    """Calls under `node` that run in its own scope (nested defs are skipped)."""
    for child in descendants(node, stop=is_scope):
        if isinstance(child, cst.Call):
            yield child


def finally_blocks(function: cst.CSTNode) -> Iterator[cst.Finally]:
    for child in descendants(function, stop=is_scope):
        if isinstance(child, cst.Finally):
            yield child


class Resolver:
    """Qualified names for nodes away from the walk's current position, with
    the scope chain captured where the rule was."""

    def __init__(self, ctx: FileContext, scopes: Optional[Tuple[Scope, ...]] = None) -> None:
        self.ctx = ctx
        self.scopes = ctx.scopes() if scopes is None else scopes

    def name(self, node: cst.BaseExpression) -> Optional[str]:
        return self.ctx.names.qualified_name(node, self.scopes)

    def calls(self, node: cst.CSTNode, wanted: Sequence[str]) -> Iterator[cst.Call]:
        return (c for c in calls_in(node) if self.name(c.func) in wanted)

    def mentions(self, node: cst.CSTNode, wanted: Sequence[str]) -> bool:
        """Whether `node` refers to one of `wanted` other than by calling it
        (`self.addCleanup(gc.enable)`)."""
        for child in descendants(node, stop=is_scope):
            if isinstance(child, cst.Arg) and self.name(child.value) in wanted:
                return True
        return False


# Names of functions whose job is to undo what a paired function set up.
_UNDOING_NAME = re.compile(r"^_*(tear_?down|clean_?up|stop|close|a?exit|restore|reset|finish|shutdown|release)", re.I)


def undoes(function: cst.FunctionDef) -> bool:
    return bool(_UNDOING_NAME.search(function.name.value))


def is_restored(
    resolver: Resolver,
    function: Optional[cst.FunctionDef],
    restorers: Sequence[str],
    is_restoring: Callable[[cst.Call], bool] = lambda call: True,
) -> bool:
    """Whether a process-wide gc setting changed in `function` is put back on
    every path: by a restoring call in a `finally` of the same function, a
    restorer handed over as a cleanup callback, or a restoring call in a
    sibling function of the same class or module whose name says it undoes
    (`__exit__`, `tearDown`, `tearDownModule`, `close`, `stop`, `restore`)."""
    if function is None:
        return False
    for block in finally_blocks(function):
        if any(is_restoring(c) for c in resolver.calls(block, restorers)):
            return True
    if resolver.mentions(function, restorers):
        return True
    scopes = resolver.scopes
    outer = scopes[scopes.index(function) + 1:] if function in scopes else ()
    container = outer[0] if outer else resolver.ctx.module
    if not isinstance(container, (cst.ClassDef, cst.Module)):
        return False
    for sibling in functions_in(container):
        if sibling is function or not undoes(sibling):
            continue
        sibling_resolver = Resolver(resolver.ctx, (sibling,) + tuple(outer))
        if any(is_restoring(c) for c in sibling_resolver.calls(sibling.body, restorers)):
            return True
    return False
