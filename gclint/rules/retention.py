"""GCL5xx: objects kept alive for the life of the process by caches,
finalizers, process-wide hooks and registries.

None of these is a cycle: the object is reachable from a module, a class
or the interpreter itself, so no collection can ever free it.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from gclint.analysis.bindings import argument, code_text, del_targets, strip_subscripts
from gclint.analysis.classes import Method, enclosing_method, receiver_of
from gclint.analysis.keeps import Keeper
from gclint.model import Invalid, Severity
from gclint.names import dotted
from gclint.rule import Rule
from gclint.tree import descendants, is_scope, names_in_target

_CACHES = ("functools.lru_cache", "functools.cache")


class CacheOnMethod(Rule):
    """An unbounded `functools.cache` / `lru_cache(maxsize=None)` on an instance method.

    What it flags:
    An instance method (or property) decorated with `functools.cache` or
    `functools.lru_cache(maxsize=None)`, however the decorator was imported
    (`from functools import lru_cache as memo`). A bounded cache (`lru_cache`
    with its default 128 entries or an explicit `maxsize=N`) is not flagged:
    it keeps at most N instances alive, and on real code those were
    long-lived objects (dialects, styles) where that is harmless. Static methods, class
    methods, methods of metaclasses and of `enum.Enum` subclasses (whose
    members live as long as the class anyway) are not flagged. This overlaps with
    flake8-bugbear's B019, which warns about the same decorators on
    methods; where both tools run, a line kept on purpose needs
    `# noqa: B019,GCL501`.

    Why it matters:
    The cache lives on the function, which lives on the class, for the life
    of the process. Every entry's key includes `self`, so each instance the
    method was called on stays alive until its entries are evicted: with
    `maxsize=None` or `functools.cache`, never. Instances then outlive every
    other reference to them, with everything they hold.

    Known limits:
    A class with only a handful of long-lived instances (a singleton) is
    flagged too, although the retention is harmless there. A bounded cache
    on short-lived, heavy objects still keeps up to maxsize of them: B019
    reports every cached method if that matters. Caching on the
    instance (`functools.cached_property`, or a dict attribute) or a
    module-level cached function of the arguments other than `self` avoids
    the leak.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    2 findings (0 in tests; 2 in the earlier 2026-12 run); 2 read in
    context: 2 right, 0 worth acting on, 0 wrong.
    Below the default bar (90% right and 60% worth acting on): off by
    default.
    """

    code = "GCL501"
    EVIDENCE = "retained-object"
    name = "cache-on-method"
    USE_INSTEAD = """
        import functools

        @functools.lru_cache(maxsize=256)
        def _parse(text):
            return text.split()

        class Parser:
            def parse(self, text):
                return _parse(text)  # the cache keys on the text, never on self
    """
    REFERENCES = (
        ('Python FAQ: How do I cache method calls?', 'https://docs.python.org/3/faq/programming.html#how-do-i-cache-method-calls'),
        ('functools.lru_cache', 'https://docs.python.org/3/library/functools.html#functools.lru_cache'),
        ('ruff B019 cached-instance-method', 'https://docs.astral.sh/ruff/rules/cached-instance-method/'),
    )
    severity = Severity.WARNING
    message = "{decorator} on a method keeps every instance it was called on alive for the life of the process (the cache key holds self, and nothing evicts it); bound it with maxsize"
    TRIGGERS = ("functools",)
    VALID = [
        "import functools\n\nclass Parser:\n    @staticmethod\n    @functools.lru_cache(maxsize=256)\n    def compile(pattern):\n        return pattern.upper()\n",
        "from functools import cache\n\nclass Units:\n    @classmethod\n    @cache\n    def table(cls):\n        return {}\n",
        "from functools import lru_cache\n\n@lru_cache(maxsize=None)\ndef parse(text):\n    return text.split()\n",
        "import functools\n\nclass Report:\n    @functools.cached_property\n    def total(self):\n        return sum(self.rows)\n",
        "def lru_cache(f):\n    return f\n\nclass A:\n    @lru_cache\n    def m(self):\n        return 1\n",
        "import enum, functools\n\nclass Color(enum.Enum):\n    RED = 1\n\n    @functools.cache\n    def hex(self):\n        return f'#{self.value:06x}'\n",
        # Bounded: at most maxsize instances are kept.
        "import functools\n\nclass Dialect:\n    @functools.lru_cache()\n    def columns(self):\n        return []\n\n    @functools.lru_cache(maxsize=1024)\n    def codes(self, fg=True):\n        return ()\n",
    ]
    INVALID = [
        Invalid("import functools\n\nclass Parser:\n    @functools.lru_cache(maxsize=None)\n    def parse(self, text):\n        return text.split()\n", (4, 6)),
        Invalid("from functools import lru_cache as memo\n\nclass Parser:\n    @memo(None)\n    def parse(self, text):\n        return text.split()\n", (4, 6)),
        Invalid("from functools import cache\n\nclass Parser:\n    @property\n    @cache\n    def words(self):\n        return self.text.split()\n", (5, 6)),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scopes = self.ctx.scopes()
        if not scopes or not isinstance(scopes[0], cst.ClassDef) or receiver_of(node, scopes[0]).instance is None:
            return
        if self.ctx.analysis.facts(scopes[0]).is_enum:
            return
        for decorator in node.decorators:
            expr = decorator.decorator
            call = expr if isinstance(expr, cst.Call) else None
            name = self.ctx.qualified_name(call.func if call else expr)
            if name in _CACHES and _unbounded(name, call):
                self.report(expr, self.message.format(decorator=name))


def _unbounded(name: str, call: Optional[cst.Call]) -> bool:
    maxsize = argument(call, 0, "maxsize") if call is not None else None
    return name == "functools.cache" or dotted(maxsize) == "None"


_WEAKREF_CALLBACK_TYPES = ("weakref.ref", "weakref.WeakMethod", "weakref.proxy")


class FinalizerHoldsObject(Rule):
    """`weakref.finalize` or a weakref callback that keeps its own object alive.

    What it flags:
    `weakref.finalize(obj, func, *args, **kwargs)` where `func` is a bound
    method of `obj` (`self._cleanup` for `obj` = `self`), a lambda or nested
    function that uses `obj`, a `functools.partial` over one of those, or
    where `obj` itself is among the arguments. Likewise a `weakref.ref(obj,
    callback)`, `weakref.WeakMethod(obj.method, callback)` or
    `weakref.proxy(obj, callback)` whose callback holds `obj`.

    Why it matters:
    The finalizer registry (or the weak reference) holds the callback and
    its arguments strongly. If they reach `obj`, `obj` is never
    unreachable: the finalizer never runs before interpreter exit and the
    object, with everything it holds, stays for the life of the process.
    Pass what the clean-up needs instead: `weakref.finalize(self,
    self._fh.close)` is fine, since the bound method belongs to the file,
    not to `self`.

    Known limits:
    Whether a value holds the object is gclint.analysis's one answer
    (the same as GCL205's and GCL503's). An argument `self.attr` is taken
    for data unless the class defines a method of that name; in the
    callback position an attribute the class never assigns, nor declares as
    a field, is taken for an inherited method. Closures are followed only
    when defined in the same function and never rebound there.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    No finding: precision not measured there; the rule is exact on its
    examples and fixtures.
    """

    code = "GCL502"
    name = "finalizer-holds-object"
    USE_INSTEAD = """
        import weakref

        class Log:
            def __init__(self, path):
                self._fh = open(path)
                # The callback holds the file, not self: self can still be freed.
                self._finalizer = weakref.finalize(self, self._fh.close)

            def close(self):
                self._finalizer()
    """
    REFERENCES = (
        ('weakref.finalize ("func should not be a bound method of obj")', 'https://docs.python.org/3/library/weakref.html#weakref.finalize'),
        ('weakref.ref callbacks', 'https://docs.python.org/3/library/weakref.html#weakref.ref'),
    )
    severity = Severity.ERROR
    message = "{api} holds a strong reference to `{obj}` through its {part}: the object can never be collected, so the callback never runs before exit"
    TRIGGERS = ("weakref",)
    VALID = [
        "import weakref\n\nclass Log:\n    def __init__(self, path):\n        self._fh = open(path)\n        weakref.finalize(self, self._fh.close)\n",
        "import os, weakref\n\nclass Temp:\n    def __init__(self, path):\n        self.path = path\n        self._done = weakref.finalize(self, os.remove, self.path)\n",
        "import weakref\n\ndef _close(fh):\n    fh.close()\n\nclass Log:\n    def __init__(self, fh):\n        weakref.finalize(self, _close, fh)\n",
        "import weakref\n\nclass Node:\n    def watch(self, other):\n        self._ref = weakref.ref(other, self._gone)\n",
        "class weakref:\n    pass\n\nclass Log:\n    def __init__(self):\n        weakref.finalize(self, self.close)\n",
        "import weakref\n\nclass Log:\n    def __init__(self, weakref):\n        weakref.finalize(self, self.close)\n",
        "import weakref\n\nclass TempDir:\n    def __init__(self, name):\n        self._finalizer = weakref.finalize(self, self._cleanup, name)\n\n    @classmethod\n    def _cleanup(cls, name):\n        pass\n",
        "import weakref\n\nclass Pool:\n    def spawn(self):\n        def wake(_, q=self._queue):\n            q.put(None)\n        return weakref.ref(self, wake)\n",
        # The object's name is rebound to the weak reference: the closure reads that.
        "import weakref\n\ndef listen(target, registry):\n    def remove(ref):\n        registry.discard(target)\n    target = weakref.ref(target.owner, remove)\n    return target\n",
        # The closure's name is rebound to something else before it is handed over.
        "import weakref\n\nclass Pool:\n    def spawn(self, make_weak):\n        def wake(_):\n            self.notify()\n        wake = make_weak(wake)\n        return weakref.ref(self, wake)\n",
    ]
    INVALID = [
        Invalid("import weakref\n\nclass Log:\n    def __init__(self, path):\n        self._fh = open(path)\n        weakref.finalize(self, self.close)\n\n    def close(self):\n        self._fh.close()\n", (6, 9)),
        Invalid("from weakref import finalize\n\nclass Log:\n    def __init__(self, fh):\n        finalize(self, lambda: fh.close() or self.log('closed'))\n", (5, 9)),
        Invalid("import weakref\n\ndef _close(log):\n    log.fh.close()\n\nclass Log:\n    def __init__(self):\n        weakref.finalize(self, _close, self)\n", (8, 9)),
        Invalid("import weakref\n\ndef track(conn):\n    def report():\n        print('gone', conn)\n    return weakref.ref(conn, lambda r: report())\n", (6, 12)),
        Invalid("import weakref as wr\n\ndef track(conn):\n    wr.finalize(conn, conn.close)\n", (4, 5)),
        Invalid("import weakref\n\nclass Proc:\n    def start(self, popen):\n        self._proc = popen\n        weakref.finalize(self._proc, self._reap)\n\n    def _reap(self):\n        self._proc.wait()\n", (6, 9)),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        api = self.ctx.qualified_name(node.func)
        if api == "weakref.finalize":
            self._check(node, api, argument(node, 0, "obj"), node.args[1:], "callback or its arguments")
        elif api in _WEAKREF_CALLBACK_TYPES:
            obj = argument(node, 0, "ob")
            if api == "weakref.WeakMethod" and isinstance(obj, cst.Attribute):
                obj = obj.value
            callback = argument(node, 1, "callback")
            args = [cst.Arg(callback)] if callback is not None else []
            self._check(node, api, obj, args, "callback")

    def _check(self, call: cst.Call, api: str, obj, args, part: str) -> None:
        target = dotted(obj) if obj is not None else None
        if target is None or not args:
            return
        if self._rebinds_root(target):
            # `target = weakref.ref(target.class_, remove)`: closures that read
            # `target` read the weak reference, not the object.
            args = [a for a in args if not isinstance(a.value, (cst.Name, cst.Lambda))]
        for holder in self._holders(target):
            if any(holder.keeps(a.value, callable_position=i == 0) for i, a in enumerate(args) if a.star != "**"):
                self.report(call, self.message.format(api=api, obj=holder.target, part=part))
                return

    def _rebinds_root(self, target: str) -> bool:
        """The weak reference is assigned to the name the object was reached by."""
        parent = self.ctx.parent()
        root = target.split(".")[0]
        return isinstance(parent, cst.Assign) and any(root in names_in_target(t.target) for t in parent.targets)

    def _holders(self, target: str) -> List[Keeper]:
        """Who may hold `target`: itself, and for `self.x` also self, since
        whatever holds self holds its attributes."""
        method = enclosing_method(self.ctx.scopes())
        analysis = self.ctx.analysis
        if method is not None and target.split(".")[0] == method.self:
            targets = dict.fromkeys((target, method.self))
            return [analysis.keeper_for_method(method, t) for t in targets]
        return [analysis.keeper(target, self.ctx.scopes(), self.ctx.enclosing_function())]


# Process-wide hooks set by a call. A later call with something other than
# self (`sys.settrace(None)`, the saved handler) undoes one; for atexit,
# `atexit.unregister`.
_HOOK_CALLS = frozenset(
    "atexit.register signal.signal sys.settrace sys.setprofile threading.settrace threading.setprofile".split()
)
_HOOK_LAST_NAMES = frozenset(h.rsplit(".", 1)[1] for h in _HOOK_CALLS)
_HOOK_CALL_ATTRS = _HOOK_LAST_NAMES | {"unregister"}
_HOOK_ATTRIBUTES = frozenset(
    "sys.excepthook sys.unraisablehook sys.displayhook sys.breakpointhook threading.excepthook".split()
)
_HOOK_ATTRIBUTE_ATTRS = frozenset(h.rsplit(".", 1)[1] for h in _HOOK_ATTRIBUTES)


def _hook_key(hook: str, call: cst.Call) -> str:
    """Handlers are per signal: `signal.signal(SIGINT)` is not undone by a
    call for SIGTERM."""
    if hook != "signal.signal":
        return hook
    signum = argument(call, 0, "signalnum")
    return f"{hook}({code_text(signum) if signum is not None else ''})"


class ProcessLifetimeRegistration(Rule):
    """A bound method or closure over `self` registered with the interpreter.

    What it flags:
    Inside an instance method: `atexit.register(self.close)` (or a lambda,
    nested function, `functools.partial` or `types.MethodType` over self, a
    wrapper of the same module around one, or self among the arguments), `signal.signal(sig, self.handler)`, `sys.settrace` /
    `sys.setprofile` / `threading.settrace` / `threading.setprofile` with
    such a callable, and assigning one to `sys.excepthook`,
    `threading.excepthook`, `sys.unraisablehook`, `sys.displayhook` or
    `sys.breakpointhook` -- unless the module also undoes it: an
    `atexit.unregister(...)` anywhere, or for the other hooks a second
    `signal.signal` / `settrace` / assignment in another function (the
    `close` or `__exit__` that restores the previous handler).

    Why it matters:
    The interpreter holds these callables until the process ends, and a
    bound method holds its instance: the object, and everything it
    references, can never be collected, and for `atexit` each new instance
    adds another entry. Unregister in `close()` / `__exit__`, or register a
    module-level function that reaches the object through a weak reference.

    Known limits:
    A dataclass or attrs field (`handler: Callable`) holds another object's
    callable, not a bound method of self, and is not flagged.
    Registrations of objects other than `self` (a module-level singleton's
    method) are not flagged, since such objects usually live as long anyway.
    An undo in another function of the module is taken on trust, without
    checking that it is called.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    3 findings (0 in tests; 3 in the earlier 2026-12 run); 3 read in
    context: 3 right, 0 worth acting on, 0 wrong.
    Below the default bar (90% right and 60% worth acting on): off by
    default.
    """

    code = "GCL503"
    EVIDENCE = "retained-object"
    name = "process-lifetime-registration"
    USE_INSTEAD = """
        import atexit

        class Server:
            def start(self):
                atexit.register(self.stop)

            def stop(self):
                # Registered bound methods compare equal: this releases self.
                atexit.unregister(self.stop)
    """
    REFERENCES = (
        ('atexit.unregister()', 'https://docs.python.org/3/library/atexit.html#atexit.unregister'),
        ('weakref.WeakMethod', 'https://docs.python.org/3/library/weakref.html#weakref.WeakMethod'),
    )
    severity = Severity.WARNING
    message = "{hook} keeps `{obj}` alive until the process ends: the interpreter holds the callable, and it holds the instance"
    TRIGGERS = ("atexit", "signal", "sys", "threading")
    VALID = [
        "import atexit\n\nclass Server:\n    def start(self):\n        atexit.register(self.stop)\n\n    def stop(self):\n        atexit.unregister(self.stop)\n",
        "import signal\n\nclass Quit:\n    def __enter__(self):\n        self._old = signal.signal(signal.SIGINT, self._handler)\n\n    def __exit__(self, *exc):\n        signal.signal(signal.SIGINT, self._old)\n",
        "import atexit\n\ndef _flush_all():\n    pass\n\nclass Log:\n    def __init__(self):\n        atexit.register(_flush_all)\n",
        "import sys\n\nclass Tracer:\n    def start(self):\n        sys.settrace(self.trace)\n\n    def stop(self):\n        sys.settrace(None)\n",
        "class atexit:\n    def register(f):\n        pass\n\nclass Log:\n    def __init__(self):\n        atexit.register(self.flush)\n",
        "import sys\n\nclass Shell:\n    def run(self, code):\n        saved = sys.displayhook\n        sys.displayhook = self.show\n        try:\n            exec(code)\n        finally:\n            sys.displayhook = saved\n",
        "import signal, unittest\n\nclass T(unittest.TestCase):\n    def setUp(self):\n        old = signal.signal(signal.SIGHUP, self.on_hup)\n        self.addCleanup(signal.signal, signal.SIGHUP, old)\n",
        # A dataclass field holding another object's handler, not a bound method.
        "import atexit, dataclasses\n\n@dataclasses.dataclass\nclass Hook:\n    handler: object\n\n    def install(self):\n        atexit.register(self.handler)\n",
    ]
    INVALID = [
        Invalid("import atexit\n\nclass Server:\n    def start(self):\n        atexit.register(self.stop)\n", (5, 9)),
        Invalid("from atexit import register\nimport functools\n\nclass Pool:\n    def __init__(self):\n        register(functools.partial(_close, self))\n", (6, 9)),
        Invalid("import signal\n\nclass Daemon:\n    def run(self):\n        signal.signal(signal.SIGTERM, lambda *a: self.stop())\n", (5, 9)),
        Invalid("import sys\n\nclass App:\n    def install(self):\n        sys.excepthook = self.on_error\n", (5, 9)),
        Invalid("import signal\n\nclass Daemon:\n    def run(self):\n        signal.signal(signal.SIGTERM, self.stop)\n        signal.signal(signal.SIGUSR1, signal.SIG_IGN)\n", (5, 9)),
        # types.MethodType keeps self, as for GCL205.
        Invalid("import atexit, types\n\nclass Log:\n    def start(self, flush):\n        atexit.register(types.MethodType(flush, self))\n", (5, 9)),
    ]

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._found: List[Tuple[cst.CSTNode, str, str]] = []
        # Hooks set or cleared somewhere with something that is not self.
        self._undone: Set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        # Resolving every method call is the cost; a bare name may be an alias.
        if isinstance(func, cst.Attribute) and func.attr.value not in _HOOK_CALL_ATTRS:
            return
        hook = self.ctx.qualified_name(func)
        if hook == "atexit.unregister":
            self._undone.add("atexit.register")
        elif hook in _HOOK_CALLS:
            self._register(node, _hook_key(hook, node), node.args)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            target = target.target
            if not (isinstance(target, cst.Attribute) and target.attr.value in _HOOK_ATTRIBUTE_ATTRS):
                continue
            hook = self.ctx.qualified_name(target)
            if hook in _HOOK_ATTRIBUTES:
                self._register(node, hook, [cst.Arg(node.value)])

    def visit_Arg(self, node: cst.Arg) -> None:
        # Handed over for later (`self.addCleanup(signal.signal, sig, old)`).
        value = node.value
        last = value.attr.value if isinstance(value, cst.Attribute) else getattr(value, "value", None)
        if not isinstance(last, str) or last not in _HOOK_LAST_NAMES:
            return
        hook = self.ctx.qualified_name(value)
        if hook in _HOOK_CALLS:
            self._undone.add(hook)

    def leave_Module(self, node: cst.Module) -> None:
        for found, key, obj in self._found:
            if key not in self._undone and key.split("(")[0] not in self._undone:
                self.report(found, self.message.format(hook=key.split("(")[0], obj=obj))

    def _register(self, node: cst.CSTNode, key: str, args) -> None:
        if self._holds_self(args, key):
            self._found.append((node, key, self._method_self()))
        else:
            self._undone.add(key)

    def _method_self(self) -> str:
        method = enclosing_method(self.ctx.scopes())
        return method.self if method else "self"

    def _holds_self(self, args, hook: str) -> bool:
        method = enclosing_method(self.ctx.scopes())
        if method is None:
            return False
        holder = self.ctx.analysis.keeper_for_method(method)
        # signal.signal's first argument is the signal number.
        args = list(args)[1:] if hook.startswith("signal.signal") else list(args)
        return any(holder.keeps(a.value, callable_position=i == 0) for i, a in enumerate(args))


# Builtins come back bare from the resolver; collections types qualified.
_STRONG_CONTAINERS = frozenset(
    "list set dict collections.deque collections.defaultdict collections.OrderedDict collections.Counter".split()
)
_ADDS = frozenset("append add insert appendleft setdefault".split())
_REMOVES = frozenset("remove discard pop popitem popleft clear difference_update __delitem__".split())


def _strong_container(value: Optional[cst.BaseExpression], resolve) -> bool:
    if isinstance(value, (cst.List, cst.Set, cst.Dict)):
        return True
    return isinstance(value, cst.Call) and resolve(value.func) in _STRONG_CONTAINERS


def _module_values(module: cst.Module) -> Dict[str, cst.BaseExpression]:
    """Values assigned to names by the module's own top-level statements."""
    values: Dict[str, cst.BaseExpression] = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else []
            if isinstance(small, cst.AnnAssign) and small.value is not None:
                targets = [small.target]
            for target in targets:
                if isinstance(target, cst.Name):
                    values[target.value] = small.value
    return values


