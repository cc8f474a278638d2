"""Ownership of resources (files, sockets, processes...) inside one function.

A resource made by a factory call is *released* by this function (a `with`
item, a close in a `finally`, a cleanup registered with an ExitStack,
`contextlib.closing` or `weakref.finalize`), *handed over* (returned,
yielded, stored, aliased, passed to a callee that may keep it, captured by a
closure), or it *leaks*. When the code does something this module cannot
follow, the answer is "handed over": precision matters more than recall.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import libcst as cst

from gclint.names import dotted
from gclint.rules._shapes import Resolver
from gclint.tree import children, descendants, is_scope

_FACTORIES: Mapping[str, str] = {
    **dict.fromkeys(
        """open io.open codecs.open gzip.open bz2.open lzma.open os.fdopen
        tempfile.TemporaryFile tempfile.NamedTemporaryFile tempfile.SpooledTemporaryFile
        tarfile.open zipfile.ZipFile shelve.open dbm.open wave.open""".split(),
        "file",
    ),
    "tempfile.TemporaryDirectory": "directory",
    **dict.fromkeys(
        """socket.socket socket.create_connection socket.create_server socket.socketpair
        ssl.wrap_socket""".split(),
        "socket",
    ),
    **dict.fromkeys(
        """http.client.HTTPConnection http.client.HTTPSConnection urllib.request.urlopen
        ftplib.FTP smtplib.SMTP sqlite3.connect""".split(),
        "connection",
    ),
    "subprocess.Popen": "process",
    **dict.fromkeys(
        """multiprocessing.Pool multiprocessing.pool.Pool multiprocessing.pool.ThreadPool
        concurrent.futures.ThreadPoolExecutor concurrent.futures.ProcessPoolExecutor
        concurrent.futures.thread.ThreadPoolExecutor concurrent.futures.process.ProcessPoolExecutor""".split(),
        "pool",
    ),
    "selectors.DefaultSelector": "selector",
}

# Every factory's last name part: a file that names none of them (or the
# `open`/`wrap_socket` methods) cannot create a resource from the table.
FACTORY_TRIGGERS: Tuple[str, ...] = (
    "open", "TemporaryFile", "TemporaryDirectory", "ZipFile", "socket", "create_connection",
    "create_server", "HTTPConnection", "HTTPSConnection", "FTP", "SMTP", "connect", "Popen",
    "Pool", "Executor", "DefaultSelector",
)

# Methods that end a resource's life; a process is done once it is reaped.
RELEASE_METHODS = frozenset({"close", "aclose", "shutdown", "terminate", "cleanup", "quit", "detach", "__exit__"})
WAIT_METHODS = frozenset({"wait", "communicate", "poll", "__exit__"})

# Callees that only read from what they are given: passing a resource to
# them is a use, not a transfer of ownership.
READERS = frozenset(
    """json.load json.dump pickle.load pickle.dump marshal.load marshal.dump csv.reader
    csv.writer csv.DictReader csv.DictWriter shutil.copyfileobj print len iter next list
    tuple sorted enumerate zip isinstance hasattr getattr repr str bool id type
    os.fstat select.select""".split()
)

# Calls that take over closing what they are given (or a bound close method).
_RELEASING_CALLS = frozenset({"contextlib.closing", "weakref.finalize", "atexit.register", "contextlib.aclosing"})
_RELEASING_METHODS = frozenset(
    {"enter_context", "enter_async_context", "push", "push_async_exit", "callback",
     "push_async_callback", "addCleanup", "addAsyncCleanup", "addClassCleanup"}
)


def factory_table(extra: Iterable[str] = ()) -> Dict[str, str]:
    """The built-in factories plus project ones from `extend-resource-factories`."""
    table = dict(_FACTORIES)
    for name in extra:
        table.setdefault(name, "resource")
    return table


def resource_kind(call: cst.Call, resolver: Resolver, table: Mapping[str, str]) -> Optional[str]:
    """What kind of resource `call` creates, or None when it is not a factory."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "wrap_socket":
        return "socket"
    if isinstance(func, cst.Attribute) and func.attr.value == "open" and isinstance(func.value, cst.Call):
        if resolver.name(func.value.func) in ("pathlib.Path", "pathlib.PurePath"):
            return "file"
    name = resolver.name(func)
    if name in _WRAPPING_FACTORIES and _wraps_file_object(call, resolver):
        return None
    if _owns_nothing(call, name):
        return None
    return table.get(name) if name else None


