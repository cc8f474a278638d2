"""GCL3xx: files, sockets, processes and pools left for the garbage collector to close.

Each function's resources are tracked from the factory call to where they are
released (a `with`, a close in a `finally`, an ExitStack), handed over
(returned, stored, passed to a callee that may keep them) or lost; see
gclint/analysis/resources.py. The factory table takes project factories
from `[tool.gclint] extend-resource-factories`.
"""
from __future__ import annotations

from textwrap import dedent
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

import libcst as cst

from gclint.model import Invalid, Severity
from gclint.names import dotted
from gclint.rule import Rule, spells_name
from gclint.analysis.resources import (
    FACTORY_TRIGGERS,
    READERS,
    RELEASE_METHODS,
    WAIT_METHODS,
    FunctionBody,
    Risks,
    abandoning_jump,
    closes_on_with,
    expects_failure,
    factory_name,
    factory_table,
    factory_triggers,
    fate,
    in_file_factory_kind,
    is_fixture,
    is_patched,
    is_program,
    per_file,
    piped_streams,
    process_replaced_after,
    release_methods,
    piles_up,
    runs_once,
    runs_like_a_test,
    is_sample_code,
    resource_kind,
    skips_close,
    stream_closed,
    uncovered_error_close,
)
from gclint.analysis.bindings import functions_in
from gclint.analysis.resolver import Resolver
from gclint.tree import children, descendants, is_scope


class _ProjectFactoryTriggers:
    """Makes a rule look at files that name only a configured factory; a
    factory is named by its last part as a whole identifier (`open`, not
    `reopen` or `opener`)."""

    @classmethod
    def triggered_by(cls, text: str, options=None) -> bool:
        return any(spells_name(text, t) for t in (*cls.TRIGGERS, *cls.configured_triggers(options)))

    @classmethod
    def configured_triggers(cls, options) -> Tuple[str, ...]:
        # A project factory (`extend-resource-factories`) is named by its last part.
        return tuple(n.rsplit(".", 1)[-1] for n in (options.extra_resource_factories if options else ()))


class _SharedBodies:
    """Key (with the function's id) of a function's FunctionBody in the per-file cache."""


def _named_fates(body: FunctionBody):
    """(call, kind, names, fate) for each non-process resource bound to a
    name, worked out once per body for both rules that ask."""
    if body.named_fates is None:
        body.named_fates = list(_work_out_fates(body))
    return body.named_fates


def _work_out_fates(body: FunctionBody):
    for call, kind in body.factory_calls:
        names = body.bound_names(call)
        if kind == "process" or names is None:
            continue
        result = fate(body, call, names, release_methods(call, body.resolver), closes_on_with(call, body.resolver))
        yield call, kind, names, result


class _FunctionResourceRule(_ProjectFactoryTriggers, Rule):
    """Shared walk: note which functions (or the module) call a factory,
    analyse them on leave."""

    EVIDENCE = "resource-warning"
    TRIGGERS = FACTORY_TRIGGERS

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._table = factory_table(ctx.options.extra_resource_factories)
        self._last_parts = {name.rsplit(".", 1)[-1] for name in self._table} | {"wrap_socket"}
        self._pending: Set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            last = func.attr.value
        elif isinstance(func, cst.Name):
            # An imported alias (`TemporaryFile as TF`) is known by its full name.
            last = (self.ctx.qualified_name(func) or "").rsplit(".", 1)[-1]
        else:
            return
        if last in self._last_parts or in_file_factory_kind(func, Resolver(self.ctx), self._table):
            function = self.ctx.enclosing_function()
            self._pending.add(id(function if function is not None else self.ctx.module))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        if id(node) not in self._pending:
            return
        self._pending.discard(id(node))
        if is_patched(node):
            return
        self._analyse(node, Resolver(self.ctx, (node,) + self.ctx.scopes()))

    def leave_Module(self, node: cst.Module) -> None:
        # A script's top-level resources live exactly as long as the script.
        resolver = Resolver(self.ctx, ())
        if id(node) in self._pending and not runs_like_a_test(self.ctx) and not is_program(node, resolver):
            self._analyse(node, resolver)

    def _analyse(self, scope, resolver: Resolver) -> None:
        self.check(per_file(self.ctx, (_SharedBodies, id(scope)), lambda: self._body(scope, resolver)))

    def _body(self, scope, resolver: Resolver) -> FunctionBody:
        """The function's resources, worked out once for GCL301, 303 and 306."""
        body = FunctionBody(scope, resolver, self._table)
        body.without_wrappers()
        body.factory_calls = [(c, k) for c, k in body.factory_calls if not expects_failure(body.ancestors(c))]
        return body

    def short_lived(self, body: FunctionBody) -> bool:
        """A test, or a function the program runs once: what it leaves open
        matters only when it piles up."""
        function = body.function if isinstance(body.function, cst.FunctionDef) else None
        return runs_like_a_test(self.ctx) or runs_once(self.ctx, function, body.resolver)

    def risks(self, body: FunctionBody) -> Risks:
        """In a test (or a fixture) an exception means it has already failed:
        only a jump abandons a resource there."""
        in_test = runs_like_a_test(self.ctx) or is_fixture(body.function)
        return Risks(exceptions=not in_test, yields=not is_fixture(body.function))

    def check(self, body: FunctionBody) -> None:
        raise NotImplementedError


_JUMP_WORDS = {cst.Return: "return", cst.Continue: "continue", cst.Break: "break"}