def _last_name(expr: cst.BaseExpression) -> Optional[str]:
    expr = strip_subscripts(expr)
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None


class StrongInstanceRegistry(Rule):
    """A module- or class-level list, set or dict that every instance adds itself to.

    What it flags:
    Inside an instance method, `self` added to a strong container defined
    at module level (`_REGISTRY[key] = self`, `INSTANCES.add(self)`) or in
    the class body (`Cls.instances.append(self)`, `self.instances.append(self)`
    when `instances = []` is a class attribute, `type(self).pool.add(self)`),
    also as a dict key or inside a tuple, when nothing in the module ever
    takes entries out of that container: no `.remove`, `.discard`, `.pop`,
    `.clear`, `del X[...]`, and no reassignment of it in a function.

    Why it matters:
    The container lives as long as the module or class, that is, for the
    life of the process, so every instance ever created stays reachable
    with everything it references. Use `weakref.WeakSet`,
    `weakref.WeakValueDictionary` or `weakref.WeakKeyDictionary`, which drop
    an entry when its object dies, or remove the instance in `close()`.

    Known limits:
    Adding self from `__del__` is resurrection, reported by GCL101 instead.
    A removal is matched by the container's name anywhere in the module,
    without checking that it runs or that it removes this instance. A
    container imported from another module, or reached through a local
    variable, is not followed.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    4 findings (3 in tests; 4 in the earlier 2026-12 run); 4 read in
    context: 4 right, 0 worth acting on, 0 wrong.
    Below the default bar (90% right and 60% worth acting on): off by
    default.
    """

    code = "GCL504"
    EVIDENCE = "retained-object"
    name = "strong-instance-registry"
    USE_INSTEAD = """
        import weakref

        class Conn:
            instances = weakref.WeakSet()  # lists live connections, keeps none alive

            def __init__(self):
                Conn.instances.add(self)
    """
    REFERENCES = (
        ('weakref.WeakSet', 'https://docs.python.org/3/library/weakref.html#weakref.WeakSet'),
        ('weakref: weak references', 'https://docs.python.org/3/library/weakref.html'),
    )
    severity = Severity.WARNING
    message = "every instance is added to `{registry}` and nothing removes it: each one stays alive for the life of the process (use weakref.WeakSet / WeakValueDictionary, or remove it in close())"
    VALID = [
        "import weakref\n\n_LIVE = weakref.WeakSet()\n\nclass Conn:\n    def __init__(self):\n        _LIVE.add(self)\n",
        "_LIVE = set()\n\nclass Conn:\n    def __init__(self):\n        _LIVE.add(self)\n\n    def close(self):\n        _LIVE.discard(self)\n",
        "class Node:\n    def __init__(self):\n        self.children = []\n        self.children.append(self)\n",
        "class Conn:\n    def __init__(self, registry):\n        registry.append(self)\n",
        "_BY_NAME = {}\n\nclass Plugin:\n    def __init__(self, name):\n        _BY_NAME[name] = self\n\ndef unload(name):\n    del _BY_NAME[name]\n",
        "_LIVE = []\n\nclass Conn:\n    def __init__(self):\n        _LIVE = []\n        _LIVE.append(self)\n",
        "_LIVE = []\n\nclass Conn:\n    def __del__(self):\n        _LIVE.append(self)\n",
    ]
    INVALID = [
        Invalid("class Conn:\n    instances = []\n\n    def __init__(self):\n        Conn.instances.append(self)\n", (5, 9)),
        Invalid("_REGISTRY = {}\n\nclass Plugin:\n    def __init__(self, name):\n        _REGISTRY[name] = self\n", (5, 9)),
        Invalid("import collections\n\nclass Job:\n    by_owner = collections.defaultdict(list)\n\n    def submit(self, owner):\n        type(self).by_owner[owner].append(self)\n        self.by_owner[owner].append(self)\n", (7, 9), (8, 9)),
        # Fed from __new__ through a local.
        Invalid("class Conn:\n    _all = []\n\n    def __new__(cls, *args):\n        inst = super().__new__(cls)\n        cls._all.append(inst)\n        return inst\n", (6, 9)),
    ]

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._found: List[Tuple[cst.CSTNode, str]] = []
        self._removed: Set[str] = set()
        self._module_values: Optional[Dict[str, cst.BaseExpression]] = None

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _ADDS:
            method = self._instance_method()
            if method is not None and any(_is_self(a.value, method.self) for a in node.args):
                self._candidate(node, func.value, method)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            target = target.target
            self._note_reassigned(target)
            method = self._instance_method() if isinstance(target, cst.Subscript) else None
            if method is None:
                continue
            keys = [e.slice.value for e in target.slice if isinstance(e.slice, cst.Index)]
            if _is_self(node.value, method.self) or any(_is_self(k, method.self) for k in keys):
                self._candidate(node, target.value, method)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in _REMOVES:
            self._removed.add(_last_name(node.value) or "")

    def _instance_method(self) -> Optional[Method]:
        """The method around the current node, with `self` its instance; in
        `__new__`, the local the new instance is bound to (`inst = super().__new__(cls)`)."""
        method = self.ctx.enclosing_method()
        if method is not None:
            return method
        scopes = self.ctx.scopes()
        if len(scopes) < 2 or not isinstance(scopes[0], cst.FunctionDef) or not isinstance(scopes[1], cst.ClassDef):
            return None
        if scopes[0].name.value != "__new__":
            return None
        local = _new_instance_name(scopes[0])
        return Method(scopes[0], scopes[1], local, ()) if local else None

    def visit_Del(self, node: cst.Del) -> None:
        for target in del_targets(node.target):
            self._removed.add(_last_name(target) or "")

    def leave_Module(self, node: cst.Module) -> None:
        for found, registry in self._found:
            if registry.split(".")[-1] not in self._removed:
                self.report(found, self.message.format(registry=registry))

    def _note_reassigned(self, target: cst.BaseExpression) -> None:
        """Rebinding the container in a function empties it (`_LIVE = []`)."""
        if self.ctx.enclosing_function() is not None and isinstance(target, (cst.Name, cst.Attribute)):
            self._removed.add(_last_name(target) or "")

    def _candidate(self, node: cst.CSTNode, receiver: cst.BaseExpression, method: Method) -> None:
        if method.function.name.value == "__del__":
            return  # resurrection: GCL101 reports it
        registry = self._registry(strip_subscripts(receiver), method)
        if registry is not None:
            self._found.append((node, registry))

    def _registry(self, receiver: cst.BaseExpression, method: Method) -> Optional[str]:
        resolver = self.ctx.qualified_name
        if isinstance(receiver, cst.Name):
            return receiver.value if self._module_container(receiver.value) else None
        if not isinstance(receiver, cst.Attribute):
            return None
        owner, attr = receiver.value, receiver.attr.value
        if not self._is_class(owner, method):
            return None
        facts = self.ctx.analysis.facts(method.cls)
        if attr in facts.instance_attrs or not _strong_container(facts.class_values.get(attr), resolver):
            return None
        return f"{method.cls.name.value}.{attr}"

    def _module_container(self, name: str) -> bool:
        # A name any enclosing function binds is that function's own.
        for scope in self.ctx.scopes():
            if not isinstance(scope, cst.ClassDef) and name in self.ctx.names.bindings(scope):
                return False
        if self._module_values is None:
            self._module_values = _module_values(self.ctx.module)
        module = (self.ctx.module,)
        return _strong_container(self._module_values.get(name), lambda e: self.ctx.analysis.resolve(e, module))

    @staticmethod
    def _is_class(owner: cst.BaseExpression, method: Method) -> bool:
        """`self`, `type(self)`, `self.__class__`, the class's own name, or
        the class parameter of `__new__`."""
        name = dotted(owner)
        own = (method.self, f"{method.self}.__class__", method.cls.name.value, receiver_of(method.function, method.cls).name)
        if name is not None and name in own:
            return True
        return isinstance(owner, cst.Call) and dotted(owner.func) == "type" and len(owner.args) == 1 and dotted(owner.args[0].value) == method.self


