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
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Dict, FrozenSet, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import libcst as cst

from gclint.analysis.bindings import functions_in, statements
from gclint.names import dotted
from gclint.tree import children, descendants, is_scope

if TYPE_CHECKING:
    from gclint.analysis.resolver import Resolver

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

# Factory-like calls that are not in the table by name: `ctx.wrap_socket(s)`
# and `Path(p).open()` (see resource_kind).
_METHOD_FACTORIES: Tuple[str, ...] = ("wrap_socket", "open")


def factory_triggers(table: Mapping[str, str] = _FACTORIES, kinds: Optional[FrozenSet[str]] = None) -> Tuple[str, ...]:
    """The strings a file must contain to create a resource of `table` (of
    one of `kinds`, when given): each factory's last name part, derived from
    the one table so the two can never disagree."""
    parts = {name.rsplit(".", 1)[-1] for name, kind in table.items() if kinds is None or kind in kinds}
    if kinds is None or kinds & {"file", "socket"}:
        parts.update(_METHOD_FACTORIES)
    return tuple(sorted(parts))


FACTORY_TRIGGERS: Tuple[str, ...] = factory_triggers()

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
    name = callee_name(func, resolver)
    if name in _WRAPPING_FACTORIES and _wraps_file_object(call, resolver):
        return None
    if _owns_nothing(call, name):
        return None
    if name and name in table:
        return table[name]
    return in_file_factory_kind(func, resolver, table)


def callee_name(func: cst.BaseExpression, resolver: Resolver) -> Optional[str]:
    """The dotted name a call's function refers to; a module imported
    optionally (`try: import zipfile / except ImportError: zipfile = None`)
    still counts as that module."""
    name = resolver.name(func)
    if name is not None:
        return name
    text = dotted(func)
    if text is None:
        return None
    root, dot, rest = text.partition(".")
    module = optional_imports(resolver.ctx).get(root)
    return module + dot + rest if module else None


def optional_imports(ctx) -> Dict[str, str]:
    """Module-level names bound by an import in a `try` whose ImportError
    handler sets them to None: {bound name: imported dotted name}."""
    return per_file(ctx, _OptionalImports, lambda: _find_optional_imports(ctx.module))


class _OptionalImports:
    """Key of the per-file optional-import table."""


class _InFileFactories:
    """Key of the per-file table of functions that return a fresh resource."""


def per_file(ctx, key: object, compute):
    """A fact about the whole file, computed once and kept on the file context."""
    cache = ctx.metadata_cache
    if key not in cache:
        cache[key] = compute()
    return cache[key]


_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})


def _find_optional_imports(module: cst.Module) -> Dict[str, str]:
    found: Dict[str, str] = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.Try):
            continue
        imported = dict(_imports_in(stmt.body))
        for handler in stmt.handlers:
            if handler.type is None or dotted(handler.type) in _IMPORT_ERRORS:
                for name in _names_set_to_none(handler.body):
                    if name in imported:
                        found[name] = imported[name]
    return found


def _imports_in(block: cst.CSTNode) -> Iterator[Tuple[str, str]]:
    for node in descendants(block, stop=is_scope):
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted(alias.name) or ""
                bound = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else full.split(".")[0]
                yield bound, (full if alias.asname else bound)
        elif isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar) and not node.relative:
            module = dotted(node.module) if node.module is not None else None
            for alias in node.names:
                name = dotted(alias.name) or ""
                bound = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
                if module:
                    yield bound, f"{module}.{name}"


def _names_set_to_none(block: cst.CSTNode) -> Iterator[str]:
    for node in descendants(block, stop=is_scope):
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Name) and node.value.value == "None":
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    yield target.target.value


def in_file_factory_kind(func: cst.BaseExpression, resolver: Resolver, table: Mapping[str, str]) -> Optional[str]:
    """The kind of resource a function or method of this file returns fresh:
    `self._connect()` in a class whose `_connect` returns a new socket, or a
    module-level `make_pool()`."""
    factories = per_file(resolver.ctx, _InFileFactories, lambda: _InFileFactoryTable(resolver, table))
    if isinstance(func, cst.Name):
        functions = (s for s in resolver.scopes if isinstance(s, (cst.FunctionDef, cst.Lambda)))
        local = next((b for b in map(resolver.ctx.names.bindings, functions) if func.value in b), None)
        if local is not None:
            # A local name is no module-level factory; an import inside the function may be another module's.
            return _imported_factory(func, resolver) if isinstance(local[func.value], str) else None
        return factories.get(("", func.value)) or _imported_factory(func, resolver)
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        owner = _receiver_class(resolver.scopes, func.value.value)
        if owner is None:
            return _imported_factory(func, resolver)
        found = factories.get((owner.name.value, func.attr.value))
        if found or factories.defines(owner, func.attr.value):
            return found  # its own method: no base's is called
        return _summaries().inherited_factory_kind(resolver.ctx.analysis.summary, owner.name.value, func.attr.value)
    return None


def _imported_factory(func: cst.BaseExpression, resolver: Resolver) -> Optional[str]:
    """A factory function of another project module, by its summary."""
    name = resolver.name(func)
    if name is None or name == dotted(func):  # not an import
        return None
    return _summaries().imported_factory_kind(resolver.ctx.analysis.summary, dotted(func), name)


def _summaries():
    from gclint.analysis import summaries  # summaries reads this module's release methods

    return summaries