class ResourceNotClosed(_FunctionResourceRule):
    """A file, socket, connection or pool that a function neither closes nor hands over.

    What it flags:
    A resource from gclint's factory table (`open`, `socket.socket`,
    `sqlite3.connect`, `tempfile.TemporaryFile`, `ThreadPoolExecutor`, ...
    plus `extend-resource-factories`) bound to a local name in a function
    that neither releases it (a `with`, a close in a `finally`, an
    `ExitStack`, `contextlib.closing`, `weakref.finalize(..., res.close)`) nor
    hands it over (returns or yields it, stores it on an object, passes it to
    a callee that may keep it, captures it in a closure). A generator that
    holds a file across its `yield`s without `with` or `finally` is flagged
    too. Every path counts: a `return`, `continue` or `break` (also a
    `continue` in a `for ... else`) that leaves after the acquisition with
    nothing before it that closes or hands the resource over leaks it, even
    when another path closes it. Factories are the table's, a function or a
    method of the same class that returns a resource it just made
    (`self._connect()`), and those of a module imported optionally
    (`try: import zipfile / except ImportError: zipfile = None`). A
    parameter rebound to a resource (`source = open(source)`) is a new
    resource. Module-level code of a module meant to be imported is
    analysed like a function; a program's (a `__main__` guard, a top-level
    loop, `sys.exit()` or `.run()`) lives as long as the program and is not.

    Why it matters:
    The descriptor, socket or connection stays open until the garbage
    collector finalizes the object: at once in CPython when nothing else
    refers to it, but never if it ends up in a reference cycle with
    collection disabled, late on PyPy, and only with a `ResourceWarning`
    that most programs never show. Under load that is "too many open files".

    Known limits:
    A resource whose name flows somewhere gclint cannot follow (an alias,
    an unknown callee, a container, a nested function that reads it) counts
    as handed over, and so does a bound close method given away
    (`return sock.close, port`). A jump under `if not conn:` or
    `if conn is None:` is taken to run only when there is no resource.
    Factories of other modules of the project are seen through their
    summaries (gclint/project.py); one gclint cannot resolve (third-party,
    dynamic, imported inside a function) is unknown and makes no finding,
    and a file that names no built-in factory is not checked at all. A name
    bound again (`f = open(b)` after `f = open(a)`) starts another
    resource: what follows that statement in its block is not about the
    first one. Tests, modules of a `testing/` package and sample code
    (under examples/, demos/, benchmarks/ or docs/) are not checked: what
    they leave open goes when the test or the demo returns, and none of the
    16 labelled findings there on real code was worth acting on. Code a program runs
    once (its `main()`, every helper of a `setup.py`) is reported only for
    resources made in a loop. A close that runs only on the normal path is GCL303's
    finding, and `subprocess.Popen` is GCL306's. Factory calls a test
    expects to fail or fakes (inside `assertRaises`, `pytest.raises`,
    `mock.patch`) are skipped, and so is `zipfile.ZipFile` / `tarfile.open` /
    `wave.open` over an object that is already open. Project factories from
    `extend-resource-factories` are found only in files that also name one
    of the built-in factories (the rule's trigger strings).

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12) and the
    CPython 3.11 standard library without its tests, every finding read.
    Projects: 10 findings, 10 right, 10 worth acting on (a ZipFile never
    closed in requests and pip's copy, a listening socket dropped after
    accept() and a socket dropped by `except: return` in paramiko, an
    HTTPConnection left open on werkzeug's BadGateway path, a socket
    dropped by `continue` per busy port in celery, a rebound parameter and
    a throw-away socket in twisted, an unread urlopen response in ipython).
    Standard library: 3 findings, right, 1 worth acting on (logging's
    HTTPHandler opens a connection per record and never closes it; the
    other two are lib2to3's grammar converter). The main branch before
    this version: 11 on the projects, 10 worth acting on, and 1 wrong in
    the standard library (a socket captured by a callback). On by default.
    """

    code = "GCL301"
    DEFAULT = True
    name = "resource-not-closed"
    USE_INSTEAD = """
        import socket

        def ping(port):
            with socket.create_connection(('127.0.0.1', port)) as s:
                s.sendall(b'ping')
    """
    REFERENCES = (
        ('PEP 343: The "with" statement', 'https://peps.python.org/pep-0343/'),
        ('ResourceWarning and the Python Development Mode', 'https://docs.python.org/3/library/devmode.html#resourcewarning-example'),
        ('socket objects as context managers', 'https://docs.python.org/3/library/socket.html#socket-objects'),
    )
    severity = Severity.ERROR
    message = "{kind} from {factory}() is neither closed nor handed over on some path out of {function}: it stays open until the garbage collector finalizes it; use `with`"
    VALID = [
        "def read(path):\n    with open(path) as f:\n        return f.read()\n",
        "def opener(path):\n    f = open(path)\n    return f\n",
        "def read(path):\n    f = open(path)\n    try:\n        return f.read()\n    finally:\n        f.close()\n",
        "import contextlib\n\ndef copy(paths):\n    with contextlib.ExitStack() as stack:\n        files = [stack.enter_context(open(p)) for p in paths]\n        f = open(paths[0])\n        stack.enter_context(f)\n",
        "import contextlib, sqlite3\n\ndef count(db):\n    con = sqlite3.connect(db)\n    with contextlib.closing(con):\n        return con.execute('select 1').fetchone()\n",
        "import socket\n\nclass Client:\n    def connect(self, addr):\n        sock = socket.create_connection(addr)\n        self.sock = sock\n",
        "import io\n\ndef text(path):\n    raw = open(path, 'rb')\n    return io.TextIOWrapper(raw)\n",
        "import socket\n\ndef dial(addr):\n    s = socket.socket()\n    try:\n        s.connect(addr)\n    except OSError:\n        s.close()\n        raise\n    return s\n",
        "import io, zipfile\n\ndef names(data):\n    z = zipfile.ZipFile(io.BytesIO(data))\n    return z.namelist()\n",
        "from http.client import HTTPConnection\n\ndef test_request(fake):\n    conn = HTTPConnection('example.com')\n    conn.sock = fake\n    conn.request('GET', '/')\n",
        "import weakref\n\ndef tracked(path, owner):\n    f = open(path)\n    weakref.finalize(owner, f.close)\n",
        dedent("""\
            import socket

            def refusing_port():
                sock = socket.socket()
                sock.connect(('127.0.0.1', 9))
                return sock.close, sock.getsockname()[1]
        """),
        dedent("""\
            import io, zipfile

            def names(data):
                z = zipfile.ZipFile(file=io.BytesIO(data), mode='r')
                return z.namelist()
        """),
        dedent("""\
            import socket

            def open_agent(path):
                conn = socket.socket(socket.AF_UNIX)
                conn.connect(path)
                return conn

            class Agent:
                def connect(self, path):
                    conn = open_agent(path)
                    if not conn:
                        return
                    self._conn = conn
        """),
        dedent("""\
            import socket

            def dial(addr):
                sock = socket.socket()
                try:
                    sock.connect(addr)
                except OSError:
                    sock.close()
                    sock = None
                return sock
        """),
        dedent("""\
            import socket

            class Proactor:
                def _accept_socket(self, family):
                    s = socket.socket(family)
                    s.settimeout(0)
                    return s

                def accept(self, listener, register):
                    conn = self._accept_socket(listener.family)

                    def finish_accept():
                        return conn, conn.getpeername()

                    return register(listener, finish_accept)
        """),
        dedent("""\
            import socket

            def first(addrs):
                for addr in addrs:
                    sock = socket.socket()
                    try:
                        sock.connect(addr)
                    except OSError:
                        sock.close()
                        continue
                    return sock
        """),
    ]
    INVALID = [
        Invalid("import socket\n\ndef ping(port):\n    s = socket.socket()\n    s.connect(('127.0.0.1', port))\n    s.sendall(b'ping')\n", (4, 9)),
        Invalid("def lines(path):\n    f = open(path)\n    for line in f:\n        yield line.rstrip()\n", (2, 9)),
        Invalid("import json\n\ndef load(path):\n    f = open(path)\n    return json.load(f)\n", (4, 9)),
        Invalid("import sqlite3\n\ndef save(db, row):\n    con = sqlite3.connect(db)\n    with con:\n        con.execute('insert into t values (?)', row)\n", (4, 11)),
        Invalid("from tempfile import TemporaryFile as TF\n\ndef scratch(data):\n    tmp = TF()\n    tmp.write(data)\n    tmp.seek(0)\n    return tmp.read()\n", (4, 11)),
        Invalid(dedent("""\
            import socket

            def first_tuned(addrs, options):
                for addr in addrs:
                    sock = socket.socket()
                    for option in options:
                        try:
                            sock.setsockopt(*option)
                        except OSError:
                            break
                    else:
                        continue
                    sock.connect(addr)
                    return sock
        """), (5, 16)),
        Invalid(dedent("""\
            import socket

            def agent(path):
                conn = socket.socket(socket.AF_UNIX)
                try:
                    conn.connect(path)
                    return conn
                except OSError:
                    return None
        """), (4, 12)),
        Invalid(dedent("""\
            import json

            def load(source):
                source = open(source)
                return json.load(source)
        """), (4, 14)),
        Invalid(dedent("""\
            def first_word(path):
                f = open(path)
                def word(f):
                    return f.split()[0]
                return word(f.readline())
        """), (2, 9)),
        Invalid(dedent("""\
            import socket

            class Client:
                def _connect(self):
                    return socket.create_connection(('example.com', 80))

                def ping(self):
                    s = self._connect()
                    s.sendall(b'ping')
        """), (8, 13)),
        Invalid(dedent("""\
            try:
                import zipfile
            except ImportError:
                zipfile = None

            def names(path):
                z = zipfile.ZipFile(path)
                return z.namelist()
        """), (7, 9)),
        Invalid(dedent("""\
            def convert(src, dst):
                f = open(src)
                try:
                    text = f.read()
                finally:
                    f.close()
                f = open(dst, 'w')
                f.write(text.upper())
        """), (7, 9)),
        Invalid(dedent("""\
            import json

            settings = open('settings.json')
            CONFIG = json.load(settings)
        """), (3, 12)),
    ]

    jump_message = "{kind} from {factory}() is left open by a `{jump}` in {function}: nothing closes or hands it over before it on that path; use `with` or try/finally"

    def check(self, body: FunctionBody) -> None:
        if runs_like_a_test(self.ctx):
            return  # what a test or a demo leaves open goes when it returns
        risks = self.risks(body)
        for call, kind, names, result in _named_fates(body):
            if result.released or self.short_lived(body) and not piles_up(body, call):
                continue
            if not (result.plain_closes or result.handed_over):
                self.report(call, self.message.format(kind=kind, factory=factory_name(call), function=body.label))
                continue
            if any(skips_close(body, call, close, risks) for close in result.plain_closes):
                continue  # GCL303's finding
            jump = abandoning_jump(body, call, names, result)
            if jump is not None:
                self.report(call, self.jump_message.format(
                    kind=kind, factory=factory_name(call), function=body.label,
                    jump=_JUMP_WORDS[type(jump)],
                ))


