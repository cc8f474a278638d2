"""GCL1xx: `__del__` methods that resurrect, block, or are called by hand.

Facts (CPython 3.4+, PEP 442): a finalizer runs at most once per object,
even when it resurrects the object; it runs wherever the last reference
goes or a collection is triggered, in whatever thread that happens.
"""
from __future__ import annotations

from typing import FrozenSet, Mapping, NamedTuple, Optional

import libcst as cst

from gclint.analysis.bindings import argument, attribute_stores, functions_in
from gclint.analysis.blocking import (
    LOCK_TYPES,
    blocking_call,
    blocking_method,
    is_lock,
    is_thread_class,
    joins_thread_holding,
    self_holding_attributes,
)
from gclint.analysis.classes import Method, enclosing_method
from gclint.analysis.keeps import Keeper
from gclint.model import Invalid, Severity
from gclint.names import dotted
from gclint.rule import Rule
from gclint.tree import descendants, is_scope

_TRIGGERS = ("__del__",)


def _in_del(scopes) -> Optional[Method]:
    """The `__del__` method whose own body (not a nested scope) is current."""
    method = enclosing_method(scopes)
    if method is None or method.inner or method.function.name.value != "__del__":
        return None
    return method


def _declared_outside(function: cst.FunctionDef) -> FrozenSet[str]:
    """Names the function declares `global` or `nonlocal`."""
    names = set()
    for node in descendants(function.body, stop=is_scope):
        if isinstance(node, (cst.Global, cst.Nonlocal)):
            names.update(n.name.value for n in node.names)
    return frozenset(names)


# Methods that put their argument into the container they are called on.
_STORES = frozenset("append add insert appendleft extend extendleft put put_nowait setdefault push".split())
# Calls that hand a callable or coroutine to something that runs it later.
_SCHEDULERS = frozenset(
    """asyncio.ensure_future asyncio.create_task asyncio.run_coroutine_threadsafe
    threading.Thread threading.Timer _thread.start_new_thread atexit.register
    signal.signal""".split()
)
_SCHEDULING_METHODS = frozenset(
    """create_task ensure_future call_soon call_soon_threadsafe call_later call_at
    run_in_executor submit add_done_callback start_new_thread""".split()
)


