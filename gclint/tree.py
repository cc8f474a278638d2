"""The one tree walk: children by dataclass fields, trivia skipped.

libcst's own visitor dispatches on every whitespace and punctuation node; we
only descend into fields that can hold code, which keeps the walk close to
the cost of the parse (see DESIGN.md, Performance).
"""
from __future__ import annotations

import abc
import dataclasses
from operator import attrgetter
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Type

import libcst as cst

_TRIVIA = frozenset(
    """colon comma comment default_indent default_newline dot empty_lines encoding
    equal first_colon first_line footer has_trailing_newline header indent lbrace
    lbracket last_line leading_lines leading_whitespace lines_after_decorators
    lpar newline rbrace rbracket relative rpar second_colon semicolon separator
    star trailing_comma trailing_whitespace posonly_ind""".split()
)

_FIELDS: Dict[type, Tuple[str, ...]] = {}


def _code_fields(node_type: type) -> Tuple[str, ...]:
    names = tuple(
        f.name
        for f in dataclasses.fields(node_type)
        if f.name not in _TRIVIA and not f.name.startswith("whitespace")
    )
    _FIELDS[node_type] = names
    return names


class _NodeMeta(abc.ABCMeta):
    """ABCMeta with type's own C-level isinstance() and issubclass().

    libcst's node classes are ABCs only for their abstract methods, and
    ABCMeta answers every isinstance() that fails through a Python-level
    method: with millions of `isinstance(node, cst.Name)` per run that was
    about a fifth of gclint's own time. Without virtual subclasses the two
    answers are the same; the first register() on a class (libcst never
    calls it) gives that class and its bases ABCMeta back, and so its answers.
    """

    __instancecheck__ = type.__instancecheck__
    __subclasscheck__ = type.__subclasscheck__

    def register(cls, subclass):  # type: ignore[override]
        for base in cls.__mro__:
            if type(base) is _NodeMeta:
                base.__class__ = abc.ABCMeta
        return abc.ABCMeta.register(cls, subclass)


def _fast_node_checks() -> None:
    """Put every libcst node class that has no virtual subclasses on _NodeMeta."""
    todo = [cst.CSTNode]
    while todo:
        node_type = todo.pop()
        todo.extend(node_type.__subclasses__())
        if type(node_type) is abc.ABCMeta and not _registered(node_type):
            node_type.__class__ = _NodeMeta


def _registered(node_type: type) -> bool:
    try:
        return bool(abc._get_dump(node_type)[0])  # type: ignore[attr-defined]
    except (AttributeError, TypeError):  # no C accelerator: keep ABCMeta
        return True


_fast_node_checks()


# libcst's node classes are ABCs, so isinstance() on them goes through
# ABCMeta.__instancecheck__: the walk asks per type instead, once.
_IS_NODE: Dict[type, bool] = {}


def is_node(value: object) -> bool:
    kind = type(value)
    known = _IS_NODE.get(kind)
    if known is None:
        # Bounded: one entry per Python type that appears in a libcst tree.
        known = _IS_NODE[kind] = issubclass(kind, cst.CSTNode)  # noqa: GCL505
    return known


# One attrgetter per node type fetches all code fields in one C call. It
# returns a bare value for a single name, so one-field types also fetch
# __class__ (never a node) to keep the result a tuple.
_GETTERS: Dict[type, Callable[[cst.CSTNode], Tuple[object, ...]]] = {}


def _getter(node_type: type) -> Callable[[cst.CSTNode], Tuple[object, ...]]:
    names = _FIELDS.get(node_type) or _code_fields(node_type)
    if not names:
        getter = _no_fields
    else:
        getter = attrgetter(*names) if len(names) > 1 else attrgetter(names[0], "__class__")
    _GETTERS[node_type] = getter
    return getter


def _no_fields(node: cst.CSTNode) -> Tuple[object, ...]:
    return ()


def children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """The code-bearing children of `node`, in field order."""
    found: List[cst.CSTNode] = []
    known = _IS_NODE.get
    for value in (_GETTERS.get(type(node)) or _getter(type(node)))(node):
        kind = type(value)
        if kind is tuple or kind is list:
            found.extend([v for v in value if known(type(v)) or is_node(v)])
        elif known(kind) or (kind not in _IS_NODE and is_node(value)):
            found.append(value)
    return found


Visit = Callable[[cst.CSTNode], None]


def walk(
    root: cst.CSTNode,
    on_enter: Dict[type, Sequence[Visit]],
    on_leave: Dict[type, Sequence[Visit]],
    stack: List[cst.CSTNode],
    on_error: Callable[[Visit, cst.CSTNode, Exception], None],
) -> None:
    """Depth-first walk without recursion; `stack` holds the current path.

    Iterative so that deeply nested expressions cannot exhaust the
    interpreter's recursion limit. A hook that raises is handed to
    `on_error` (which may unhook its rule) and the walk goes on.
    """
    # A node to leave sits under the _LEAVE mark, its children above both.
    todo: List[object] = [root]
    while todo:
        node = todo.pop()
        if node is _LEAVE:
            node = todo.pop()
            for leave in on_leave.get(type(node), ()):
                try:
                    leave(node)
                except Exception as exc:
                    on_error(leave, node, exc)
            stack.pop()
            continue
        stack.append(node)
        for enter in on_enter.get(type(node), ()):
            try:
                enter(node)
            except Exception as exc:
                on_error(enter, node, exc)
        todo.append(node)
        todo.append(_LEAVE)
        below = children(node)
        below.reverse()
        todo.extend(below)


_LEAVE = object()


def descendants(node: cst.CSTNode, stop: Optional[Callable[[cst.CSTNode], bool]] = None) -> Iterator[cst.CSTNode]:
    """Every node under `node` (not itself); does not enter nodes where stop() holds."""
    todo = children(node)
    todo.reverse()
    if stop is is_scope:
        # The common question ("this scope's own code"): a type test inline
        # instead of a call per node.
        scopes = SCOPE_TYPES
        while todo:
            current = todo.pop()
            yield current
            if type(current) not in scopes:
                below = children(current)
                below.reverse()
                todo.extend(below)
        return
    while todo:
        current = todo.pop()
        yield current
        if stop is None or not stop(current):
            below = children(current)
            below.reverse()
            todo.extend(below)


def scope_nodes(node: cst.CSTNode) -> List[cst.CSTNode]:
    """descendants(node, stop=is_scope) as a list: nested scopes are listed
    but not entered."""
    found: List[cst.CSTNode] = []
    todo = children(node)
    todo.reverse()
    scopes = SCOPE_TYPES
    while todo:
        current = todo.pop()
        found.append(current)
        if type(current) not in scopes:
            below = children(current)
            below.reverse()
            todo.extend(below)
    return found


SCOPE_TYPES = frozenset({cst.FunctionDef, cst.Lambda, cst.ClassDef})


def is_scope(node: cst.CSTNode) -> bool:
    return type(node) in SCOPE_TYPES


def names_in_target(target: cst.BaseExpression) -> Iterable[str]:
    """Names bound by an assignment target (`a`, `a, (b, *c)`)."""
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from names_in_target(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from names_in_target(target.value)