class ResourceUsedInline(_ProjectFactoryTriggers, Rule):
    """A file or connection used in the expression that opens it, never closed.

    What it flags:
    `open(p).read()`, `open(p, "w").write(s)`, `for line in open(p)`,
    `json.load(open(p))`, `csv.reader(open(p))`, and a factory call whose
    result is thrown away, for files, sockets, connections and temporary
    directories from gclint's factory table.

    Why it matters:
    Nothing ever calls `close()`: the file is closed only when the garbage
    collector gets to the object. CPython does that as soon as the expression
    ends, with a `ResourceWarning`; PyPy and other implementations may keep
    the descriptor open for a long time, and written data may not be flushed
    when the program expects it. `Path(p).read_text()` / `write_text()` or a
    `with` block close it on time.

    Known limits:
    Only the expression shapes above are flagged; a resource passed to any
    other callee is assumed to be handed over. Code that runs once -- a
    module's top level, a test, a function a program calls only from its
    top level -- is flagged only inside a loop: there the file is closed by
    reference counting at the end of the statement and cannot pile up. `open(p).close()` (touching a
    file) is fine, and so is `urlopen(url).read()`: reading a response to the
    end closes it, and urlopen has already released the socket.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12) and the
    CPython 3.11 standard library without its tests, every finding read.
    Projects: 1 finding, right and worth acting on (ipython's page_file()
    reads a file inline on every call). Standard library: 3, right, 1
    worth acting on (optparse's read_file; tkinter reads a profile once per
    Tk root). The main branch before this version also flagged a setup.py
    helper (harmless) and, wrongly, a test's own `self.socket()` method that
    keeps every socket it makes. 2 of 4 worth acting on: off by default.
    """

    code = "GCL302"
    name = "resource-used-inline"
    USE_INSTEAD = """
        def read(p):
            with open(p) as f:
                return f.read()
    """
    REFERENCES = (
        ('PEP 343: The "with" statement', 'https://peps.python.org/pep-0343/'),
        ('ResourceWarning and the Python Development Mode', 'https://docs.python.org/3/library/devmode.html#resourcewarning-example'),
        ('pathlib.Path.read_text()', 'https://docs.python.org/3/library/pathlib.html#pathlib.Path.read_text'),
    )
    severity = Severity.WARNING
    message = "{kind} from {factory}() is used inline and never closed: it is closed only when the garbage collector finalizes it; use Path.read_text()/write_text() or `with`"
    EVIDENCE = "resource-warning"
    _KINDS = frozenset({"file", "socket", "connection", "directory", "resource"})
    TRIGGERS = factory_triggers(kinds=_KINDS)
    VALID = [
        "from pathlib import Path\n\ndef read(p):\n    return Path(p).read_text()\n",
        "import json\n\nconfig = json.load(open('config.json'))\n",
        "def read(p):\n    with open(p) as f:\n        return f.read()\n",
        "def touch(p):\n    open(p, 'a').close()\n",
        "import io\n\ndef wrap(p):\n    return io.TextIOWrapper(open(p, 'rb'))\n",
        "import zipfile\n\nclass T:\n    def test_exclusive(self):\n        with self.assertRaises(FileExistsError):\n            zipfile.ZipFile('a.zip', 'x')\n",
        "import os\n\ndef peek(fd):\n    return open(fd, 'rb', closefd=False).read(4)\n",
        dedent("""\
            import socket

            class SocketLimit:
                def __init__(self):
                    self.opened = []

                def socket(self):
                    s = socket.socket()
                    self.opened.append(s)
                    return s

                def exhaust(self, limit):
                    for _ in range(limit):
                        self.socket()
        """),
        dedent("""\
            import setuptools

            def _lines(*parts):
                return [line.strip() for line in open('/'.join(parts)).readlines()]

            def requirements(name):
                return [line for line in _lines('requirements', name) if line]

            setuptools.setup(name='demo', install_requires=requirements('default.txt'))
        """),
    ]
    INVALID = [
        Invalid("def read(p):\n    return open(p).read()\n", (2, 12)),
        Invalid(dedent("""\
            import json

            def load_all(paths):
                return [json.load(open(p)) for p in paths]
        """), (4, 23)),
        Invalid("def count(p):\n    n = 0\n    for line in open(p):\n        n += 1\n    return n\n", (3, 17)),
        Invalid("import csv\n\ndef rows(p):\n    return list(csv.reader(open(p, newline='')))\n", (4, 28)),
        Invalid("from pathlib import Path\n\ndef save(p, s):\n    Path(p).open('w').write(s)\n", (4, 5)),
    ]

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._table = factory_table(ctx.options.extra_resource_factories)

    def visit_Call(self, node: cst.Call) -> None:
        parent = self.ctx.parent()
        if not self._inline_site(node, parent):
            return
        resolver = Resolver(self.ctx)
        kind = resource_kind(node, resolver, self._table)
        if kind in self._KINDS and not expects_failure(reversed(self.ctx.stack)) and not self._once(resolver):
            self.report(node, self.message.format(kind=kind, factory=factory_name(node)))

    def _once(self, resolver: Resolver) -> bool:
        """Inline in code that runs once (a module's top level, a test, a
        program's `main()`), outside loops: closed by reference counting at
        the end of the statement, it cannot pile up."""
        if _repeats(self.ctx.stack):
            return False
        function = self.ctx.enclosing_function()
        if runs_like_a_test(self.ctx) or function is None:
            return True  # a module's top level runs once per process
        return runs_once(self.ctx, function, resolver)

    def _inline_site(self, call: cst.Call, parent: Optional[cst.CSTNode]) -> bool:
        if isinstance(parent, cst.Attribute):
            if parent.value is not call or parent.attr.value in RELEASE_METHODS:
                return False
            # A response read to the end closes itself (and urlopen has already
            # let go of the socket).
            return not (parent.attr.value == "read" and self.ctx.qualified_name(call.func) == "urllib.request.urlopen")
        if isinstance(parent, (cst.For, cst.CompFor)):
            return parent.iter is call
        if isinstance(parent, cst.Expr):
            return True
        if isinstance(parent, cst.Arg):
            outer = self.ctx.parent(2)
            return isinstance(outer, cst.Call) and self.ctx.qualified_name(outer.func) in READERS
        return False