class ResurrectingDel(Rule):
    """`__del__` stores `self` where it outlives the call, resurrecting the object.

    What it flags:
    Inside a `__del__` method, `self` (or a bound method of self, a lambda or
    nested function that uses self, a tuple holding self) stored in a
    `global` or `nonlocal` name, appended or assigned into a module-level or
    class-level container (`_LIVE.append(self)`, `Cls.pool.append(self)`,
    `_REGISTRY[key] = self`), assigned to an attribute of another object
    (`self.parent.child = self`), or handed to something that runs it later:
    `loop.create_task(self.close())`, `loop.call_soon(self.flush)`,
    `threading.Thread(target=self.drain)`, `executor.submit(...)`,
    `atexit.register(...)`.

    Why it matters:
    The object was about to be freed; after `__del__` it is reachable again,
    half torn down, and its finalizer will not run a second time (PEP 442),
    so whatever the finalizer was meant to release when the object really
    dies is never released. Pooling objects from `__del__` is a classic
    source of leaks and of use-after-close bugs.

    Known limits:
    Only the `__del__` body itself is read, not the functions it calls. A
    container reached through a local variable (`pool = self._pool;
    pool.append(self)`) is not followed. `self.items.append(self)` (the
    object's own container) is not flagged unless `items` is a class-level
    attribute shared by all instances.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    No finding: precision not measured there; the rule is exact on its
    examples and fixtures.
    """

    code = "GCL101"
    EVIDENCE = "resurrection"
    name = "del-resurrects-self"
    USE_INSTEAD = """
        _SOCKETS = []

        class Conn:
            def __init__(self, sock):
                self.sock = sock

            def __del__(self):
                # Keep what is worth reusing, never the dying object itself.
                _SOCKETS.append(self.sock)
    """
    REFERENCES = (
        ('object.__del__() in the data model', 'https://docs.python.org/3/reference/datamodel.html#object.__del__'),
        ('PEP 442: Safe object finalization', 'https://peps.python.org/pep-0442/'),
    )
    severity = Severity.ERROR
    message = "__del__ stores {what} where it outlives the call: the object is resurrected half torn down, and its finalizer will not run again"
    TRIGGERS = _TRIGGERS
    VALID = [
        "import logging\n\nclass Conn:\n    def __del__(self):\n        logging.debug('closing %r', self)\n        self.sock = None\n        super().__del__()\n",
        "class Node:\n    def __del__(self):\n        self.children.append(self)\n",
        "_LIVE = []\n\nclass Conn:\n    def __del__(self):\n        _LIVE.append(self.stats)\n",
        "class Conn:\n    def __del__(self):\n        pool = []\n        pool.append(self)\n",
        "import asyncio\n\nclass Conn:\n    def __del__(self):\n        asyncio.get_event_loop().call_soon(self._sock.close)\n",
        "class Stream:\n    async def drain(self):\n        pass\n\n    def __del__(self, schedule=print):\n        schedule(self.drain)\n",
    ]
    INVALID = [
        Invalid("_LIVE = []\n\nclass Conn:\n    def __del__(self):\n        _LIVE.append(self)\n", (5, 9)),
        Invalid("class Conn:\n    pool = []\n\n    def __del__(self):\n        Conn.pool.append(self)\n        type(self).pool.append(self)\n", (5, 9), (6, 9)),
        Invalid("class Conn:\n    def __del__(self):\n        global last\n        last = self\n", (4, 9)),
        Invalid("import asyncio\n\nclass Client:\n    async def close(self):\n        pass\n\n    def __del__(self):\n        loop = asyncio.get_event_loop()\n        loop.create_task(self.close())\n", (9, 9)),
        Invalid("import threading\n\nclass Child:\n    def __del__(self):\n        self.parent.last_child = self\n        threading.Thread(target=lambda: self.flush()).start()\n", (5, 9), (6, 9)),
        Invalid("_REGISTRY = {}\n\nclass Conn:\n    def __del__(self):\n        _REGISTRY[id(self)] = (self, 'closed')\n", (5, 9)),
        Invalid("from asyncio import ensure_future as schedule\n\nclass Stream:\n    async def drain(self):\n        pass\n\n    def __del__(self):\n        schedule(self.drain())\n", (8, 9)),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        method = _in_del(self.ctx.scopes())
        if method is None:
            return
        holder = self.ctx.analysis.keeper_for_method(method)
        if self._schedules(node, holder) or self._stores(node, holder, method):
            self.report(node, self.message.format(what=self._what(node)))

    def visit_Assign(self, node: cst.Assign) -> None:
        method = _in_del(self.ctx.scopes())
        if method is None:
            return
        holder = self.ctx.analysis.keeper_for_method(method)
        if not holder.keeps(node.value):
            return
        if any(self._outlives_target(t.target, method) for t in node.targets):
            self.report(node, self.message.format(what="self"))

    def _what(self, node: cst.Call) -> str:
        return "a callable or coroutine holding self" if self._is_scheduler(node) else "self"

    def _is_scheduler(self, call: cst.Call) -> bool:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _SCHEDULING_METHODS:
            return True
        return self.ctx.qualified_name(func) in _SCHEDULERS

    def _schedules(self, call: cst.Call, holder: Keeper) -> bool:
        if not self._is_scheduler(call):
            return False
        return any(holder.keeps(a.value, callable_position=True, calls=True) for a in call.args)

    def _stores(self, call: cst.Call, holder: Keeper, method: Method) -> bool:
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in _STORES):
            return False
        if not any(holder.keeps(a.value) for a in call.args):
            return False
        return _outlives(func.value, method, self._locals(method), container=True)

    def _locals(self, method: Method) -> _Where:
        return _Where(self.ctx.names.bindings(method.function), self.ctx.analysis.facts(method.cls).class_values)

    def _outlives_target(self, target: cst.BaseExpression, method: Method) -> bool:
        if isinstance(target, cst.Name):
            return target.value in _declared_outside(method.function)
        if isinstance(target, cst.Subscript):
            return _outlives(target.value, method, self._locals(method), container=True)
        if isinstance(target, cst.Attribute):
            return _outlives(target.value, method, self._locals(method), container=False)
        return False


