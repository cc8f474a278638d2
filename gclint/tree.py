"""The one tree walk: children by dataclass fields, trivia skipped.

libcst's own visitor dispatches on every whitespace and punctuation node; we
only descend into fields that can hold code, which keeps the walk close to
the cost of the parse (see DESIGN.md, Performance).
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, Iterable, Iterator, List, Sequence, Tuple, Type

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


def children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """The code-bearing children of `node`, in field order."""
    names = _FIELDS.get(type(node)) or _code_fields(type(node))
    found: List[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        if is_node(value):
            found.append(value)
        elif type(value) in (tuple, list):
            found.extend(v for v in value if is_node(v))
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
    todo: List[Tuple[cst.CSTNode, bool]] = [(root, False)]
    while todo:
        node, leaving = todo.pop()
        if leaving:
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
        todo.append((node, True))
        todo.extend((child, False) for child in reversed(children(node)))


def descendants(node: cst.CSTNode, stop: Callable[[cst.CSTNode], bool] = lambda n: False) -> Iterator[cst.CSTNode]:
    """Every node under `node` (not itself); does not enter nodes where stop() holds."""
    todo = list(reversed(children(node)))
    while todo:
        current = todo.pop()
        yield current
        if not stop(current):
            todo.extend(reversed(children(current)))


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