def _receiver_class(scopes: Sequence[cst.CSTNode], name: str) -> Optional[cst.ClassDef]:
    """The class whose method the innermost function is, when `name` is that
    method's first parameter (self or cls)."""
    for inner, outer in zip(scopes, scopes[1:]):
        if isinstance(inner, cst.FunctionDef):
            params = [*inner.params.posonly_params, *inner.params.params]
            if isinstance(outer, cst.ClassDef) and params and params[0].name.value == name:
                return outer
            return None
    return None


class _InFileFactoryTable:
    """{(class name or "", function name): kind} for the module's functions
    and its classes' methods that return a resource they just made, each
    worked out when a call first names it (most are never called as a
    factory could be, and each answer walks the function's body). The
    file's context drops it with its other per-file facts (release())."""

    def __init__(self, resolver: Resolver, table: Mapping[str, str]) -> None:
        self._resolver, self._table = resolver, table
        self._members: Dict[Tuple[str, str], List[Tuple[cst.FunctionDef, Tuple[cst.CSTNode, ...]]]] = {}
        for stmt in resolver.ctx.module.body:
            if isinstance(stmt, cst.FunctionDef):
                self._members.setdefault(("", stmt.name.value), []).append((stmt, (stmt,)))
            elif isinstance(stmt, cst.ClassDef):
                for function in functions_in(stmt):
                    self._members.setdefault((stmt.name.value, function.name.value), []).append((function, (function, stmt)))
        self._kinds: Dict[Tuple[str, str], Optional[str]] = {}
        # The class each module-level name means, as the module's summary reads it.
        self._classes = {s.name.value: s for s in statements(resolver.ctx.module) if isinstance(s, cst.ClassDef)}
        # (class, method) pairs extend-resource-factories may name as `module.Class.method`.
        self._configurable = {tuple(name.rsplit(".", 2)[-2:]) for name in table if name.count(".") >= 2}

    def defines(self, owner: cst.ClassDef, method: str) -> bool:
        """Whether `method` is defined in `owner` itself, the module-level
        class its name means, and no configured factory: then the in-file
        answer is the whole answer, with no class summary to make."""
        name = owner.name.value
        if self._classes.get(name) is not owner or (name, method) in self._configurable:
            return False
        return any(f.name.value == method for f in functions_in(owner))

    def get(self, key: Tuple[str, str]) -> Optional[str]:
        if key not in self._kinds:
            self._kinds[key] = self._kind_of(key)
        return self._kinds[key]

    def _kind_of(self, key: Tuple[str, str]) -> Optional[str]:
        # Several definitions of one name: the last that returns a fresh resource says.
        found = None
        for function, scopes in self._members.get(key, ()):
            kind = _returned_fresh(function, type(self._resolver)(self._resolver.ctx, scopes), self._table)
            if kind is not None:
                found = kind
        return found


def _returned_fresh(function: cst.FunctionDef, resolver: Resolver, table: Mapping[str, str]) -> Optional[str]:
    """The kind of resource `function` makes with a table factory and
    returns without keeping it anywhere else (an alias, an argument of a
    call such as `self.opened.append(s)`)."""
    made: Dict[str, str] = {}
    stored: set = set()
    returned: List[cst.BaseExpression] = []
    for node in resolver.ctx.analysis.index.nodes(function):
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call):
            kind = _table_kind(node.value, resolver, table)
            for target in node.targets:
                if kind and isinstance(target.target, cst.Name):
                    made[target.target.value] = kind
        elif isinstance(node, cst.Assign) and isinstance(node.value, cst.Name):
            stored.add(node.value.value)
        elif isinstance(node, cst.Arg) and isinstance(node.value, cst.Name):
            # `self.openSockets.append(s)`: kept for a later close, not fresh.
            stored.add(node.value.value)
        elif isinstance(node, cst.Return) and node.value is not None:
            returned.append(node.value)
    for value in returned:
        if isinstance(value, cst.Call):
            kind = _table_kind(value, resolver, table)
            if kind:
                return kind
        if isinstance(value, cst.Name) and value.value in made and value.value not in stored:
            return made[value.value]
    return None


def _table_kind(call: cst.Call, resolver: Resolver, table: Mapping[str, str]) -> Optional[str]:
    name = callee_name(call.func, resolver)
    if not name or name not in table or _owns_nothing(call, name):
        return None
    if name in _WRAPPING_FACTORIES and _wraps_file_object(call, resolver):
        return None
    return table[name]


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


# Keywords through which the wrapping factories take their file (object).
_FILE_KEYWORDS = frozenset({"file", "fileobj", "f", "filename", "name"})


def file_argument(call: cst.Call) -> Optional[cst.BaseExpression]:
    """What a wrapping factory reads: its first positional argument or the
    file given by keyword (`ZipFile(file=buf)`, `GzipFile(fileobj=raw)`)."""
    if call.args and call.args[0].keyword is None and not call.args[0].star:
        return call.args[0].value
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in _FILE_KEYWORDS:
            return arg.value
    return None


def _wraps_file_object(call: cst.Call, resolver: Resolver) -> bool:
    if any(a.keyword is not None and a.keyword.value == "fileobj" for a in call.args):
        return True
    first = file_argument(call)
    if isinstance(first, cst.Name):
        return first.value in _FILE_OBJECT_NAMES or first.value.endswith(_FILE_OBJECT_SUFFIXES)
    if isinstance(first, cst.Call):
        return resolver.name(first.func) in _IN_MEMORY or _table_kind(first, resolver, _FACTORIES) is not None
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


Scope = Union[cst.FunctionDef, cst.Module]