class ClosedOnlyOnSuccess(_FunctionResourceRule):
    """A resource closed by a plain `close()` that an exception or early exit skips.

    What it flags:
    `x = factory(...)` followed later by `x.close()` (or `shutdown()`,
    `cleanup()`...) that is not in a `finally` block, when the code between
    them can raise, `return`, `break` or `continue`, and no `except` handler
    closes it on the error path.

    Why it matters:
    The close runs only when everything before it succeeds. Any exception in
    between (a failed read, a parse error, a timeout) or an early `return`
    leaves the descriptor open until the garbage collector finalizes it,
    which is exactly the situation where a program retries in a loop and
    runs out of descriptors. `with` or `try/finally` closes it on every path.

    Also a close in an `except` handler that does not cover every way out:
    statements between the acquisition and the `try` that may raise, or a
    handler for one exception type (other than the OS errors a file or
    socket raises) around code that may raise others.

    Known limits:
    Statements between that contain no call, subscript or jump are assumed
    not to raise, and neither are `fileno()`, `settimeout()` and the like.
    A `try` whose handlers swallow the error (`except OSError: pass`)
    contains its body's exceptions. A close inside a branch (`if f is not
    sys.stdout: f.close()`) is judged like a plain close. The `close()` of
    another resource between them is taken not to raise.
    Tests, `testing/` packages and sample code (examples/, demos/,
    benchmarks/, docs/) are not checked: an exception there means the run
    has already failed, and none of the 29 labelled findings there on real code was
    worth acting on. In a pytest fixture only a jump counts: its code after
    `yield` always runs.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12) and the
    CPython 3.11 standard library without its tests, every finding read.
    Projects: 5 findings, 5 right, 3 worth acting on (a DefaultSelector
    left open on a connection reset in werkzeug's dev server, a log file in
    twisted's socks that a py2-only call always skips, ipython's %history
    output file); 2 true but harmless (a loopback listener in paramiko's
    Windows pipe, tornado's bind_sockets re-raising at startup). Standard
    library: 3, right, 1 worth acting on (logging's SMTPHandler skips
    quit() when sending fails). The main branch before this version: 10 on
    the projects, 3 worth acting on, 7 true but harmless (5 of them in
    demos, examples and test support). 4 of 8 worth acting on: off by
    default.
    """

    code = "GCL303"
    name = "closed-only-on-success"
    USE_INSTEAD = """
        def read(path):
            with open(path) as f:
                return f.read()
    """
    REFERENCES = (
        ('PEP 343: The "with" statement', 'https://peps.python.org/pep-0343/'),
        ('The try statement: finally', 'https://docs.python.org/3/reference/compound_stmts.html#finally-clause'),
    )
    severity = Severity.WARNING
    message = "{kind} from {factory}() is closed only if the code before the close succeeds: an exception or early exit skips it; use `with` or try/finally"
    VALID = [
        "def read(path):\n    f = open(path)\n    try:\n        return f.read()\n    finally:\n        f.close()\n",
        "def touch(path):\n    f = open(path, 'w')\n    f.close()\n",
        "def read(path):\n    f = open(path)\n    try:\n        data = f.read()\n    except BaseException:\n        f.close()\n        raise\n    f.close()\n    return data\n",
        "def read(path):\n    with open(path) as f:\n        return f.read()\n",
        dedent("""\
            import socket

            def probe():
                s = socket.socket()
                fd = s.fileno()
                s.close()
                return fd
        """),
        dedent("""\
            import socket, ssl

            def tls_version(addr, context):
                sock = socket.create_connection(addr)
                try:
                    sock = context.wrap_socket(sock)
                except ssl.SSLError:
                    pass
                sock.close()
        """),
        dedent("""\
            import socket
            import pytest

            @pytest.fixture
            def server():
                s = socket.socket()
                s.bind(('127.0.0.1', 0))
                yield s
                s.close()
        """),
        dedent("""\
            import socket

            def has_ipv4_mapped_addresses():
                server = client = None
                try:
                    server = socket.socket(socket.AF_INET6)
                    server.bind(('::', 0))
                    server.listen(1)
                    client = socket.create_connection(('127.0.0.1', server.getsockname()[1]))
                except OSError:
                    pass
                if client:
                    client.close()
                if server:
                    server.close()
        """),
        dedent("""\
            import socket

            def create_connection(addr, options):
                sock = socket.socket()
                try:
                    set_options(sock, options)
                    sock.connect(addr)
                    return sock
                except OSError:
                    sock.close()
                    raise
        """),
    ]
    INVALID = [
        Invalid("def read(path):\n    f = open(path)\n    data = f.read()\n    f.close()\n    return data\n", (2, 9)),
        Invalid("import socket\n\ndef ask(addr, q):\n    s = socket.create_connection(addr)\n    s.sendall(q)\n    if not q:\n        return None\n    reply = s.recv(1024)\n    s.close()\n    return reply\n", (4, 9)),
        Invalid("from contextlib import contextmanager\n\n@contextmanager\ndef opened(path):\n    f = open(path)\n    yield f\n    f.close()\n", (5, 9)),
        Invalid(dedent("""\
            import socket

            def dial(addr):
                s = socket.socket()
                s.bind(('', 0))
                try:
                    s.connect(addr)
                except OSError:
                    s.close()
                    raise
                return s
        """), (4, 9)),
        Invalid(dedent("""\
            import json

            def load(path):
                f = open(path)
                try:
                    data = json.loads(f.read())
                except ValueError:
                    f.close()
                    raise
                f.close()
                return data
        """), (4, 9)),
    ]

    error_message = "{kind} from {factory}() is closed on the error path only inside the `try`: {why}; use `with` or try/finally"

    def check(self, body: FunctionBody) -> None:
        if runs_like_a_test(self.ctx):
            return  # an exception there has already failed the run
        risks = self.risks(body)
        once = self.short_lived(body)
        for call, kind, names, result in _named_fates(body):
            if result.released or once and not piles_up(body, call):
                continue
            gaps = [why for close in result.error_closes if (why := uncovered_error_close(body, call, names, close, risks))]
            if result.error_closed and not gaps:
                continue
            if any(skips_close(body, call, close, risks) for close in result.plain_closes):
                self.report(call, self.message.format(kind=kind, factory=factory_name(call)))
            elif gaps:
                self.report(call, self.error_message.format(kind=kind, factory=factory_name(call), why=gaps[0]))