class _Where(NamedTuple):
    local_names: Mapping[str, object]
    class_values: Mapping[str, object]


def _outlives(receiver: cst.BaseExpression, method: Method, where: _Where, container: bool) -> bool:
    """Whether an object reached by `receiver` inside `__del__` lives on
    after it: a module or class attribute, or another object reached
    through self. With `container`, `self.items` is self's own container
    unless `items` is a class-level attribute shared by every instance."""
    while isinstance(receiver, cst.Subscript):
        receiver = receiver.value
    if _is_own_class(receiver, method.self):
        return True
    name = dotted(receiver)
    if name is None:
        return isinstance(receiver, cst.Attribute) and _is_own_class(receiver.value, method.self)
    root, *chain = name.split(".")
    if root != method.self:
        return root not in where.local_names or root in _declared_outside(method.function)
    if not chain:
        return False
    if not container or len(chain) > 1:
        return True
    return chain[0] in where.class_values


def _is_own_class(expr: cst.BaseExpression, self_param: str) -> bool:
    """`type(self)` or `self.__class__`."""
    if isinstance(expr, cst.Call) and dotted(expr.func) == "type" and len(expr.args) == 1:
        return dotted(expr.args[0].value) == self_param
    return dotted(expr) == f"{self_param}.__class__"