# What lies between a binding and the statement holding it when the binding
# runs whenever that statement completes: its line, and try/with bodies.
_STRAIGHT_LINE = (cst.AssignTarget, cst.Assign, cst.SimpleStatementLine, cst.SimpleStatementSuite,
                  cst.IndentedBlock, cst.Try, cst.With)


class FunctionBody:
    """One walk over a function's (or the module's) own code: parents,
    factory calls, and the names its nested scopes read from it."""

    def __init__(self, function: Scope, resolver: Resolver, table: Mapping[str, str]) -> None:
        self.function = function
        self.resolver = resolver
        self.parents: Dict[int, cst.CSTNode] = {}
        self.factory_calls: List[Tuple[cst.Call, str]] = []
        self.names: Dict[str, List[cst.Name]] = {}
        self.captured: set = set()
        self._order: Optional[Dict[int, Tuple[int, int]]] = None
        self._call_assigns: List[cst.Assign] = []  # `x = call(...)`, in walk order
        self.named_fates: Optional[list] = None  # filled once by the rules that share the body
        self._sorted_mentions: Dict[str, Tuple[List[int], List[cst.Name]]] = {}
        self._jumps: Optional[List[cst.CSTNode]] = None
        self._blocks: Dict[int, Tuple[List[cst.CSTNode], Dict[int, int]]] = {}
        self._starts: Dict[int, List[int]] = {}
        self._rebinds: Dict[str, Tuple[List[int], List[cst.Name]]] = {}
        self._walk(table)

    @property
    def label(self) -> str:
        """How messages name the code: `f()` or `module-level code`."""
        if isinstance(self.function, cst.Module):
            return "module-level code"
        return f"{self.function.name.value}()"

    @property
    def root(self) -> cst.CSTNode:
        return self.function if isinstance(self.function, cst.Module) else self.function.body

    def _walk(self, table: Mapping[str, str]) -> None:
        todo: List[cst.CSTNode] = [self.root]
        while todo:
            node = todo.pop()
            for child in children(node):
                self.parents[id(child)] = node
                if is_scope(child):
                    self.captured.update(self._free_names(child))
                    continue
                self._note(child, table)
                todo.append(child)
        for stmt in descendants(self.root, stop=is_scope):
            if isinstance(stmt, (cst.Global, cst.Nonlocal)):
                self.captured.update(n.name.value for n in stmt.names)

    def _free_names(self, scope: cst.CSTNode) -> Iterator[str]:
        """Names a nested scope may read from this one: a nested function's
        own parameters and locals of the same name are not the outer ones."""
        own = self.resolver.ctx.names.bindings(scope) if isinstance(scope, (cst.FunctionDef, cst.Lambda)) else {}
        decorators = scope.decorators if isinstance(scope, (cst.FunctionDef, cst.ClassDef)) else ()
        for node in descendants(scope):
            if isinstance(node, cst.Name) and node.value not in own:
                yield node.value
        for decorator in decorators:
            for node in descendants(decorator):
                if isinstance(node, cst.Name):
                    yield node.value

    def _note(self, node: cst.CSTNode, table: Mapping[str, str]) -> None:
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call):
            self._call_assigns.append(node)
        if isinstance(node, cst.Name):
            if _is_reference(node, self.parents.get(id(node))):
                self.names.setdefault(node.value, []).append(node)
        elif isinstance(node, cst.Call):
            kind = resource_kind(node, self.resolver, table)
            if kind is not None:
                self.factory_calls.append((node, kind))

    def order(self, node: cst.CSTNode) -> int:
        """Position of `node` in source order among the body's nodes."""
        return self._spans().get(id(node), (-1, -1))[0]

    def end(self, node: cst.CSTNode) -> int:
        """Position of the last node `node` holds (itself when it holds none)."""
        return self._spans().get(id(node), (-1, -1))[1]

    def _spans(self) -> Dict[int, Tuple[int, int]]:
        """{id: (first, last) source-order position of the node and what it
        holds}, numbered like a pre-order walk of the body's own code."""
        if self._order is None:
            spans: Dict[int, Tuple[int, int]] = {}
            counter = 0
            todo: List[Tuple[cst.CSTNode, bool]] = [(c, False) for c in reversed(children(self.root))]
            while todo:
                node, leaving = todo.pop()
                if leaving:
                    spans[id(node)] = (spans[id(node)][0], counter - 1)
                    continue
                spans[id(node)] = (counter, counter)
                counter += 1
                if not is_scope(node):
                    todo.append((node, True))
                    todo.extend((c, False) for c in reversed(children(node)))
            self._order = spans
        return self._order

    def statements(self, block: cst.CSTNode) -> Tuple[List[cst.CSTNode], Dict[int, int]]:
        """(the block's children, {id(child): index}), made once per block."""
        cached = self._blocks.get(id(block))
        if cached is None:
            members = children(block)
            cached = self._blocks[id(block)] = (members, {id(m): i for i, m in enumerate(members)})
        return cached

    def jumps(self) -> List[cst.CSTNode]:
        """The body's `return`, `continue` and `break` statements, in source order."""
        if self._jumps is None:
            self._jumps = [n for n in descendants(self.root, stop=is_scope) if isinstance(n, _JUMPS)]
        return self._jumps

    def mentions_of(self, name: str) -> Tuple[List[int], List[cst.Name]]:
        """(positions, mentions) of `name` in source order."""
        cached = self._sorted_mentions.get(name)
        if cached is None:
            ordered = sorted(self.names.get(name, ()), key=self.order)
            cached = self._sorted_mentions[name] = ([self.order(m) for m in ordered], ordered)
        return cached

    def reached_mentions(self, acquired: cst.Call, name: str) -> List[cst.Name]:
        """The mentions of `name` that may see the resource `acquired` binds
        to it: from its statement on (from the start of the outermost loop
        around it), up to the first later statement, in its block or a block
        around it, that binds `name` again (`name = ...`, also in a branch or
        a `try`): on the path through that binding the resource is dropped,
        and what comes after it in that block is about another value."""
        positions, mentions = self.mentions_of(name)
        statement, _ = self.statement_of(acquired)
        loops = [a for a in self.ancestors(acquired) if isinstance(a, (cst.For, cst.While))]
        first = bisect_left(positions, self.order(loops[-1] if loops else statement))
        killed = self._killed_after(acquired, name)
        if killed is None:
            return mentions[first:]
        return mentions[first:bisect_right(positions, killed[0])] + mentions[bisect_right(positions, killed[1]):]

    def _killed_after(self, acquired: cst.Call, name: str) -> Optional[Tuple[int, int]]:
        """(after, through): the positions cut off by a later rebinding of
        `name`, in the innermost block around the acquisition that has one:
        from the end of the first later statement that rebinds it whenever
        it completes normally, to the end of the block. A rebinding under an
        `if`, a loop or an `except` (`sock = None` after closing it) does not
        count: the path around it still carries the resource."""
        positions, rebinds = self.rebindings(name)
        if not rebinds:
            return None
        child = acquired
        for block in self.ancestors(acquired):
            if isinstance(block, (cst.IndentedBlock, cst.Module, cst.SimpleStatementSuite)):
                members, index = self.statements(block)
                if id(child) in index:
                    last = self.end(block) if block is not self.root else self._last_position()
                    for found in range(bisect_right(positions, self.end(child)), bisect_right(positions, last)):
                        killer = members[self._member_at(block, positions[found])]
                        if self._binds_when_done(rebinds[found], killer):
                            return self.end(killer), last
            child = block
        return None

    def _binds_when_done(self, target: cst.Name, statement: cst.CSTNode) -> bool:
        """Whether `statement` binds `target` whenever it completes normally:
        the binding is the statement, or in the body of a `try` or `with` in it."""
        child: cst.CSTNode = target
        for ancestor in self.ancestors(target):
            if ancestor is statement:
                return True
            if isinstance(ancestor, (cst.Try, cst.With)) and child is not ancestor.body:
                return False
            if not isinstance(ancestor, _STRAIGHT_LINE):
                return False
            child = ancestor
        return False

    def _member_at(self, block: cst.CSTNode, position: int) -> int:
        """Index of the child of `block` holding `position`."""
        starts = self._starts.get(id(block))
        if starts is None:
            starts = self._starts[id(block)] = [self.order(m) for m in self.statements(block)[0]]
        return bisect_right(starts, position) - 1

    def _last_position(self) -> int:
        return len(self._spans()) - 1

    def rebindings(self, name: str) -> Tuple[List[int], List[cst.Name]]:
        """(positions, targets) of the `name = ...` bindings of `name`, in source order."""
        cached = self._rebinds.get(name)
        if cached is None:
            pairs = [(p, m) for p, m in zip(*self.mentions_of(name)) if isinstance(self.parent(m), cst.AssignTarget)]
            cached = self._rebinds[name] = ([p for p, _ in pairs], [m for _, m in pairs])
        return cached

    def without_wrappers(self) -> None:
        """Drop `zipfile.ZipFile(raw)` when `raw` is itself a tracked resource
        or an in-memory buffer: the wrapper owns nothing beyond what `raw`
        (or nobody) already owns."""
        tracked = {n for call, _ in self.factory_calls for n in (self.bound_names(call) or ())}
        tracked |= self._in_memory_names()
        self.factory_calls = [(c, k) for c, k in self.factory_calls if not self._wraps(c, tracked)]

    def _in_memory_names(self) -> set:
        found = set()
        for node in self._call_assigns:
            if self.resolver.name(node.value.func) in _IN_MEMORY:
                found.update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))
        return found

    def _wraps(self, call: cst.Call, tracked: set) -> bool:
        if callee_name(call.func, self.resolver) not in _WRAPPING_FACTORIES:
            return False
        first = file_argument(call)
        return isinstance(first, cst.Name) and first.value in tracked

    def parent(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        return self.parents.get(id(node))

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        current = self.parent(node)
        while current is not None:
            yield current
            current = self.parent(current)

    def inside(self, node: cst.CSTNode, container: cst.CSTNode) -> bool:
        return any(a is container for a in self.ancestors(node))

    def statement_of(self, node: cst.CSTNode) -> Tuple[cst.CSTNode, cst.CSTNode]:
        """(the statement holding `node`, the block that statement is in)."""
        child = node
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, (cst.IndentedBlock, cst.Module)) or (
                isinstance(ancestor, cst.SimpleStatementSuite)
            ):
                return child, ancestor
            child = ancestor
        return child, self.root

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
        return self.enclosing_block(node, kind, acquired) is not None

    def enclosing_block(self, node: cst.CSTNode, kind: type, acquired: cst.CSTNode) -> Optional[cst.CSTNode]:
        around_acquired = {id(a) for a in self.ancestors(acquired)}
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, kind) and id(ancestor) not in around_acquired:
                return ancestor
        return None


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
class Mention:
    """One mention of a tracked name and what it does with the resource."""

    name: cst.Name
    kind: str
    call: Optional[cst.Call]  # the close call, for RELEASE / PLAIN_CLOSE / ERROR_CLOSE