_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def _repeats(stack) -> bool:
    """Whether the innermost node of the walk's stack runs once per
    iteration of a loop: in a loop's body, not in what it iterates over
    (`for line in open(p)` opens once)."""
    for node, child in zip(stack, stack[1:]):
        if isinstance(node, (cst.For, cst.While)) and child is node.body:
            return True
        if isinstance(node, _COMPREHENSIONS) and child is not node.for_in:
            return True
        if isinstance(node, cst.CompFor) and child is not node.iter:
            return True
    return False


class SqliteWithDoesNotClose(Rule):
    """`with sqlite3.connect(...) as con:` commits or rolls back; it does not close.

    What it flags:
    A `sqlite3.connect(...)` call used directly as a `with` item.

    Why it matters:
    A sqlite3 connection's context manager wraps a transaction: on exit it
    commits (or rolls back on an exception) and leaves the connection open.
    Code that reads like a `with open(...)` keeps the database file, its
    locks and its memory open until the garbage collector finalizes the
    connection (Python 3.13 warns with a `ResourceWarning`). Wrap it in
    `contextlib.closing(...)`, or close it in a `finally`.

    Known limits:
    Only the connect call as the `with` item itself is flagged; a
    connection bound first and then used in `with con:` is GCL301's
    business when it is never closed.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12) and the
    CPython 3.11 standard library without its tests, every finding read.
    No finding, before or after this version: precision not measured there;
    the rule is exact on its examples and fixtures. Off by default: without
    findings on real code there is no evidence it is worth the default set
    (the default is kept only for gc-API rules that match explicit misuse).
    """

    code = "GCL304"
    name = "sqlite-with-does-not-close"
    USE_INSTEAD = """
        import contextlib
        import sqlite3

        def save(db):
            with contextlib.closing(sqlite3.connect(db)) as con:
                with con:  # commits, or rolls back on an exception
                    con.execute('create table t (x)')
    """
    REFERENCES = (
        ('sqlite3: how to use the connection context manager', 'https://docs.python.org/3/library/sqlite3.html#sqlite3-connection-context-manager'),
        ('contextlib.closing', 'https://docs.python.org/3/library/contextlib.html#contextlib.closing'),
    )
    severity = Severity.WARNING
    message = "`with sqlite3.connect(...)` commits or rolls back but does not close the connection; use `with contextlib.closing(sqlite3.connect(...))`"
    EVIDENCE = "resource-warning"
    TRIGGERS = ("sqlite3",)
    VALID = [
        "import contextlib, sqlite3\n\ndef count(db):\n    with contextlib.closing(sqlite3.connect(db)) as con:\n        return con.execute('select 1').fetchone()\n",
        "import sqlite3\n\ndef save(db):\n    con = sqlite3.connect(db)\n    try:\n        with con:\n            con.execute('create table t (x)')\n    finally:\n        con.close()\n",
    ]
    INVALID = [
        Invalid("import sqlite3\n\ndef save(db):\n    with sqlite3.connect(db) as con:\n        con.execute('create table t (x)')\n", (4, 10)),
        Invalid("from sqlite3 import connect\n\nwith connect(':memory:'), open('log') as log:\n    pass\n", (3, 6)),
    ]

    def visit_WithItem(self, node: cst.WithItem) -> None:
        item = node.item
        if isinstance(item, cst.Call) and self.ctx.qualified_name(item.func) == "sqlite3.connect":
            if not expects_failure(reversed(self.ctx.stack)):
                self.report(item)


