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
from typing import TYPE_CHECKING, Callable, Iterator, List, Optional, Sequence, Tuple

import libcst as cst

from gclint.analysis.bindings import functions_in
from gclint.names import dotted
from gclint.tree import descendants, is_scope

if TYPE_CHECKING:
    from gclint.analysis.resolver import Resolver

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
    stack: Sequence[cst.CSTNode] = (),
) -> bool:
    """Whether a process-wide setting changed in `function` is put back on
    every path out of it or by its partner (see the module docstring).
    Given the walk's `stack` at the change, a `finally` counts only when it
    covers the code after the change (a `try` around it, or one that opens
    with nothing between that may raise or yield); without it, any
    `finally` of the function that restores counts."""
    if function is None:
        return False
    if stack and (covering_finally(resolver, stack, restorers, is_restoring) or reraising_restore(resolver, stack, restorers)):
        return True
    if not stack and restored_in_finally(resolver, function, restorers, is_restoring):
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
        sibling_resolver = type(resolver)(resolver.ctx, (sibling,) + sibling_scopes)
        if sibling.name.value in _SETUP_NAMES and sibling_resolver.mentions(sibling, restorers):
            return True  # `self.addCleanup(gc.enable)` in setUp runs after every test
        # In a class, any method that ends its life (`close`, `__exit__`,
        # `tearDown`) may undo; among a module's functions only the partner.
        named_undoer = undoes(sibling) and isinstance(container, cst.ClassDef)
        if not (named_undoer or sibling.name.value.lower() in wanted):
            continue
        calls = sibling_resolver.calls(sibling.body, restorers)
        if any(is_restoring(c) for c in calls) or sibling_resolver.mentions(sibling, restorers):
            return True
    return False


# Methods a test framework runs before each test (or class) of their class.
_SETUP_NAMES = frozenset({"setUp", "asyncSetUp", "setUpClass", "setup_method", "setup_class", "setup"})


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


def _statement_and_block(stack: Sequence[cst.CSTNode]) -> Optional[Tuple[cst.CSTNode, cst.CSTNode, int]]:
    """(statement, block holding it, index of the block in the stack) for
    the innermost statement on the walk's stack."""
    for i in range(len(stack) - 1, 0, -1):
        if isinstance(stack[i - 1], (cst.IndentedBlock, cst.Module)) and not isinstance(stack[i], cst.IndentedBlock):
            return stack[i], stack[i - 1], i - 1
        if is_scope(stack[i]):
            return None
    return None


def _block_of(stack: Sequence[cst.CSTNode]) -> Tuple[List[cst.CSTNode], int]:
    """The statements of the block holding the innermost statement on the
    walk's stack, and that statement's index in them (-1 when it is not one)."""
    found = _statement_and_block(stack)
    if found is None:
        return [], -1
    statement, block, _ = found
    body = list(block.body)
    return body, body.index(statement) if statement in body else -1


