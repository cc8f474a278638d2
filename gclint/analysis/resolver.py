"""Qualified names for nodes away from the walk's current position.

A rule that looks at other statements than the one being walked (the
statements after an `open()`, a sibling `tearDown`) resolves names with the
scope chain captured where the rule was, not where the walk is.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Optional, Sequence, Tuple

import libcst as cst

from gclint.names import Scope
from gclint.tree import descendants, is_scope

if TYPE_CHECKING:  # context.py builds the analysis, so it cannot be imported here
    from gclint.context import FileContext


def calls_in(node: cst.CSTNode) -> Iterator[cst.Call]:
    """Calls under `node` that run in its own scope (nested defs are skipped)."""
    for child in descendants(node, stop=is_scope):
        if isinstance(child, cst.Call):
            yield child


class Resolver:
    def __init__(self, ctx: "FileContext", scopes: Optional[Tuple[Scope, ...]] = None) -> None:
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
