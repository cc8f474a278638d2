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
import threading
from contextlib import contextmanager
from typing import Callable, Dict, Generic, Iterable, Iterator, List, Optional, Tuple, Type, TypeVar

import libcst as cst
from libcst._nodes.internal import CodegenState

_LINE_BREAK = re.compile(r"\r\n?|\n")



def split_lines(text: str) -> List[str]:
    """Lines as Python counts them: only \\r\\n, \\r and \\n end one
    (str.splitlines also breaks at form feeds, U+2028, U+0085 ...)."""
    return _LINE_BREAK.split(text)


T = TypeVar("T")
Position = Tuple[int, int]  # line (1-based), column (0-based)
Span = Tuple[Position, Position]

# libcst generates code recursively, a few C-level calls per level of
# nesting. A file too deep for that (on 3.12 a 1,000-term sum already
# exhausts the fixed C recursion limit, which setrecursionlimit cannot
# raise) is generated again, continuing on a fresh thread, with fresh
# recursion counters, every _HOP_EVERY levels.
_HOP_EVERY = 100
_PATCH_LOCK = threading.Lock()


class _AllRecorded(Exception):
    """Every target's tokens are generated: code generation stops here."""


class _SpanRecorder(CodegenState):
    """A code generation state that notes token indices for target nodes only."""

    def __init__(self, module: cst.Module, targets: Iterable[cst.CSTNode]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.targets = {id(node) for node in targets}
        self.hoisted: Dict[int, Tuple[Optional[cst.CSTNode], Optional[cst.CSTNode]]] = {}
        self.indices: Dict[int, Tuple[int, int]] = {}
        self.opened: Dict[int, int] = {}
        # Targets not yet recorded: at zero the rest of the file is not
        # generated (the tokens before the last target are all it needs).
        self.remaining = len(self.targets)

    def _recorded(self, key: int, span: Tuple[int, int], hoisted: Tuple[Optional[cst.CSTNode], Optional[cst.CSTNode]]) -> None:
        self.indices[key] = span
        self.hoisted[key] = hoisted
        self.remaining -= 1
        if self.remaining == 0:
            raise _AllRecorded

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
                self._recorded(key, (start, len(self.tokens)), (None, None))

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
            if child is not None and id(child) not in self.targets:
                self.targets.add(id(child))
                self.remaining += 1
        start = len(self.tokens)
        yield
        if key not in self.indices:
            self._recorded(key, (start, len(self.tokens)), (start_node, end_node))


def spans(module: cst.Module, nodes: List[cst.CSTNode]) -> Dict[int, Span]:
    """{id(node): ((line, col), (end_line, end_col))} for each of `nodes`."""
    try:
        return _spans(module, nodes, _SpanRecorder)
    except RecursionError:
        with _hopping_codegen():
            return _spans(module, nodes, _HoppingRecorder)


def _spans(module: cst.Module, nodes: List[cst.CSTNode], recorder: Type[_SpanRecorder]) -> Dict[int, Span]:
    state = recorder(module, nodes)
    try:
        module._codegen(state)
    except _AllRecorded:
        pass
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


class _HoppingRecorder(_SpanRecorder):
    """A recorder whose code generation changes thread every _HOP_EVERY levels."""

    depth = 0


@contextmanager
def _hopping_codegen() -> Iterator[None]:
    """Route every node's code generation through a depth counter while the
    deep pass runs (libcst offers no hook before a node's generation);
    other recorders go straight to libcst's own method."""
    original = cst.CSTNode._codegen

    def codegen(node: cst.CSTNode, state: CodegenState, **kwargs: object) -> None:
        if type(state) is not _HoppingRecorder:
            original(node, state, **kwargs)
            return
        state.depth += 1
        try:
            if state.depth % _HOP_EVERY:
                original(node, state, **kwargs)
            else:
                on_fresh_thread(lambda: original(node, state, **kwargs), "gclint-deep-positions")
        finally:
            state.depth -= 1

    with _PATCH_LOCK:
        cst.CSTNode._codegen = codegen  # type: ignore[method-assign]
        try:
            yield
        finally:
            cst.CSTNode._codegen = original  # type: ignore[method-assign]


def on_fresh_thread(work: Callable[[], T], name: str) -> T:
    """Run `work` on a new thread (fresh recursion counters) and wait;
    its result is returned, its exception raised here."""
    handoff: "Handoff[T]" = Handoff()
    thread = threading.Thread(target=handoff.run, args=(work,), name=name, daemon=True)
    try:
        thread.start()
    except KeyboardInterrupt:
        handoff.wait_if_started(thread)
        raise
    return handoff.result()


class Handoff(Generic[T]):
    """What a function run on another thread returned or raised, handed to
    the thread that waits for it.

    Unlike a Future it lets go of the exception it hands over: a raised
    exception's traceback holds the frames it passes through, and a frame
    that still held the holder, and through it the exception, would be a
    cycle (a whole syntax tree left for the collector, per file)."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: Optional[T] = None
        self._error: Optional[BaseException] = None

    def run(self, work: Callable[[], T]) -> None:
        try:
            self._value = work()
        except BaseException as exc:  # handed to the thread that waits
            self._error = exc
        finally:
            self._done.set()

    def wait(self) -> bool:
        """Wait for the work to end, whatever Ctrl-C says; whether one came."""
        interrupted = False
        while True:
            try:
                self._done.wait()
                return interrupted
            except KeyboardInterrupt:
                interrupted = True

    def wait_if_started(self, thread: threading.Thread) -> None:
        """After a Ctrl-C that came while `thread` was being started: if it
        runs (it has an ident), let its work end before the process may."""
        if thread.ident is not None:
            self.wait()

    def result(self) -> T:
        """Wait, then return the value or raise the exception. A Ctrl-C
        waits for the work to end first, then is raised: the process must
        not end while libcst's native parser runs on another thread (that
        aborts the interpreter)."""
        if self.wait():
            raise KeyboardInterrupt
        if self._error is not None:
            try:
                raise self._error
            finally:
                self._error = None  # the traceback now holds this frame: let go of it
        value, self._value = self._value, None
        return value  # type: ignore[return-value]