def _later_siblings(stack: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    body, i = _block_of(stack)
    return iter(body[i + 1:]) if i >= 0 else iter(())


def covering_finally(resolver: Resolver, stack: Sequence[cst.CSTNode], restorers: Sequence[str], is_restoring: Restoring) -> bool:
    """A restoring `finally` whose `try` encloses the change, or opens after
    it with no `yield`, `await` or jump between."""
    for i, node in enumerate(stack):
        if isinstance(node, cst.Try) and i + 1 < len(stack) and stack[i + 1] is node.body:
            if node.finalbody is not None and _restores(resolver, node.finalbody, restorers, is_restoring):
                return True
    for sibling in _later_siblings(stack):
        if isinstance(sibling, cst.Try) and sibling.finalbody is not None:
            if _restores(resolver, sibling.finalbody, restorers, is_restoring):
                return True
        if _suspends_or_leaves(sibling):
            return False
    return False


_LEAVING = (cst.Yield, cst.Await, cst.Raise, cst.Return, cst.Break, cst.Continue)


def _suspends_or_leaves(statement: cst.CSTNode) -> bool:
    """A `yield` (the with-body of a @contextmanager runs there), an `await`,
    or a jump out. Calls between the change and the `try` are trusted not to
    raise: on real code they are `gc.collect()` and logging."""
    return any(isinstance(n, _LEAVING) for n in (statement, *descendants(statement, stop=is_scope)))


def _restores(resolver: Resolver, block: cst.CSTNode, restorers: Sequence[str], is_restoring: Restoring) -> bool:
    return any(is_restoring(c) for c in resolver.calls(block, restorers))


def reraising_restore(resolver: Resolver, stack: Sequence[cst.CSTNode], restorers: Sequence[str]) -> bool:
    """`disable(); try: ... except BaseException: enable(); raise` with the
    setting put back again on the normal path (the `try`'s `else` or after
    it): every way out restores, without a `finally`."""
    for sibling in _later_siblings(stack):
        if not isinstance(sibling, cst.Try):
            continue
        broad = [h for h in sibling.handlers if h.type is None or dotted(h.type) in ("BaseException", "Exception")]
        on_error = any(_restores_and_reraises(resolver, h, restorers) for h in broad)
        after = [sibling.orelse] if sibling.orelse is not None else []
        after += list(_later_siblings_of(stack, sibling))
        on_success = any(any(True for _ in resolver.calls(part, restorers)) for part in after)
        return on_error and on_success
    return False


def _later_siblings_of(stack: Sequence[cst.CSTNode], statement: cst.CSTNode) -> Iterator[cst.CSTNode]:
    body, _ = _block_of(stack)
    return iter(body[body.index(statement) + 1:]) if statement in body else iter(())


def _restores_and_reraises(resolver: Resolver, handler: cst.ExceptHandler, restorers: Sequence[str]) -> bool:
    restores = any(True for _ in resolver.calls(handler.body, restorers))
    reraises = any(isinstance(n, cst.Raise) for n in descendants(handler.body, stop=is_scope))
    return restores and reraises


# A name or message that says collection is switched off on purpose.
_GC_WORD = re.compile(r"gc|garbage|collect", re.I)
_OFF_WORD = re.compile(r"disable|no_?gc|nogc|off|without", re.I)


def deliberate_switch_off(stack: Sequence[cst.CSTNode], function: Optional[cst.FunctionDef], resolver: Resolver) -> bool:
    """Collection switched off process-wide on purpose: by a function whose
    name says so (`disable_gc`, `opt_disablegc`, `disableGarbageCollector`),
    under a test of an option about gc (`if options.no_gc:`), or announced
    by the statement next to it (`print("Disabled GC")`)."""
    if function is not None and _GC_WORD.search(function.name.value) and _OFF_WORD.search(function.name.value):
        return True
    for node in reversed(stack):
        if is_scope(node):
            break
        if isinstance(node, cst.If) and _names_gc_option(node.test):
            return True
    return any(_announces(s) for s in _neighbours(stack))


def _names_gc_option(test: cst.BaseExpression) -> bool:
    for node in (test, *descendants(test)):
        text = dotted(node) if isinstance(node, (cst.Name, cst.Attribute)) else None
        if isinstance(node, cst.SimpleString):
            text = node.value
        if text and _GC_WORD.search(text.rsplit(".", 1)[-1]) and text.rsplit(".", 1)[-1] not in ("gc",):
            return True
    return False


def _neighbours(stack: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    body, i = _block_of(stack)
    return iter(body[max(0, i - 1):i] + body[i + 1:i + 2]) if i >= 0 else iter(())


def _announces(statement: cst.CSTNode) -> bool:
    """A print or log call whose message says collection is off."""
    for node in descendants(statement, stop=is_scope):
        if isinstance(node, cst.Call):
            for string in descendants(node):
                if isinstance(string, cst.SimpleString) and _GC_WORD.search(string.value) and _OFF_WORD.search(string.value):
                    return True
    return False