def _owns_nothing(call: cst.Call, name: Optional[str]) -> bool:
    """`open(fd, closefd=False)` borrows a descriptor; a `data:` URL opens no
    connection."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "closefd":
            return isinstance(arg.value, cst.Name) and arg.value.value == "False"
    first = call.args[0].value if call.args else None
    if name == "urllib.request.urlopen" and isinstance(first, cst.SimpleString):
        return first.evaluated_value.startswith("data:")
    return False


# Factories that also accept an open file object; given one, they own nothing
# the caller does not already own (`zipfile.ZipFile(io.BytesIO(data))`).
_WRAPPING_FACTORIES = frozenset(
    """zipfile.ZipFile tarfile.open wave.open gzip.open bz2.open lzma.open""".split()
)
_FILE_OBJECT_NAMES = frozenset(
    """self f fp fo fh fobj fileobj file stream buf buffer bio raw sock data""".split()
)
_FILE_OBJECT_SUFFIXES = ("fp", "fh", "fobj", "fileobj", "stream", "_buf", "buffer", "sock")
_IN_MEMORY = frozenset({"io.BytesIO", "io.StringIO"})


def _wraps_file_object(call: cst.Call, resolver: Resolver) -> bool:
    if any(a.keyword is not None and a.keyword.value == "fileobj" for a in call.args):
        return True
    first = call.args[0].value if call.args and call.args[0].keyword is None else None
    if isinstance(first, cst.Name):
        return first.value in _FILE_OBJECT_NAMES or first.value.endswith(_FILE_OBJECT_SUFFIXES)
    if isinstance(first, cst.Call):
        return resolver.name(first.func) in _IN_MEMORY or resource_kind(first, resolver, _FACTORIES) is not None
    return False


def expects_failure(ancestors: Iterable[cst.CSTNode]) -> bool:
    """Whether a call sits where a test expects it to fail or fakes it:
    `with self.assertRaises(...)`, `pytest.raises`, `mock.patch`, or a `try`
    whose `else` calls `fail()`."""
    for node in ancestors:
        if isinstance(node, cst.With) and any(_is_test_guard(item.item) for item in node.items):
            return True
        if isinstance(node, cst.Try) and node.orelse is not None and _calls_fail(node.orelse):
            return True
    return False


def _is_test_guard(item: cst.BaseExpression) -> bool:
    if not isinstance(item, cst.Call):
        return False
    parts = (dotted(item.func) or "").split(".")
    last = parts[-1]
    return last.startswith(("assertRaises", "assertWarns")) or last == "raises" or "patch" in parts


def _calls_fail(block: cst.CSTNode) -> bool:
    for node in descendants(block, stop=is_scope):
        if isinstance(node, cst.Call) and (dotted(node.func) or "").split(".")[-1] == "fail":
            return True
    return False


def is_patched(function: cst.FunctionDef) -> bool:
    """A test function decorated with `mock.patch`: factories may be fakes."""
    return any("patch" in (dotted(_decorated(d)) or "").split(".") for d in function.decorators)


def _decorated(decorator: cst.Decorator) -> cst.BaseExpression:
    node = decorator.decorator
    return node.func if isinstance(node, cst.Call) else node


def factory_name(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else "factory"


def release_methods(call: cst.Call, resolver: Resolver) -> FrozenSet[str]:
    """Methods that release what `call` made: reading or iterating a urlopen
    response to the end closes it (urlopen has already let go of the socket)."""
    if resolver.name(call.func) == "urllib.request.urlopen":
        return RELEASE_METHODS | {"read", "__iter__"}
    return RELEASE_METHODS


def closes_on_with(call: cst.Call, resolver: Resolver) -> bool:
    """`with sqlite3.connect(...)` ends a transaction, it does not close."""
    return resolver.name(call.func) != "sqlite3.connect"


@dataclass(frozen=True)
class Acquisition:
    call: cst.Call
    kind: str
    names: Tuple[str, ...]  # the local names it is bound to; () when not bound


class FunctionBody:
    """One walk over a function's own code: parents, factory calls, and the
    names its nested scopes mention."""

    def __init__(self, function: cst.FunctionDef, resolver: Resolver, table: Mapping[str, str]) -> None:
        self.function = function
        self.resolver = resolver
        self.parents: Dict[int, cst.CSTNode] = {}
        self.factory_calls: List[Tuple[cst.Call, str]] = []
        self.names: Dict[str, List[cst.Name]] = {}
        self.captured: set = set()
        self._walk(table)

    def _walk(self, table: Mapping[str, str]) -> None:
        todo: List[cst.CSTNode] = [self.function.body]
        while todo:
            node = todo.pop()
            for child in children(node):
                self.parents[id(child)] = node
                if is_scope(child):
                    self.captured.update(n.value for n in descendants(child) if isinstance(n, cst.Name))
                    continue
                self._note(child, table)
                todo.append(child)
        for stmt in descendants(self.function.body, stop=is_scope):
            if isinstance(stmt, (cst.Global, cst.Nonlocal)):
                self.captured.update(n.name.value for n in stmt.names)

    def _note(self, node: cst.CSTNode, table: Mapping[str, str]) -> None:
        if isinstance(node, cst.Name):
            if _is_reference(node, self.parents.get(id(node))):
                self.names.setdefault(node.value, []).append(node)
        elif isinstance(node, cst.Call):
            kind = resource_kind(node, self.resolver, table)
            if kind is not None:
                self.factory_calls.append((node, kind))

    def without_wrappers(self) -> None:
        """Drop `zipfile.ZipFile(raw)` when `raw` is itself a tracked resource:
        the wrapper owns nothing beyond what `raw`'s tracking already covers."""
        tracked = {n for call, _ in self.factory_calls for n in (self.bound_names(call) or ())}
        self.factory_calls = [(c, k) for c, k in self.factory_calls if not self._wraps(c, tracked)]

    def _wraps(self, call: cst.Call, tracked: set) -> bool:
        if self.resolver.name(call.func) not in _WRAPPING_FACTORIES or not call.args:
            return False
        first = call.args[0].value
        return isinstance(first, cst.Name) and first.value in tracked

    def parent(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        return self.parents.get(id(node))

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        current = self.parent(node)
        while current is not None:
            yield current
            current = self.parent(current)

    def bound_names(self, call: cst.Call) -> Optional[Tuple[str, ...]]:
        """Names `name = call` binds; None when the result goes elsewhere."""
        parent = self.parent(call)
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is call:
            targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
            if all(isinstance(t, cst.Name) for t in targets):
                return tuple(t.value for t in targets)
        return None

    def in_block(self, node: cst.CSTNode, kind: type, acquired: cst.CSTNode) -> bool:
        """Whether `node` is in a block of `kind` that `acquired` is not in:
        a close in the same `except` handler as the open is its normal path."""
        around_acquired = {id(a) for a in self.ancestors(acquired)}
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, kind) and id(ancestor) not in around_acquired:
                return True
        return False