def _new_instance_name(function: cst.FunctionDef) -> Optional[str]:
    """The local `__new__` binds the new instance to: `inst = super().__new__(cls)`."""
    for node in descendants(function.body, stop=is_scope):
        if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            value = node.value
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "__new__":
                return node.targets[0].target.value
    return None


def _is_self(expr: cst.BaseExpression, self_param: str) -> bool:
    if isinstance(expr, (cst.Tuple, cst.List)):
        return any(_is_self(e.value, self_param) for e in expr.elements)
    return dotted(expr) == self_param


_MEMO_METHODS = frozenset({"get", "setdefault", "pop", "popitem", "clear"})


class UnboundedMemoDict(Rule):
    """A module-level dict used as a memo, with nothing ever evicting from it.

    What it flags:
    A function that reads a module-level dict (`_cache[key]`,
    `_cache.get(key)`) and stores into it (`_cache[key] = value`) with a key
    built from the function's arguments, when nothing in the module ever
    evicts from it: no `.pop`, `.popitem`, `.clear`, `del _cache[...]`, no
    rebinding in a function, and the dict is never passed to a call (such
    as a size check `len(_cache)` or a trimming helper).

    Why it matters:
    Every distinct argument adds an entry that stays for the life of the
    process, with the value and the key's objects. With unbounded or
    attacker-chosen inputs (paths, request parameters, user text) memory
    grows without limit. Use `functools.lru_cache(maxsize=N)` or evict.

    The same for a dict defined in a class body and never set per instance
    (`_cache = {}` at class level, used as `self._cache[key] = value` in a
    method): it lives as long as the class.

    Known limits:
    Reported as information: a memo over a small closed set of arguments
    (enum members, a few configuration keys) is bounded in practice, and
    gclint cannot tell how many distinct keys there are.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12).
    15 findings (0 in tests; 15 in the earlier 2026-12 run); 15 read in
    context: 15 right, 1 worth acting on, 0 wrong.
    Below the default bar (90% right and 60% worth acting on): off by
    default.
    """

    code = "GCL505"
    name = "unbounded-memo-dict"
    USE_INSTEAD = """
        import functools

        @functools.lru_cache(maxsize=128)
        def load(path):
            with open(path) as f:
                return f.read()
    """
    REFERENCES = (
        ('functools.lru_cache', 'https://docs.python.org/3/library/functools.html#functools.lru_cache'),
        ('weakref.WeakValueDictionary', 'https://docs.python.org/3/library/weakref.html#weakref.WeakValueDictionary'),
    )
    severity = Severity.INFO
    message = "`{memo}` memoizes on the function's arguments and nothing ever evicts from it: it grows for the life of the process (use functools.lru_cache(maxsize=...) or evict)"
    VALID = [
        "_cache = {}\n\ndef load(path):\n    if path in _cache:\n        return _cache[path]\n    _cache[path] = data = open(path).read()\n    if len(_cache) > 100:\n        _cache.pop(next(iter(_cache)))\n    return data\n",
        "_handlers = {}\n\ndef register(name, handler):\n    if name in _handlers:\n        raise ValueError(name)\n    _handlers[name] = handler\n",
        "_cache = {}\n\ndef load(path):\n    if path not in _cache:\n        _cache[path] = open(path).read()\n    return _cache[path]\n\ndef reset():\n    _cache.clear()\n",
        "_dirs = {}\n\ndef bind(domain, path=None):\n    if path is not None:\n        _dirs[domain] = path\n    return _dirs.get(domain)\n",
        "_hooks = {}\n\ndef hooks_for(rule_type: type):\n    found = _hooks.get(rule_type)\n    if found is None:\n        found = _hooks[rule_type] = dir(rule_type)\n    return found\n",
        "class Resolver:\n    _cache = {}\n\n    def lookup(self, host):\n        if host not in self._cache:\n            self._cache[host] = self._query(host)\n        return self._cache[host]\n\n    def flush(self):\n        self._cache.clear()\n",
                "def load(path, _cache={}):\n    if path not in _cache:\n        _cache[path] = open(path).read()\n    return _cache[path]\n",
    ]
    INVALID = [
        Invalid("_cache = {}\n\ndef load(path):\n    if path in _cache:\n        return _cache[path]\n    data = open(path).read()\n    _cache[path] = data\n    return data\n", (7, 5)),
        Invalid("_memo: dict = {}\n\ndef fib(n):\n    key = n - 1, n - 2\n    found = _memo.get(key)\n    if found is None:\n        found = _memo[key] = fib(n - 1) + fib(n - 2) if n > 1 else n\n    return found\n", (7, 9)),
        # A class-level memo dict.
        Invalid("class Resolver:\n    _cache = {}\n\n    def lookup(self, host):\n        if host not in self._cache:\n            self._cache[host] = self._query(host)\n        return self._cache[host]\n", (6, 13)),
    ]

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._stores: List[Tuple[cst.Assign, str, cst.FunctionDef]] = []
        self._reads: Set[Tuple[str, int]] = set()
        self._evicted: Set[str] = set()
        self._dicts: Set[str] = set()

    def visit_Module(self, node: cst.Module) -> None:
        for name, value in _module_values(node).items():
            if self._is_dict(value, ()):
                self._dicts.add(name)

    def _is_dict(self, value: Optional[cst.BaseExpression], scopes) -> bool:
        if isinstance(value, cst.Dict):
            return True
        return isinstance(value, cst.Call) and self.ctx.analysis.resolve(value.func, scopes) == "dict"

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            target = target.target
            if isinstance(target, cst.Name) and target.value in self._dicts:
                # Rebound in a function: emptied (a module-level rebinding is the definition).
                if self.ctx.enclosing_function() is not None:
                    self._evicted.add(target.value)
            memo = self._memo_name(target) if isinstance(target, cst.Subscript) else None
            function = self.ctx.enclosing_function() if memo else None
            if function is not None and _stores_new_instance(node.value, function):
                continue  # an instance registry (GCL504), not a memo
            if function is not None and _memoizes(node.value, target.slice, function):
                self._stores.append((node, memo, function))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        memo = self._memo_name(node)
        parent = self.ctx.parent()
        if memo and not isinstance(parent, cst.AssignTarget):
            self._read(memo)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value not in _MEMO_METHODS:
            return
        memo = self._memo_name(node)
        if memo is None:
            return
        if node.attr.value in ("get", "setdefault"):
            self._read(memo)
        elif node.attr.value in ("pop", "popitem", "clear"):
            self._evicted.add(memo)

    def visit_Del(self, node: cst.Del) -> None:
        for target in del_targets(node.target):
            self._evicted.add(_last_name(target) or "")

    def visit_Arg(self, node: cst.Arg) -> None:
        # Handed to anything (len(), a trimming helper): it may be bounded there.
        if isinstance(node.value, (cst.Name, cst.Attribute)):
            self._evicted.add(_last_name(node.value) or "")

    def leave_Module(self, node: cst.Module) -> None:
        for store, memo, function in self._stores:
            evicted = memo in self._evicted or memo.rsplit(".", 1)[-1] in self._evicted
            if not evicted and (memo, id(function)) in self._reads:
                self.report(store, self.message.format(memo=memo))

    def _read(self, memo: str) -> None:
        function = self.ctx.enclosing_function()
        if function is not None:
            self._reads.add((memo, id(function)))

    def _memo_name(self, node: cst.BaseExpression) -> Optional[str]:
        """The module-level dict `node` reads or writes through (`_cache[...]`,
        `_cache.get`), if no enclosing function binds that name itself; or a
        dict defined in the class body and never set per instance, reached
        through self, the class parameter or the class name ("Cls._cache")."""
        owner = getattr(node, "value", None)
        if isinstance(owner, cst.Attribute):
            return self._class_memo(owner)
        if not isinstance(owner, cst.Name) or owner.value not in self._dicts:
            return None
        for scope in self.ctx.scopes():
            if not isinstance(scope, cst.ClassDef) and owner.value in self.ctx.names.bindings(scope):
                return None
        return owner.value

    def _class_memo(self, owner: cst.Attribute) -> Optional[str]:
        scopes = self.ctx.scopes()
        if len(scopes) < 2 or not isinstance(scopes[0], cst.FunctionDef) or not isinstance(scopes[1], cst.ClassDef):
            return None
        function, cls = scopes[0], scopes[1]
        receiver = receiver_of(function, cls).name
        if dotted(owner.value) not in (receiver, cls.name.value):
            return None
        facts = self.ctx.analysis.facts(cls)
        attr = owner.attr.value
        if not facts.shared(attr) or not self._is_dict(facts.class_values.get(attr), (cls,)):
            return None
        return f"{cls.name.value}.{attr}"