class BlockingDel(Rule):
    """`__del__` (or a `weakref.finalize` callback) takes a lock, joins, sleeps, waits or does blocking I/O.

    What it flags:
    Inside a `__del__` method: `with <lock>:` where the lock is named like one
    (`_lock`, `mutex`, `_cond`) or is assigned from `threading.Lock()`,
    `RLock()`, `Condition()` or a semaphore; `.acquire()` (unless
    `blocking=False`); a thread or process `.join()`; `time.sleep()`;
    `.wait()` on an event, condition or process; `.result()` on a future;
    blocking network or process calls (`socket.create_connection`,
    `urllib.request.urlopen`, `requests.get`, `subprocess.run`,
    `sock.recv`, `sock.sendall`, `proc.communicate`); and a call of a method
    of the class that does one of these (`self.release()` taking the lock),
    however deep within the class. Also the callback of
    `weakref.finalize(obj, callback, ...)` when it is one of these bound
    methods (`self._thread.join`), a method of the class that blocks, or a
    function of the same module that does.

    Why it matters:
    A finalizer runs wherever the last reference is dropped or a collection
    is triggered: in any thread, in the middle of any allocation, possibly
    while that same thread holds the lock. Taking a non-reentrant lock
    there deadlocks; joining, waiting and network I/O stall an unrelated
    part of the program for as long as they take. Move the work to an
    explicit `close()` (with a context manager), or hand it to a queue that
    a worker drains.

    Known limits:
    Locks are recognised by name or by a constructor assignment in the same
    class or module, not by type. Methods are followed within the class and
    its bases (in other project modules too, by their summaries) and
    functions within the module; what gclint cannot resolve is taken not to
    block. A `.join()` is
    taken for a thread join only with no argument, a `timeout=` or a number
    (`str.join` takes one iterable). A join of a thread that keeps the
    instance alive is not reported: `self.join()` in a `Thread` or
    `Process` subclass, or `self._thread.join()` where `_thread` was built
    with self or a bound method of it among the arguments (the running
    thread is referenced until it ends, so the finalizer runs only after
    it); that the object built from self stores it is assumed.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    3 findings (0 in tests; 6 in the earlier 2026-12 run); 3 read in
    context: 3 right, 1 worth acting on, 0 wrong.
    Below the default bar (90% right and 60% worth acting on): off by
    default.
    """

    code = "GCL102"
    name = "del-blocks"
    USE_INSTEAD = """
        import threading

        class Pool:
            def __init__(self):
                self._lock = threading.Lock()
                self._items = []

            # Cleanup that needs the lock runs at a point the owner chooses,
            # on the owner's thread, never inside a garbage collection.
            def close(self):
                with self._lock:
                    self._items.clear()

            def __enter__(self):
                return self

            def __exit__(self, *exc_info):
                self.close()
    """
    REFERENCES = (
        ('object.__del__() in the data model', 'https://docs.python.org/3/reference/datamodel.html#object.__del__'),
        ('queue.SimpleQueue (reentrant, safe in __del__ and weakref callbacks)', 'https://docs.python.org/3/library/queue.html#queue.SimpleQueue'),
    )
    severity = Severity.WARNING
    message = "__del__ {what}: finalizers run in whatever thread triggers them, in the middle of any allocation, and can deadlock or stall it"
    finalize_message = "the weakref.finalize callback {what}: finalizers run in whatever thread triggers them, in the middle of any allocation, and can deadlock or stall it"
    TRIGGERS = ("__del__", "finalize")
    VALID = [
        "class Conn:\n    def __del__(self):\n        if self._sock is not None:\n            self._sock.close()\n",
        "import threading\n\nclass Pool:\n    def __del__(self):\n        if self._lock.acquire(blocking=False):\n            self._lock.release()\n        print(', '.join(self.names))\n",
        "import threading\n\nclass Pool:\n    def close(self):\n        with self._lock:\n            self._worker.join()\n",
        "import time\n\nclass Timer:\n    def __del__(self):\n        self.elapsed = time.monotonic() - self.start\n",
        "import weakref\n\nclass Log:\n    def __init__(self, fh):\n        weakref.finalize(self, fh.close)\n",
        "class Conn:\n    def release(self):\n        self._sock.close()\n\n    def __del__(self):\n        self.release()\n",
        # A running thread keeps itself (and what it holds) alive: the finalizer runs only after it ended.
        "import threading\n\nclass Saver(threading.Thread):\n    def stop(self):\n        self.join()\n\n    def __del__(self):\n        self.stop()\n",
        "import threading\n\nclass Proxy:\n    def __init__(self):\n        self.thread = threading.Thread(target=self.pump)\n        self.thread.start()\n\n    def pump(self):\n        pass\n\n    def close(self):\n        self.thread.join(1000)\n\n    def __del__(self):\n        self.close()\n",
    ]
    INVALID = [
        Invalid("import threading\n\nclass Pool:\n    def __del__(self):\n        with self._lock:\n            self._items.clear()\n", (5, 14)),
        Invalid("class Worker:\n    def __del__(self):\n        self._stop.set()\n        self._thread.join()\n", (4, 9)),
        # The joined thread does not hold the instance.
        Invalid("import threading\n\nclass Pool:\n    def __init__(self, work):\n        self._thread = threading.Thread(target=work)\n\n    def close(self):\n        self._thread.join()\n\n    def __del__(self):\n        self.close()\n", (11, 9)),
        Invalid("from time import sleep\n\nclass Poller:\n    def __del__(self):\n        sleep(0.1)\n", (5, 9)),
        Invalid("import threading\n\nclass Cache:\n    def __init__(self):\n        self.guard = threading.Lock()\n\n    def __del__(self):\n        self.guard.acquire()\n        self.done.wait()\n", (8, 9), (9, 9)),
        # A method of the class that takes the lock.
        Invalid("class Pool:\n    def release(self):\n        with self._lock:\n            self._items.clear()\n\n    def __del__(self):\n        self.release()\n", (7, 9)),
        # Blocking calls in a weakref.finalize callback.
        Invalid("import weakref\n\nclass Worker:\n    def __init__(self, thread):\n        self._thread = thread\n        weakref.finalize(self, thread.join)\n", (6, 9)),
        Invalid("import time, weakref\n\ndef _drain(queue):\n    time.sleep(1)\n\nclass Worker:\n    def __init__(self, queue):\n        weakref.finalize(self, _drain, queue)\n", (8, 9)),
    ]

    def visit_With(self, node: cst.With) -> None:
        method = _in_del(self.ctx.scopes())
        if method is None:
            return
        for item in node.items:
            if is_lock(item.item, lambda name: self._assigned_lock(name, method)):
                self.report(item.item, self.message.format(what="takes a lock"))

    def visit_Call(self, node: cst.Call) -> None:
        if "finalize" in (dotted(node.func) or "") and self.ctx.qualified_name(node.func) == "weakref.finalize":
            self._check_finalize(node)
            return
        method = _in_del(self.ctx.scopes())
        if method is None:
            return
        what = blocking_call(node, self.ctx.qualified_name)
        if what and self._joins_own_thread(node, method):
            return
        what = what or self._blocking_method_of_class(node.func, method)
        if what:
            self.report(node, self.message.format(what=what))

    def _joins_own_thread(self, call: cst.Call, method: Method) -> bool:
        """`self._thread.join()` where that thread keeps self alive (see
        `joins_thread_holding`)."""
        analysis = self.ctx.analysis
        facts = analysis.facts(method.cls)
        in_file = (analysis.summary.cls(b) for b in facts.bases)
        bases = (*facts.bases, *(b for base in in_file if base is not None for b in base.bases))
        stores = [s for f in functions_in(method.cls) for n in analysis.index.nodes(f) for s in attribute_stores(n)]
        holders = self_holding_attributes(stores, method.self)
        return joins_thread_holding(call, method.self, is_thread_class(bases), holders)

    def _blocking_method_of_class(self, func: cst.BaseExpression, method: Optional[Method]) -> Optional[str]:
        """`self.release()` where the class's `release` blocks."""
        if method is None or not isinstance(func, cst.Attribute) or dotted(func.value) != method.self:
            return None
        summary = self.ctx.analysis.summary.cls(method.cls.name.value)
        what = summary.blocks(func.attr.value) if summary is not None else None
        return f"calls self.{func.attr.value}(), which {what}" if what else None

    def _check_finalize(self, call: cst.Call) -> None:
        callback = argument(call, 1, "func")
        what = self._blocking_callable(callback) if callback is not None else None
        if what:
            self.report(call, self.finalize_message.format(what=what))

    def _blocking_callable(self, callback: cst.BaseExpression) -> Optional[str]:
        """What an uncalled callable does that blocks: `thread.join`,
        `self.release` (a blocking method), `_drain` (a blocking function here)."""
        if isinstance(callback, cst.Attribute):
            what = blocking_method(None, callback.attr.value, callback.value)
            return what or self._blocking_method_of_class(callback, self.ctx.enclosing_method())
        if isinstance(callback, cst.Name) and self.ctx.qualified_name(callback) in (None, callback.value):
            summary = self.ctx.analysis.summary.function(callback.value)
            return f"calls {callback.value}(), which {summary.blocking}" if summary and summary.blocking else None
        return None

    def _assigned_lock(self, name: str, method: Method) -> bool:
        """`self.guard` assigned from threading.Lock() in the class, or a
        module-level name assigned from one."""
        owner, _, attr = name.rpartition(".")
        own_attribute = owner == method.self
        where = method.cls if own_attribute else self.ctx.module
        module = (self.ctx.module,)
        # Other classes' attributes and locals are not this lock.
        for node in descendants(where, stop=lambda n: isinstance(n, cst.ClassDef) and n is not method.cls):
            if not (isinstance(node, cst.Assign) and isinstance(node.value, cst.Call)):
                continue
            if self.ctx.analysis.resolve(node.value.func, module) in LOCK_TYPES and any(
                _assigns(t.target, name, attr if own_attribute else None) for t in node.targets
            ):
                return True
        return False


