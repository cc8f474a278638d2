"""Cleanup and restore: whether a process-wide setting changed in one
function is put back on every path (GCL404-406).

A setting counts as restored by a restoring call in a `finally` of the same
function, by the restorer handed over as a cleanup callback
(`self.addCleanup(gc.enable)`, `stack.callback(...)`, `atexit.register`), or
by a restoring call in the function's partner: a sibling whose name says it
undoes (`__exit__`, `tearDown`, `close`, `stop`...) or that pairs with the
function's own name (`start_x`/`stop_x`, `begin_x`/`end_x`,
`enter_x`/`exit_x`), in the same class, a class of the same file it mixes
in, or the module.
"""
from __future__ import annotations

import re
from typing import Callable, Iterator, Optional, Sequence, Tuple

import libcst as cst

from gclint.rules._shapes import Resolver, functions_in
from gclint.tree import descendants, is_scope

# Names of functions whose job is to undo what a paired function set up.
_UNDOING_NAME = re.compile(
    r"^_*(tear_?down|clean_?up|stop|close|a?exit|restore|reset|finish|shutdown|release|end|disconnect|unpatch)",
    re.I,
)
# Verb pairs: a function named with the first undone by one named with the second.
_PAIRED_VERBS: Tuple[Tuple[str, str], ...] = (
    ("start", "stop"), ("begin", "end"), ("enter", "exit"), ("setup", "teardown"),
    ("set_up", "tear_down"), ("open", "close"), ("enable", "disable"), ("disable", "enable"),
    ("pause", "resume"), ("suspend", "resume"), ("acquire", "release"),
)

Restoring = Callable[[cst.Call], bool]


def undoes(function: cst.FunctionDef) -> bool:
    return bool(_UNDOING_NAME.search(function.name.value))


def partner_names(name: str) -> Tuple[str, ...]:
    """Names of the functions that undo `name` by verb pairing:
    `start_trace` -> `stop_trace`, `_begin` -> `_end`, `setUp` -> `tearDown`."""
    lowered = name.lower()
    stripped = lowered.lstrip("_")
    prefix = lowered[: len(lowered) - len(stripped)]
    found = []
    for first, second in _PAIRED_VERBS:
        if stripped.startswith(first):
            found.append(prefix + second + stripped[len(first):])
    return tuple(found)


def finally_blocks(function: cst.CSTNode) -> Iterator[cst.Finally]:
    for child in descendants(function, stop=is_scope):
        if isinstance(child, cst.Finally):
            yield child


def restored_in_finally(resolver: Resolver, function: cst.CSTNode, restorers: Sequence[str], is_restoring: Restoring) -> bool:
    return any(
        is_restoring(call) for block in finally_blocks(function) for call in resolver.calls(block, restorers)
    )


def is_restored(
    resolver: Resolver,
    function: Optional[cst.FunctionDef],
    restorers: Sequence[str],
    is_restoring: Restoring = lambda call: True,
) -> bool:
    """Whether a process-wide setting changed in `function` is put back on
    every path out of it or by its partner (see the module docstring)."""
    if function is None:
        return False
    if restored_in_finally(resolver, function, restorers, is_restoring):
        return True
    if resolver.mentions(function, restorers):
        return True
    return restored_by_partner(resolver, function, restorers, is_restoring)


def restored_by_partner(resolver: Resolver, function: cst.FunctionDef, restorers: Sequence[str], is_restoring: Restoring) -> bool:
    scopes = resolver.scopes
    outer = scopes[scopes.index(function) + 1:] if function in scopes else ()
    container = outer[0] if outer else resolver.ctx.module
    if not isinstance(container, (cst.ClassDef, cst.Module)):
        return False
    wanted = set(partner_names(function.name.value))
    for sibling, sibling_scopes in _siblings(resolver.ctx.module, container, tuple(outer)):
        if sibling is function:
            continue
        if not (undoes(sibling) or sibling.name.value.lower() in wanted):
            continue
        sibling_resolver = Resolver(resolver.ctx, (sibling,) + sibling_scopes)
        calls = sibling_resolver.calls(sibling.body, restorers)
        if any(is_restoring(c) for c in calls) or sibling_resolver.mentions(sibling, restorers):
            return True
    return False


def _siblings(module: cst.Module, container: cst.CSTNode, outer: Tuple[cst.CSTNode, ...]):
    """Functions of the container and, for a class, of the classes of the
    same module it is related to by inheritance (a mixin or base that
    supplies `tearDown`, a subclass that does)."""
    for function in functions_in(container):
        yield function, outer
    if not isinstance(container, cst.ClassDef):
        return
    for related in _related_classes(module, container):
        for function in functions_in(related):
            yield function, (related,)


def _related_classes(module: cst.Module, cls: cst.ClassDef) -> Iterator[cst.ClassDef]:
    classes = {s.name.value: s for s in module.body if isinstance(s, cst.ClassDef)}
    bases = {name: {b.value.value for b in c.bases if isinstance(b.value, cst.Name)} for name, c in classes.items()}
    family, todo = {cls.name.value}, [cls.name.value]
    while todo:
        name = todo.pop()
        linked = bases.get(name, set()) | {other for other, its in bases.items() if name in its}
        for other in linked - family:
            if other in classes:
                family.add(other)
                todo.append(other)
    return (classes[name] for name in sorted(family) if classes[name] is not cls)