@dataclass(frozen=True)
class Fate:
    released: bool
    plain_closes: Tuple[cst.Call, ...]
    error_closes: Tuple[cst.Call, ...]
    handed_over: bool
    mentions: Tuple[Mention, ...] = ()

    @property
    def error_closed(self) -> bool:
        return bool(self.error_closes)


def fate(body: FunctionBody, acquired: cst.Call, names: Sequence[str], enders: FrozenSet[str], with_ends: bool) -> Fate:
    """What happens to the resource bound to `names` in the function."""
    if any(n in body.captured for n in names):
        return Fate(False, (), (), True)
    mentions: List[Mention] = []
    first, last = body.order(acquired), body.end(acquired)
    for name in names:
        for mention in body.reached_mentions(acquired, name):
            # `f = open(f)`: the `f` inside the call is the old value.
            if not first <= body.order(mention) <= last:
                kind, call = _mention(body, acquired, mention, enders, with_ends)
                mentions.append(Mention(mention, kind, call))
    kinds = {m.kind for m in mentions}
    plain = tuple(m.call for m in mentions if m.kind == PLAIN_CLOSE and m.call is not None)
    errors = tuple(m.call for m in mentions if m.kind == ERROR_CLOSE and m.call is not None)
    return Fate(RELEASE in kinds, plain, errors, HANDOVER in kinds, tuple(mentions))


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
            return RELEASE, outer
        if body.in_block(outer, cst.ExceptHandler, acquired):
            return ERROR_CLOSE, outer
        return PLAIN_CLOSE, outer
    if isinstance(outer, cst.AssignTarget) and _HANDLE_ATTRIBUTE.search(method):
        # `conn.sock = FakeSocket()`: the handle it would close was swapped.
        return HANDOVER, None
    if method in enders:
        # `stack.callback(f.close)`, `return (sock.close, port)`: whoever
        # holds the bound close method closes it.
        return RELEASE, None
    if isinstance(outer, cst.Arg):
        # A bound method of another name keeps the resource alive elsewhere.
        return HANDOVER, None
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