def _assigns(target: cst.BaseExpression, name: str, attr: Optional[str]) -> bool:
    """Whether `target` is `name`, or any `<x>.attr` when attr is given."""
    if attr is not None:
        return isinstance(target, cst.Attribute) and target.attr.value == attr
    return dotted(target) == name


class DelCalledExplicitly(Rule):
    """`obj.__del__()` called by hand outside a finalizer.

    What it flags:
    A call of a `__del__` attribute (`conn.__del__()`, `self.__del__()`,
    `Base.__del__(self)`) anywhere except inside a `__del__` method, where
    chaining to the base class finalizer (`super().__del__()`) is right.

    Why it matters:
    Calling the finalizer frees nothing: the object stays alive as long as
    references to it exist, and when the last one goes the interpreter runs
    `__del__` again, so the clean-up runs twice (double close, double
    release). Give the class an idempotent `close()` and call that, from
    `__del__` too if needed; or use `weakref.finalize`, whose callback runs
    at most once and can be called early.

    Known limits:
    Test files are skipped: a test of a finalizer may call it directly on
    purpose. Calls through `getattr(obj, "__del__")` are not seen.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    No finding: precision not measured there; the rule is exact on its
    examples and fixtures.
    On by default without that evidence: an explicit `__del__()` call is
    a bug wherever it is.
    """

    code = "GCL103"
    DEFAULT = True
    name = "del-called-explicitly"
    USE_INSTEAD = """
        class Conn:
            def close(self):
                self._release()

            def __del__(self):
                self._release()

            def _release(self):
                self.sock = None
    """
    REFERENCES = (
        ('object.__del__() in the data model', 'https://docs.python.org/3/reference/datamodel.html#object.__del__'),
    )
    severity = Severity.WARNING
    message = "explicit __del__() call frees nothing and the finalizer runs again when the object dies; call an idempotent close() instead"
    TRIGGERS = _TRIGGERS
    VALID = [
        "class Child(Base):\n    def __del__(self):\n        super().__del__()\n",
        "class Child(Base):\n    def __del__(self):\n        Base.__del__(self)\n",
        "class Conn:\n    def close(self):\n        self._sock.close()\n\n    def __del__(self):\n        self.close()\n",
    ]
    INVALID = [
        Invalid("class Conn:\n    def close(self):\n        self.__del__()\n", (3, 9)),
        Invalid("def shutdown(conns):\n    for conn in conns:\n        conn.__del__()\n", (3, 9)),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "__del__"):
            return
        if self.ctx.options.is_test_file:
            return
        function = self.ctx.enclosing_function()
        if function is not None and function.name.value == "__del__":
            return
        self.report(node)