class OwnedResourceNeverClosed(_ProjectFactoryTriggers, Rule):
    """A class keeps a resource on `self` and no method ever closes it.

    What it flags:
    `self.attr = factory(...)` in a method, where no method of the class
    closes `self.attr` (`close`, `shutdown`, `wait`...), enters it in a
    `with` or an ExitStack, registers its close with `weakref.finalize`, or
    passes, returns or aliases it anywhere gclint cannot follow.

    Why it matters:
    The object owns the descriptor but offers no way to release it: every
    instance keeps its file, socket or pool open until the instance itself is
    collected, which for an object in a reference cycle can be much later,
    or never with collection disabled. Give the class a `close()` (and
    `__enter__`/`__exit__`) that closes it.

    Known limits:
    A class is checked when each base is `object` or a class whose summary
    gclint has (this module or another project module, gclint/project.py);
    a base it cannot resolve (third-party, dynamic) may close the attribute,
    so such a class is not checked. Classes of sample code (examples/,
    demos/, benchmarks/, docs/) are not checked: their objects live as long
    as the demo. Only a
    factory call (or a call of a method of the class that returns a fresh
    resource) assigned directly to `self.attr` is followed. A class defined
    inside a function of a test file lives as long as that test and is not
    checked.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12) and the
    CPython 3.11 standard library without its tests, every finding read.
    Projects: 1 finding, right, not worth acting on (twisted's Logging
    debugging wrapper, which its docstring says can be deleted). Standard
    library: none. The main branch before this version also flagged a
    benchmark's report file. Off by default.
    """

    code = "GCL305"
    name = "owned-resource-never-closed"
    USE_INSTEAD = """
        class Log:
            def __init__(self, path):
                self.f = open(path, 'a')

            def write(self, s):
                self.f.write(s)

            def close(self):
                self.f.close()

            def __enter__(self):
                return self

            def __exit__(self, *exc_info):
                self.close()
    """
    REFERENCES = (
        ('PEP 343: The "with" statement', 'https://peps.python.org/pep-0343/'),
        ('ResourceWarning and the Python Development Mode', 'https://docs.python.org/3/library/devmode.html#resourcewarning-example'),
    )
    severity = Severity.WARNING
    message = "self.{attr} holds a {kind} from {factory}() but no method of {cls} closes it: it stays open until the instance is collected; add a close() method"
    EVIDENCE = "resource-warning"
    TRIGGERS = FACTORY_TRIGGERS
    VALID = [
        "class Log:\n    def __init__(self, path):\n        self.f = open(path, 'a')\n\n    def close(self):\n        self.f.close()\n",
        "import weakref\n\nclass Log:\n    def __init__(self, path):\n        self.f = open(path, 'a')\n        weakref.finalize(self, self.f.close)\n",
        "import socket\n\nclass Server:\n    def __init__(self):\n        self.sock = socket.socket()\n\n    def __exit__(self, *exc):\n        for s in (self.sock,):\n            s.close()\n",
        "class Log(Base):\n    def __init__(self, path):\n        self.f = open(path, 'a')\n",
    ]
    INVALID = [
        Invalid("class Log:\n    def __init__(self, path):\n        self.f = open(path, 'a')\n\n    def write(self, s):\n        self.f.write(s)\n", (3, 18)),
        Invalid("from concurrent.futures import ThreadPoolExecutor\n\nclass Crawler(object):\n    def start(self):\n        self.pool = ThreadPoolExecutor(4)\n", (5, 21)),
        Invalid(dedent("""\
            import socket

            class Client:
                def _connect(self):
                    return socket.create_connection(('example.com', 80))

                def start(self):
                    self.sock = self._connect()
        """), (8, 21)),
    ]
    _TRIVIAL_BASES = frozenset({"object", "abc.ABC", "typing.Generic", "typing.Protocol"})

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        if not self._checked(node):
            return
        table = factory_table(self.ctx.options.extra_resource_factories)
        owned: Dict[str, List] = {}
        for method in functions_in(node):
            resolver = Resolver(self.ctx, (method, node) + self.ctx.scopes())
            for attr, call, kind in _owned_in(method, resolver, table):
                owned.setdefault(attr, []).append((call, kind))
        mentions = _attribute_mentions(node) if owned else {}
        released_by_bases = _released_by_bases(self.ctx.analysis.summary, node) if owned else frozenset()
        for attr, found in owned.items():
            if attr not in released_by_bases and not _ever_released(mentions.get(attr, ()), found[0][1]):
                for call, kind in found:
                    self.report(call, self.message.format(attr=attr, kind=kind, factory=factory_name(call), cls=node.name.value))

    def _checked(self, node: cst.ClassDef) -> bool:
        # A class defined inside a test lives as long as that test, and
        # a demo's or a benchmark's objects as long as the demo.
        if self.ctx.options.is_test_file and self.ctx.enclosing_function() is not None or is_sample_code(self.ctx.path):
            return False
        resolver = Resolver(self.ctx)
        if all(resolver.name(base.value) in self._TRIVIAL_BASES for base in node.bases):
            return True
        # Bases known from their summaries (this module or another project module).
        summary = self.ctx.analysis.summary.cls(node.name.value)
        return summary is not None and summary.bases_known