# ---------------------------------------------------------------- risk
# What may leave a block early: an exception, or a jump.
_JUMPS = (cst.Return, cst.Continue, cst.Break)
_RAISERS = (cst.Call, cst.Raise, cst.Yield, cst.Await, cst.Subscript)
# Calls that cannot fail in practice (`fileno()` of an open socket,
# `isinstance`, `Path(f.name)`, the `close()` of another resource, which
# reports nothing for a socket and only a flush error for a file): a call of
# these is not a way out of the block.
_NON_RAISING = frozenset(
    """fileno getsockname setblocking settimeout gettimeout isinstance len id type callable
    hasattr bool repr str Path PurePath basename dirname abspath close""".split()
)


@dataclass(frozen=True)
class Risks:
    """Which ways out of a block count: in a test, an exception means the
    test has already failed, so only jumps abandon a resource; in a pytest
    yield fixture the teardown after `yield` always runs."""

    exceptions: bool = True
    yields: bool = True


def _leaves(node: cst.CSTNode, risks: Risks) -> bool:
    if isinstance(node, _JUMPS):
        return True
    if not risks.exceptions:
        return False
    if isinstance(node, cst.Yield):
        return risks.yields
    if isinstance(node, cst.Call):
        return _callee_last(node) not in _NON_RAISING
    return isinstance(node, _RAISERS)