def _stores_new_instance(value: cst.BaseExpression, function: cst.FunctionDef) -> bool:
    """`cls.symbols[name] = sym` in `__new__` after `sym = int.__new__(cls, ...)`."""
    return function.name.value == "__new__" and isinstance(value, cst.Name) and value.value == _new_instance_name(function)


def _memoizes(value: cst.BaseExpression, key, function: cst.FunctionDef) -> bool:
    """A computed value stored under a key built from the arguments; a
    parameter stored as it is (`_handlers[name] = handler`) is a
    registration, not a memo."""
    if isinstance(value, cst.Name) and value.value in _parameter_names(function):
        return False
    return _uses_arguments(key, function)


def _parameter_names(function: cst.FunctionDef) -> Set[str]:
    params = function.params
    return {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}


def _uses_arguments(key, function: cst.FunctionDef) -> bool:
    """Whether a subscript key is built from the function's parameters,
    directly or through locals computed from them. Parameters that hold a
    class do not count: there are only as many keys as the program has
    classes."""
    params = (*function.params.posonly_params, *function.params.params, *function.params.kwonly_params)
    derived = {p.name.value for p in params if not _is_class_param(p)}
    for node in descendants(function.body, stop=is_scope):
        if isinstance(node, cst.Assign) and _mentions(node.value, derived):
            for target in node.targets:
                derived.update(names_in_target(target.target))
    return any(_mentions(element, derived) for element in key)


_CLASS_PARAM = re.compile(r"^(cls|klass|kls|typ|tp|mcs)$|_(type|cls|class)$")


def _is_class_param(param: cst.Param) -> bool:
    annotation = param.annotation.annotation if param.annotation is not None else None
    if isinstance(annotation, cst.Subscript):
        annotation = annotation.value
    if dotted(annotation) in ("type", "Type", "typing.Type"):
        return True
    return bool(_CLASS_PARAM.search(param.name.value))


def _mentions(node: cst.CSTNode, names: Set[str]) -> bool:
    return any(isinstance(n, cst.Name) and n.value in names for n in (node, *descendants(node, stop=is_scope)))