def _is_reference(name: cst.Name, parent: Optional[cst.CSTNode]) -> bool:
    """A name that stands for a value, not an attribute, keyword or alias."""
    if isinstance(parent, cst.Attribute):
        return parent.value is name
    if isinstance(parent, cst.Arg):
        return parent.keyword is not name
    return not isinstance(parent, (cst.AsName, cst.ImportAlias, cst.Param, cst.Decorator))


# What a single mention of a tracked name does with the resource.
RELEASE, PLAIN_CLOSE, ERROR_CLOSE, HANDOVER, USE = "release", "plain-close", "error-close", "handover", "use"


@dataclass(frozen=True)
class Fate:
    released: bool
    plain_closes: Tuple[cst.Call, ...]
    error_closed: bool
    handed_over: bool


def fate(body: FunctionBody, acquired: cst.Call, names: Sequence[str], enders: FrozenSet[str], with_ends: bool) -> Fate:
    """What happens to the resource bound to `names` in the function."""
    if any(n in body.captured for n in names):
        return Fate(False, (), False, True)
    outcomes: List[Tuple[str, Optional[cst.Call]]] = []
    for name in names:
        for mention in body.names.get(name, ()):
            outcomes.append(_mention(body, acquired, mention, enders, with_ends))
    kinds = {kind for kind, _ in outcomes}
    plain = tuple(call for kind, call in outcomes if kind == PLAIN_CLOSE and call is not None)
    return Fate(RELEASE in kinds, plain, ERROR_CLOSE in kinds, HANDOVER in kinds)


