"""Positions for the few nodes that are reported, not for every node.

libcst's PositionProvider records a range for every node of the file and
costs about twice the parse; here one plain code generation pass records
only the token indices where the reported nodes start and end, and a scan
over the generated tokens turns those indices into lines and columns. The
semantics are PositionProvider's (syntactic ranges, hoisted from children
where libcst hoists them).
"""
from __future__ import annotations

import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState

_LINE_BREAK = re.compile(r"\r\n?|\n")

Position = Tuple[int, int]  # line (1-based), column (0-based)
Span = Tuple[Position, Position]

# libcst generates code recursively; a pathologically nested file gets a
# second try on a thread with room for a much deeper recursion.
_DEEP_RECURSION_LIMIT = 200_000
_DEEP_STACK_BYTES = 512 * 1024 * 1024


class _SpanRecorder(CodegenState):
    """A code generation state that notes token indices for target nodes only."""

    def __init__(self, module: cst.Module, targets: Iterable[cst.CSTNode]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.targets = {id(node) for node in targets}
        self.hoisted: Dict[int, Tuple[Optional[cst.CSTNode], Optional[cst.CSTNode]]] = {}
        self.indices: Dict[int, Tuple[int, int]] = {}
        self.opened: Dict[int, int] = {}

    # Every node passes here; nodes without a syntactic range of their own
    # (and children hoisted into a parent's range) keep this whole range.
    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.targets:
            self.opened[id(node)] = len(self.tokens)

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.opened:
            start = self.opened.pop(key)
            if key not in self.indices:
                self.indices[key] = (start, len(self.tokens))
                self.hoisted[key] = (None, None)

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: Optional[cst.CSTNode] = None,
        end_node: Optional[cst.CSTNode] = None,
    ) -> Iterator[None]:
        key = id(node)
        if key not in self.targets:
            yield
            return
        for child in (start_node, end_node):
            if child is not None:
                self.targets.add(id(child))
        start = len(self.tokens)
        yield
        self.indices[key] = (start, len(self.tokens))
        self.hoisted[key] = (start_node, end_node)


def spans(module: cst.Module, nodes: List[cst.CSTNode]) -> Dict[int, Span]:
    """{id(node): ((line, col), (end_line, end_col))} for each of `nodes`."""
    try:
        return _spans(module, nodes)
    except RecursionError:
        return _on_deep_stack(lambda: _spans(module, nodes))


def _spans(module: cst.Module, nodes: List[cst.CSTNode]) -> Dict[int, Span]:
    state = _SpanRecorder(module, nodes)
    module._codegen(state)
    wanted = sorted({i for pair in state.indices.values() for i in pair})
    at = _positions_of(state.tokens, wanted)
    found: Dict[int, Span] = {}
    return {id(node): _span(id(node), state, at, found) for node in nodes if id(node) in state.indices}


def _span(key: int, state: _SpanRecorder, at: Dict[int, Position], found: Dict[int, Span]) -> Span:
    """A node's range, taking hoisted start and end nodes' ranges where
    libcst hoists them (module-level, so no closure refers to itself)."""
    if key not in found:
        start_i, end_i = state.indices[key]
        start_node, end_node = state.hoisted[key]
        start = _span(id(start_node), state, at, found)[0] if start_node is not None else at[start_i]
        end = _span(id(end_node), state, at, found)[1] if end_node is not None else at[end_i]
        found[key] = (start, end)
    return found[key]


def _positions_of(tokens: List[str], indices: List[int]) -> Dict[int, Position]:
    """(line, column) at the start of each token index in `indices` (sorted)."""
    result: Dict[int, Position] = {}
    line, col = 1, 0
    pending = iter(indices)
    target = next(pending, None)
    for index, token in enumerate(tokens):
        while target == index:
            result[target] = (line, col)
            target = next(pending, None)
        if target is None:
            return result
        if "\n" in token or "\r" in token:
            # Python ends lines at \r\n, \n and a lone \r alike.
            pieces = _LINE_BREAK.split(token)
            line += len(pieces) - 1
            col = len(pieces[-1])
        else:
            col += len(token)
    while target is not None:
        result[target] = (line, col)
        target = next(pending, None)
    return result


def _with_deep_recursion(work):
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(_DEEP_RECURSION_LIMIT)
    try:
        return work()
    finally:
        sys.setrecursionlimit(old)


def _on_deep_stack(work):
    """Run `work` on a thread with a large stack; its result or exception
    comes back through the future, which keeps no frame of ours."""
    previous = threading.stack_size(_DEEP_STACK_BYTES)
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gclint-deep-positions") as pool:
            future = pool.submit(_with_deep_recursion, work)
    finally:
        threading.stack_size(previous)
    return future.result()