def _released_by_bases(summary, node: cst.ClassDef) -> FrozenSet[str]:
    """Attributes a base class's methods may close (from the bases' summaries)."""
    bases = (summary.cls(dotted(b.value)) for b in node.bases)
    return frozenset(a for base in bases if base is not None for a in base.releases)


def _self_name(method: cst.FunctionDef) -> Optional[str]:
    params = [*method.params.posonly_params, *method.params.params]
    return params[0].name.value if params else None


def _owned_in(method: cst.FunctionDef, resolver: Resolver, table) -> List:
    """(attr, call, kind) for each `self.attr = factory(...)` in the method."""
    me = _self_name(method)
    found = []
    for node in resolver.ctx.analysis.index.nodes(method):
        if not (isinstance(node, cst.Assign) and isinstance(node.value, cst.Call)):
            continue
        attrs = [t.target.attr.value for t in node.targets if _is_attribute_of(t.target, me)]
        kind = resource_kind(node.value, resolver, table) if attrs else None
        if kind:
            found.extend((attr, node.value, kind) for attr in attrs)
    return found


def _is_attribute_of(target: cst.BaseExpression, owner: Optional[str]) -> bool:
    return isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == owner


def _ever_released(mentions, kind: str) -> bool:
    """Whether any of the mentions of `<self>.attr` in the class may close it:
    a release method, or the object itself going anywhere but an attribute read."""
    enders: FrozenSet[str] = RELEASE_METHODS | WAIT_METHODS | {"kill"} if kind == "process" else RELEASE_METHODS
    for node, parent in mentions:
        if isinstance(parent, cst.Attribute) and parent.value is node:
            if parent.attr.value in enders:
                return True
            continue
        if isinstance(parent, cst.AssignTarget) or isinstance(parent, cst.AnnAssign) and parent.target is node:
            continue
        if isinstance(parent, (cst.Comparison, cst.ComparisonTarget, cst.If, cst.UnaryOperation, cst.Del)):
            continue
        return True
    return False