def _mention(body: FunctionBody, acquired: cst.Call, name: cst.Name, enders: FrozenSet[str], with_ends: bool) -> Tuple[str, Optional[cst.Call]]:
    parent = body.parent(name)
    if isinstance(parent, cst.Attribute) and parent.value is name:
        return _attribute_use(body, acquired, parent, enders)
    if isinstance(parent, cst.AssignTarget) or isinstance(parent, (cst.AnnAssign, cst.AugAssign)) and parent.target is name:
        return USE, None
    if isinstance(parent, cst.WithItem):
        return (RELEASE if with_ends else USE), None
    if isinstance(parent, cst.Arg):
        return _argument_use(body, parent), None
    if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is name:
        return (RELEASE if "__iter__" in enders else USE), None
    if isinstance(parent, (cst.Comparison, cst.ComparisonTarget, cst.If, cst.While, cst.UnaryOperation,
                           cst.BooleanOperation, cst.Del, cst.Await, cst.Expr,
                           cst.FormattedStringExpression)):
        return USE, None
    # Returned, yielded, stored, aliased, put in a container: not ours to close.
    return HANDOVER, None


def _attribute_use(body: FunctionBody, acquired: cst.Call, attribute: cst.Attribute, enders: FrozenSet[str]) -> Tuple[str, Optional[cst.Call]]:
    method = attribute.attr.value
    outer = body.parent(attribute)
    if isinstance(outer, cst.Call) and outer.func is attribute:
        if method not in enders:
            return USE, None
        if body.in_block(outer, cst.Finally, acquired):
            return RELEASE, None
        if body.in_block(outer, cst.ExceptHandler, acquired):
            return ERROR_CLOSE, None
        return PLAIN_CLOSE, outer
    if isinstance(outer, cst.AssignTarget) and _HANDLE_ATTRIBUTE.search(method):
        # `conn.sock = FakeSocket()`: the handle it would close was swapped.
        return HANDOVER, None
    if isinstance(outer, cst.Arg):
        # `stack.callback(f.close)`, `weakref.finalize(self, f.close)`: someone
        # else closes it; a bound method of another name keeps it alive elsewhere.
        return (RELEASE if method in enders else HANDOVER), None
    return USE, None


_HANDLE_ATTRIBUTE = re.compile(r"sock|fp|file|stream|conn|fd", re.I)


def _argument_use(body: FunctionBody, arg: cst.Arg) -> str:
    call = body.parent(arg)
    if not isinstance(call, cst.Call):
        return HANDOVER
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in _RELEASING_METHODS:
        return RELEASE
    name = body.resolver.name(func)
    if name in _RELEASING_CALLS:
        return RELEASE
    if name in READERS or arg.keyword is not None and arg.keyword.value == "file" and name == "print":
        return USE
    return HANDOVER


# Statements that may raise, return or jump between an acquisition and its close.
_RISKY = (cst.Call, cst.Raise, cst.Return, cst.Yield, cst.Await, cst.Subscript, cst.Continue, cst.Break)


def skips_close(body: FunctionBody, acquired: cst.Call, close: cst.Call) -> bool:
    """Whether code between the acquisition and this close may raise or
    leave early, with no try/finally around it (GCL303)."""
    first = [acquired, *body.ancestors(acquired)][::-1]
    second = [close, *body.ancestors(close)][::-1]
    depth = 0
    while depth < min(len(first), len(second)) and first[depth] is second[depth]:
        depth += 1
    if depth == 0 or depth >= min(len(first), len(second)):
        return False
    common, start, end = first[depth - 1], first[depth], second[depth]
    siblings = children(common)
    if not isinstance(common, (cst.IndentedBlock, cst.Module, cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return False
    if start not in siblings or end not in siblings:
        return False
    between = siblings[siblings.index(start) + 1:siblings.index(end)]
    if siblings.index(start) >= siblings.index(end):
        return False
    return any(_risky(stmt) for stmt in between) or _risky_header(end)


def _risky(node: cst.CSTNode) -> bool:
    if isinstance(node, _RISKY) or isinstance(node, (cst.For, cst.While, cst.With, cst.Try)):
        return True
    return any(isinstance(n, _RISKY) for n in descendants(node, stop=is_scope))


def _risky_header(stmt: cst.CSTNode) -> bool:
    """The compound statement that holds the close runs code before it."""
    if isinstance(stmt, cst.If):
        return any(isinstance(n, cst.Call) for n in (stmt.test, *descendants(stmt.test)))
    return isinstance(stmt, (cst.For, cst.While, cst.With, cst.Try))