class DelOnCyclicClass(Rule):
    """A class with `__del__` whose own methods make its instances refer to themselves.

    What it flags:
    The `__del__` of a class whose methods build a reference cycle through
    the instance: `self.me = self`, `self.items.append(self)`,
    `self.child.parent = self`, or a bound method or self-using closure kept
    on self (`self.on_close = self.close`); the same shapes GCL203, GCL204
    and GCL205 report, found anywhere in the class.

    Why it matters:
    An instance in a cycle is not freed when its last outside reference
    goes: its finalizer waits for the cycle collector, which may run much
    later, and never while collection is disabled. Inside a cycle the order
    in which finalizers run is undefined, so `__del__` may see attributes
    whose objects were already finalized. Resources the finalizer was meant
    to release stay held until then.

    Known limits:
    Only cycles the class's own methods build through `self` are seen (the
    class's reference model: the edges GCL203, GCL204 and GCL205 report),
    not ones made by callers, nor a back link set on an object that only a
    parameter names. A link the class undoes itself (in `close()`, a
    `finally`, or the callback it points to) is trusted to be undone;
    dynamic mode shows whether it is. Break the cycle (`weakref.WeakMethod`, `weakref.ref` for back
    links) or replace `__del__` with `weakref.finalize` or a context manager.

    Enum members and singletons the module builds at import (`app = App()`
    at module level, no other `App(` in the file) are not reported: they
    live as long as the module anyway. Only the first cycle edge is named,
    and the cycle rules do not report that edge again.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    4 findings (0 in tests; 4 in the earlier 2026-12 run); 4 read in
    context: 4 right, 1 worth acting on, 0 wrong.
    Below the default bar (90% right and 60% worth acting on): off by
    default.
    """

    code = "GCL104"
    name = "del-on-cyclic-class"
    USE_INSTEAD = """
        class Conn:
            # A method is looked up on each call and stored nowhere, so the
            # instance never refers to itself (weakref.WeakMethod works too).
            def on_close(self):
                self.close()

            def close(self):
                pass

            def __del__(self):
                self.close()
    """
    REFERENCES = (
        ('PEP 442: Safe object finalization', 'https://peps.python.org/pep-0442/'),
        ('object.__del__() in the data model', 'https://docs.python.org/3/reference/datamodel.html#object.__del__'),
        ('gc.garbage', 'https://docs.python.org/3/library/gc.html#gc.garbage'),
    )
    severity = Severity.WARNING
    message = "this class has __del__ but its instances refer to themselves ({how}): finalization waits for the cycle collector, in undefined order; use weakref.finalize or a context manager"
    EVIDENCE = "cycle"
    TRIGGERS = _TRIGGERS
    VALID = [
        "import weakref\n\nclass Conn:\n    def __init__(self):\n        self.on_close = weakref.WeakMethod(self.close)\n\n    def close(self):\n        pass\n\n    def __del__(self):\n        self.close()\n",
        "class Node:\n    def __init__(self):\n        self.me = self\n",
        "class Conn:\n    def __init__(self, sock):\n        self.sock = sock\n\n    def __del__(self):\n        self.sock.close()\n",
        # A class-level WeakSet registry holds no instance.
        "import weakref\n\nclass Conn:\n    _live = weakref.WeakSet()\n\n    def __init__(self):\n        self._live.add(self)\n\n    def __del__(self):\n        pass\n",
        # A done-callback on a pending future is dropped once it has run.
        "class Job:\n    def start(self, future):\n        self.future = future\n        self.future.add_done_callback(self._done)\n\n    def _done(self, fut):\n        pass\n\n    def __del__(self):\n        pass\n",
        # The cycle is undone in close().
        "class Conn:\n    def __init__(self):\n        self.on_close = self.close\n\n    def close(self):\n        self.on_close = None\n\n    def __del__(self):\n        self.close()\n",
    ]
    INVALID = [
        Invalid("class Conn:\n    def __init__(self):\n        self.on_close = self.close\n\n    def close(self):\n        pass\n\n    def __del__(self):\n        self.close()\n", (8, 9)),
        Invalid("class Node:\n    def __init__(self):\n        self.child = Node()\n        self.child.parent = self\n\n    def __del__(self):\n        print('bye')\n", (6, 9)),
        Invalid("class Registry:\n    def __init__(self):\n        self.items = []\n        self.items.append(self)\n\n    def __del__(self):\n        pass\n", (6, 9)),
    ]

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        finalizer = next((f for f in functions_in(node) if f.name.value == "__del__"), None)
        if finalizer is None or self.ctx.analysis.facts(node).is_enum or self.ctx.analysis.built_at_import(node):
            return
        edge = self.ctx.analysis.model(node).finalizer_edge(node)
        if edge is not None:
            self.report(finalizer.name, self.message.format(how=edge.chain))