def _attribute_mentions(cls: cst.ClassDef) -> Dict[str, List[Tuple[cst.Attribute, cst.CSTNode]]]:
    """{attr: [(`x.attr` node, its parent)]} for the whole class body, in one walk."""
    found: Dict[str, List[Tuple[cst.Attribute, cst.CSTNode]]] = {}
    todo: List[cst.CSTNode] = [cls.body]
    while todo:
        node = todo.pop()
        for child in children(node):
            if isinstance(child, cst.Attribute) and isinstance(child.value, cst.Name):
                found.setdefault(child.attr.value, []).append((child, node))
            todo.append(child)
    return found


class ProcessNotWaited(_FunctionResourceRule):
    """A `subprocess.Popen` that is never waited for.

    What it flags:
    A `subprocess.Popen(...)` whose result is neither waited for
    (`wait()`, `communicate()`, `poll()`, a `with` block) nor handed over
    (returned, stored, passed on) in the function that starts it, including
    a `Popen(...)` call whose result is thrown away. And a process started
    with `stdout=PIPE` (or `stderr`, `stdin`) that is waited for with
    `wait()` while that pipe is never closed: `communicate()` and `with
    Popen(...)` close the pipes, `wait()` does not, and reading the pipe to
    its end does not close it either.

    Why it matters:
    A child process that exits but is not waited for stays a zombie in the
    process table, and its pipes stay open in the parent, until the Popen
    object is finalized by the garbage collector (which warns "subprocess
    is still running" with a `ResourceWarning`). Long-running programs
    accumulate both.

    Known limits:
    A wait that runs only on the normal path (not in a `finally`) counts as
    a wait. A process handed to another function is assumed to be waited
    for there, and so is a pipe handed anywhere. A `Popen` followed by
    `os._exit()` or `os.execv*()` is not flagged: the parent ends or
    becomes another program. Test files are skipped: tests of process handling start
    processes that fail or linger on purpose.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12) and the
    CPython 3.11 standard library without its tests, every finding read.
    Projects: no finding (before this version 1, wrong: tornado's
    autoreload starts the new process and calls `os._exit()`). Standard
    library: 1, right, harmless (idlelib starts turtledemo and drops it;
    Popen's own zombie list reaps it at the next Popen). Off by default.
    """

    code = "GCL306"
    name = "process-not-waited"
    USE_INSTEAD = """
        import subprocess

        def fire(cmd):
            # Wait here; or return the Popen and let the caller wait for it.
            return subprocess.run(cmd, check=True).returncode
    """
    REFERENCES = (
        ('subprocess.Popen.wait()', 'https://docs.python.org/3/library/subprocess.html#subprocess.Popen.wait'),
        ('subprocess.run()', 'https://docs.python.org/3/library/subprocess.html#subprocess.run'),
    )
    severity = Severity.WARNING
    message = "subprocess.Popen in {function} is never waited for: the child becomes a zombie and its pipes stay open until the garbage collector finalizes the Popen; use `with Popen(...)`, wait() or communicate()"
    TRIGGERS = factory_triggers(kinds=frozenset({"process"}))
    VALID = [
        "import subprocess\n\ndef run(cmd):\n    with subprocess.Popen(cmd) as p:\n        return p.wait()\n",
        "import subprocess\n\ndef run(cmd):\n    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)\n    out, _ = p.communicate()\n    return out\n",
        "import subprocess\n\ndef start(cmd):\n    return subprocess.Popen(cmd)\n",
        "from subprocess import Popen\n\nclass Job:\n    def start(self, cmd):\n        self.proc = Popen(cmd)\n",
        "import subprocess\n\nclass T:\n    def test_nul(self):\n        with self.assertRaises(ValueError):\n            subprocess.Popen(['a\\0'])\n",
        dedent("""\
            import os, subprocess, sys

            def restart(argv):
                subprocess.Popen([sys.executable] + argv)
                os._exit(0)
        """),
        dedent("""\
            import subprocess

            def lines(cmd):
                p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
                found = p.stdout.read().splitlines()
                p.stdout.close()
                p.wait()
                return found
        """),
    ]
    INVALID = [
        Invalid("import subprocess\n\ndef fire(cmd):\n    subprocess.Popen(cmd)\n", (4, 5)),
        Invalid("from subprocess import Popen as P, PIPE\n\ndef first_line(cmd):\n    p = P(cmd, stdout=PIPE)\n    return p.stdout.readline()\n", (4, 9)),
        Invalid(dedent("""\
            import subprocess

            def lines(cmd):
                p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                found = [line for line in p.stdout]
                p.wait()
                return found
        """), (4, 9)),
    ]

    pipe_message = "{name}.{stream} of subprocess.Popen in {function} is never closed: wait() reaps the child but leaves the pipe open until the garbage collector finalizes it; use communicate() or `with Popen(...)`"

    def check(self, body: FunctionBody) -> None:
        # Tests of subprocess start processes that fail or linger on purpose.
        if self.ctx.options.is_test_file:
            return
        for call, kind in body.factory_calls:
            if kind != "process" or process_replaced_after(body, call):
                continue
            names = body.bound_names(call)
            if names is None:
                if isinstance(body.parent(call), cst.Expr):
                    self.report(call, self.message.format(function=body.label))
                continue
            result = fate(body, call, names, WAIT_METHODS, True)
            if result.handed_over:
                continue
            if not (result.released or result.plain_closes or result.error_closed):
                self.report(call, self.message.format(function=body.label))
                continue
            self._check_pipes(body, call, names, result)

    def _check_pipes(self, body: FunctionBody, call: cst.Call, names, result) -> None:
        if any(m.kind == "release" and m.call is None for m in result.mentions):
            return  # `with p:` closes the pipes on exit
        for stream in piped_streams(call, body.resolver):
            if not stream_closed(body, names, stream):
                self.report(call, self.pipe_message.format(name=names[0], stream=stream, function=body.label))
                return