def _callee_last(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def risky(node: cst.CSTNode, risks: Risks = Risks()) -> bool:
    """Whether running `node` may leave its block early. A `try` whose
    handlers catch what its body raises (`except OSError: pass`) contains
    that body's exceptions; its handlers, `else` and `finally` still count.
    A `break` or `continue` of a loop inside `node` stays inside it."""
    if isinstance(node, (cst.For, cst.While)) and risks.exceptions:
        return True
    return _may_leave(node, risks, in_loop=False)


def _may_leave(node: cst.CSTNode, risks: Risks, in_loop: bool) -> bool:
    if isinstance(node, (cst.Break, cst.Continue)):
        return not in_loop
    if isinstance(node, cst.Try) and node.handlers:
        parts = [*node.handlers, node.orelse, node.finalbody]
        jumps_out = any(
            isinstance(n, cst.Return) or isinstance(n, (cst.Break, cst.Continue)) and not in_loop
            for n in descendants(node.body, stop=is_scope)
        )
        return jumps_out or any(p is not None and _may_leave(p, risks, in_loop) for p in parts)
    if _leaves(node, risks):
        return True
    for child in children(node):
        if is_scope(child):
            continue
        inner = in_loop or isinstance(node, (cst.For, cst.While)) and child is node.body
        if _may_leave(child, risks, inner):
            return True
    return False


def _common_block(body: FunctionBody, first: cst.CSTNode, second: cst.CSTNode):
    """(block, statement holding first, statement holding second) for the
    innermost block holding both, or None."""
    one = [first, *body.ancestors(first)][::-1]
    two = [second, *body.ancestors(second)][::-1]
    depth = 0
    while depth < min(len(one), len(two)) and one[depth] is two[depth]:
        depth += 1
    if depth == 0 or depth >= min(len(one), len(two)):
        return None
    common = one[depth - 1]
    if not isinstance(common, (cst.IndentedBlock, cst.Module, cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return None
    return common, one[depth], two[depth]


def _between(body: FunctionBody, first: cst.CSTNode, second: cst.CSTNode) -> Optional[Tuple[List[cst.CSTNode], cst.CSTNode]]:
    """The sibling statements strictly between the ones holding `first` and
    `second`, and the one holding `second`; None when they are not in
    order in one block."""
    found = _common_block(body, first, second)
    if found is None:
        return None
    common, start, end = found
    siblings, index = body.statements(common)
    i, j = index.get(id(start)), index.get(id(end))
    if i is None or j is None or i >= j:
        return None
    return siblings[i + 1:j], end


def skips_close(body: FunctionBody, acquired: cst.Call, close: cst.Call, risks: Risks = Risks()) -> bool:
    """Whether code between the acquisition and this close may raise or
    leave early, with no try/finally around it (GCL303)."""
    found = _between(body, acquired, close)
    if found is None:
        return False
    between, end = found
    return any(risky(stmt, risks) for stmt in between) or _risky_header(end, risks)


def _risky_header(stmt: cst.CSTNode, risks: Risks) -> bool:
    """The compound statement that holds the close runs code before it."""
    if not risks.exceptions:
        return False
    if isinstance(stmt, cst.If):
        return any(isinstance(n, cst.Call) and _leaves(n, risks) for n in (stmt.test, *descendants(stmt.test)))
    return isinstance(stmt, (cst.For, cst.While, cst.With))


# ------------------------------------------------------- error-path closes
_BROAD = frozenset({"Exception", "BaseException"})
_OS_ERRORS = frozenset(
    """OSError IOError EnvironmentError socket.error socket.timeout socket.gaierror socket.herror
    TimeoutError ConnectionError ssl.SSLError error timeout""".split()
)


def uncovered_error_close(body: FunctionBody, acquired: cst.Call, names: Sequence[str], close: cst.Call, risks: Risks) -> Optional[str]:
    """Why a close in an `except` handler does not cover every exception
    after the acquisition, or None when it does: statements before the
    `try` that may raise, or a handler that catches one type while the `try`
    calls code that may raise others."""
    handler = body.enclosing_block(close, cst.ExceptHandler, acquired)
    attempt = body.parent(handler) if handler is not None else None
    if not isinstance(attempt, cst.Try) or not risks.exceptions:
        return None
    found = _between(body, acquired, attempt)
    if found is not None and any(risky(stmt, risks) for stmt in found[0]):
        if _handed_over_between(body, names, acquired, attempt):
            return None  # its new owner (`wrap_file(environ, file)`) closes it
        return "an exception before the `try` skips the close in its `except`"
    if found is None and not body.inside(acquired, attempt.body):
        return None
    caught = {dotted(h.type) for h in attempt.handlers if h.type is not None and not isinstance(h.type, cst.Tuple)}
    if any(h.type is None for h in attempt.handlers) or caught & _BROAD or any(isinstance(h.type, cst.Tuple) for h in attempt.handlers):
        return None
    if caught <= _OS_ERRORS:
        # What a file or socket raises; anything else there is a bug, not a path.
        return None
    if _calls_other_than(attempt.body, names, acquired):
        return f"an exception other than {', '.join(sorted(c for c in caught if c))} skips the close in its `except`"
    return None


def _handed_over_between(body: FunctionBody, names: Sequence[str], acquired: cst.Call, attempt: cst.Try) -> bool:
    """A callee that may keep the resource gets it after the acquisition and
    before the `try`."""
    start, end = body.order(acquired), body.order(attempt)
    for name in names:
        positions, mentions = body.mentions_of(name)
        for mention in mentions[bisect_right(positions, start):bisect_left(positions, end)]:
            parent = body.parent(mention)
            if isinstance(parent, cst.Arg) and _argument_use(body, parent) == HANDOVER:
                return True
    return False


def _calls_other_than(block: cst.CSTNode, names: Sequence[str], acquired: cst.Call) -> bool:
    """Whether the block calls anything but the resource's own methods (which
    raise what the handler was written for)."""
    for node in descendants(block, stop=is_scope):
        if not isinstance(node, cst.Call) or node is acquired or _callee_last(node) in _NON_RAISING:
            continue
        func = node.func
        own = isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in names
        if not own:
            return True
    return False


# ------------------------------------------------------- abandoning jumps
_CLOSING = (RELEASE, PLAIN_CLOSE, ERROR_CLOSE, HANDOVER)


def abandoning_jump(body: FunctionBody, acquired: cst.Call, names: Sequence[str], result: Fate) -> Optional[cst.CSTNode]:
    """A `return`, `continue` or `break` after the acquisition that leaves
    the resource behind: nothing before it on its path closed or handed the
    resource over, and it does not carry the resource with it (`return s`,
    a `break` to code that still uses it)."""
    if any(n in body.captured for n in names):
        return None  # a nested function holds it and may close it
    statement, block = body.statement_of(acquired)
    closing = [m.name for m in result.mentions if m.kind in _CLOSING]
    after = body.order(statement)
    for node in body.jumps():
        if body.order(node) <= after:
            continue
        if any(body.inside(n, node) for n in closing):
            continue
        if _abandons(body, node, statement, block, closing, result):
            return node
    return None


def _abandons(body, jump, statement, block, closing, result) -> bool:
    path = _path_to_block(body, jump, statement, block)
    if path is None or _only_without_resource(body, jump, statement, {m.name.value for m in result.mentions}):
        return False
    for stmt_block, stmt, start in path:
        siblings, index = body.statements(stmt_block)
        earlier = siblings[index[id(start)] + 1 if start is not None else 0:index[id(stmt)]]
        if any(body.inside(n, s) for s in earlier for n in closing):
            return False
    if isinstance(jump, cst.Return):
        return True
    loop = _target_loop(body, jump)
    if loop is None or not body.inside(statement, loop):
        return False
    if isinstance(jump, cst.Break):
        # The resource leaves the loop with the break: used after it?
        end = body.end(loop)
        return not any(body.order(m.name) > end for m in result.mentions)
    return True


def _only_without_resource(body: FunctionBody, jump: cst.CSTNode, statement: cst.CSTNode, names: set) -> bool:
    """The jump runs only when there is no resource: `if not conn: return`,
    `if sock is None: continue` (a factory that may return None)."""
    child = jump
    for ancestor in body.ancestors(jump):
        if ancestor is statement or is_scope(ancestor):
            return False
        if isinstance(ancestor, cst.If) and child is ancestor.body and _tests_absence(ancestor.test, names):
            return True
        child = ancestor
    return False


def _tests_absence(test: cst.BaseExpression, names: set) -> bool:
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return isinstance(test.expression, cst.Name) and test.expression.value in names
    if isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name) and test.left.value in names:
        target = test.comparisons[0]
        return isinstance(target.operator, (cst.Is, cst.Equal)) and isinstance(target.comparator, cst.Name) and target.comparator.value == "None"
    return False


def _path_to_block(body, jump, statement, block):
    """[(block, statement in it holding the jump, start)] from the jump up
    to the acquisition's block, where `start` is the acquisition statement
    (only in that block); None when the jump is not after the acquisition
    in that block (another branch, a handler of a `try` around it)."""
    path = []
    child = jump
    for ancestor in body.ancestors(jump):
        if isinstance(ancestor, cst.Finally):
            return None
        if isinstance(ancestor, (cst.IndentedBlock, cst.Module)):
            if ancestor is block:
                _, index = body.statements(block)
                if id(statement) not in index or index[id(child)] <= index[id(statement)]:
                    return None
                path.append((ancestor, child, statement))
                return path
            path.append((ancestor, child, None))
        child = ancestor
    return None


def _target_loop(body: FunctionBody, jump: cst.CSTNode) -> Optional[cst.CSTNode]:
    """The loop a `continue`/`break` acts on: the innermost one whose body
    (not its `else`) holds it."""
    child = jump
    for ancestor in body.ancestors(jump):
        if is_scope(ancestor):
            return None
        if isinstance(ancestor, (cst.For, cst.While)) and child is ancestor.body:
            return ancestor
        child = ancestor
    return None


# ---------------------------------------------------------------- processes
_PIPES = ("stdout", "stderr", "stdin")


def piped_streams(call: cst.Call, resolver: Resolver) -> Tuple[str, ...]:
    """The Popen streams given `subprocess.PIPE`."""
    return tuple(
        a.keyword.value for a in call.args
        if a.keyword is not None and a.keyword.value in _PIPES and resolver.name(a.value) == "subprocess.PIPE"
    )


def stream_closed(body: FunctionBody, names: Sequence[str], stream: str) -> bool:
    """Whether `p.<stream>` is closed, entered in a `with`, or handed over
    anywhere, or `p.communicate()` closes every pipe."""
    for name in names:
        for mention in body.names.get(name, ()):
            attribute = body.parent(mention)
            if not isinstance(attribute, cst.Attribute) or attribute.value is not mention:
                continue
            if attribute.attr.value in ("communicate", "__exit__"):
                return True
            if attribute.attr.value == stream and _stream_let_go(body, attribute):
                return True
    return False


def _stream_let_go(body: FunctionBody, stream: cst.Attribute) -> bool:
    outer = body.parent(stream)
    if isinstance(outer, cst.Attribute) and outer.value is stream:
        return outer.attr.value in RELEASE_METHODS
    if isinstance(outer, cst.WithItem):
        return True
    if isinstance(outer, (cst.For, cst.CompFor)) and outer.iter is stream:
        return False
    if isinstance(outer, cst.Arg):
        return _argument_use(body, outer) != USE
    return not isinstance(outer, (cst.Comparison, cst.ComparisonTarget, cst.If, cst.Expr))


_REPLACING = ("os._exit", "os.execv", "os.execve", "os.execl", "os.execle", "os.execlp", "os.execlpe",
              "os.execvp", "os.execvpe")


def process_replaced_after(body: FunctionBody, call: cst.Call) -> bool:
    """`Popen(...)` then `os._exit()` / `os.execv()`: this process ends or
    becomes another program; there is nobody left to wait."""
    statement, block = body.statement_of(call)
    siblings, index = body.statements(block)
    later = siblings[index[id(statement)] + 1:] if id(statement) in index else []
    for stmt in later:
        for node in (stmt, *descendants(stmt, stop=is_scope)):
            if isinstance(node, cst.Call) and body.resolver.name(node.func) in _REPLACING:
                return True
    return False


# Directories of code a project ships to show or measure something, not to
# run in production: a demo or benchmark runs once and exits.
_SAMPLE_DIRS = frozenset({"examples", "example", "demos", "demo", "benchmarks", "benchmark", "docs", "doc"})


def is_sample_code(path: str) -> bool:
    """A file under examples/, demos/, benchmarks/ or docs/."""
    return any(part in _SAMPLE_DIRS for part in PurePosixPath(path.replace("\\", "/")).parts[:-1])


def _is_test_support(path: str) -> bool:
    """A module of a `testing/` package (sqlalchemy.testing, trio.testing):
    a library for other projects' test suites, run only under a test runner."""
    return "testing" in PurePosixPath(path.replace("\\", "/")).parts[:-1]


def runs_like_a_test(ctx) -> bool:
    """A test file, test support or sample code: what it leaves open matters
    only when it piles up, and an exception means the run has already failed."""
    return ctx.options.is_test_file or is_sample_code(ctx.path) or _is_test_support(ctx.path)


_SETUP_METHODS = frozenset({"setUp", "asyncSetUp", "setUpClass", "setup_method", "setup_class", "setup"})


def piles_up(body: FunctionBody, call: cst.Call) -> bool:
    """Whether resources left open by short-lived code (a test, a function
    a program runs once) pile up: made in a loop, or in a setUp or fixture
    that runs for every test. One left by a single test or a program's
    `main()` is reclaimed when it returns (CPython), with a warning."""
    function = body.function
    if isinstance(function, cst.FunctionDef) and (function.name.value in _SETUP_METHODS or is_fixture(function)):
        return True
    return any(isinstance(a, (cst.For, cst.While)) for a in body.ancestors(call))


_EXITS = ("sys.exit", "os._exit", "exit", "quit")
_SETUP_SCRIPTS = ("setuptools.setup", "distutils.core.setup")


class _RunsOnce:
    """Key of the per-file set of functions a program calls only once."""


def runs_once(ctx, function: Optional[cst.FunctionDef], resolver: Resolver) -> bool:
    """Whether `function` runs at most once per process: the module is a
    program and every mention of the function is a call from its top-level
    code outside loops, like `main()` under the `__main__` guard or a setup
    script's `long_description()`. What such
    code leaves open lives as long as the program, and does not pile up."""
    if function is None:
        return False
    once = per_file(ctx, _RunsOnce, lambda: _functions_run_once(ctx.module, resolver))
    return id(function) in once


def _functions_run_once(module: cst.Module, resolver: Resolver) -> FrozenSet[int]:
    if not is_program(module, resolver):
        return frozenset()
    functions = {s.name.value: s for s in module.body if isinstance(s, cst.FunctionDef)}
    if _is_setup_script(module, resolver):
        # A build script runs its helpers while it builds and then exits.
        return frozenset(id(f) for f in functions.values())
    callers: Dict[str, List[Optional[str]]] = {name: [] for name in functions}
    _collect_callers(module, functions, callers)
    # Only direct calls: a helper `main()` calls once may still be called
    # again by code the program runs repeatedly (a handler, a loop body).
    once = [name for name, sites in callers.items() if sites and all(site == "" for site in sites)]
    return frozenset(id(functions[name]) for name in once)


def _collect_callers(module: cst.Module, functions: Mapping[str, cst.FunctionDef], callers) -> None:
    """For each mention of a module function: "" from top-level code outside
    loops, the calling function's name, or None (a loop, a reference that is
    not a call, a nested scope)."""
    todo: List[Tuple[cst.CSTNode, Optional[str], bool]] = [(stmt, "", False) for stmt in module.body]
    while todo:
        node, where, called = todo.pop()
        if isinstance(node, cst.Name) and node.value in functions:
            callers[node.value].append(where if called else None)
            continue
        if isinstance(node, cst.FunctionDef):
            if where == "" and node.name.value in functions:
                todo.extend((child, node.name.value, False) for child in children(node.body))
            else:
                todo.extend((child, None, False) for child in children(node))
            continue
        if isinstance(node, (cst.ClassDef, cst.Lambda, cst.For, cst.While)) or is_scope(node):
            todo.extend((child, None, False) for child in children(node))
            continue
        if isinstance(node, cst.Call):
            todo.append((node.func, where, True))
            todo.extend((child, where, False) for child in children(node) if child is not node.func)
            continue
        if isinstance(node, cst.Arg):
            todo.append((node.value, where, False))  # `long_description=long_description()`
            continue
        if isinstance(node, cst.Attribute):
            todo.append((node.value, where, False))  # `meta.main` is not `main`
            continue
        todo.extend((child, where, False) for child in children(node))


def _is_setup_script(module: cst.Module, resolver: Resolver) -> bool:
    """A `setup.py`: its top-level code calls `setuptools.setup()`."""
    return any(
        isinstance(node, cst.Call) and resolver.name(node.func) in _SETUP_SCRIPTS
        for stmt in module.body
        if not isinstance(stmt, (cst.FunctionDef, cst.ClassDef))
        for node in descendants(stmt, stop=is_scope)
    )


class _IsProgram:
    """Key of the per-file answer of is_program."""


def is_program(module: cst.Module, resolver: Resolver) -> bool:
    """A script rather than a module to import: a `__main__` guard, a loop
    at top level, a top-level `sys.exit()`, `something.run()` or
    `setuptools.setup()`. What its
    top-level code opens lives exactly as long as the program."""
    return per_file(resolver.ctx, _IsProgram, lambda: _is_program(module, resolver))


def _is_program(module: cst.Module, resolver: Resolver) -> bool:
    for stmt in module.body:
        if isinstance(stmt, (cst.For, cst.While)):
            return True
        if isinstance(stmt, cst.If) and "__name__" in {n.value for n in descendants(stmt.test) if isinstance(n, cst.Name)}:
            return True
        for node in descendants(stmt, stop=is_scope):
            if isinstance(node, cst.Call) and (
                resolver.name(node.func) in _EXITS + _SETUP_SCRIPTS
                or isinstance(node.func, cst.Attribute) and node.func.attr.value == "run"
            ):
                return True
    return False


def is_fixture(function: Scope) -> bool:
    """A pytest fixture: code after its `yield` is the teardown, always run."""
    if not isinstance(function, cst.FunctionDef):
        return False
    return any((dotted(_decorated(d)) or "").split(".")[-1] in ("fixture", "yield_fixture") for d in function.decorators)
