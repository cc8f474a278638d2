"""GCL4xx: calls to the `gc` module that cannot do what they are used for.

Facts checked on CPython 3.9-3.13 (tests/test_gc_facts.py re-runs the
experiment on every installed interpreter): `gc.collect()` with no argument
is a full collection of all generations; `gc.collect(0)` and `gc.collect(1)`
leave a cycle that was promoted to the oldest generation in place.
"""
from __future__ import annotations

import re
from textwrap import dedent
from typing import Iterator, List, Optional

import libcst as cst

from gclint.model import Invalid, Severity
from gclint.rule import Rule
from gclint.analysis.cleanup import deliberate_switch_off, is_restored, restored_in_finally, undoes
from gclint.analysis.bindings import argument, int_value
from gclint.analysis.resolver import Resolver
from gclint.tree import descendants

_TRIGGERS = ("gc",)
_GC_WORD = re.compile(r"\bgc\b")


class _NamesGc:
    """These rules find gc calls through the file's own imports of the gc
    module (`import gc`, `from gc import collect`, `import gc as _gc`), each
    of which has `gc` as a whole word: a file that has it only inside other
    words (`logcat`, `gcd`) cannot give them a finding, so it is not
    parsed for them."""

    @classmethod
    def triggered_by(cls, text: str, options=None) -> bool:
        return "gc" in text and _GC_WORD.search(text) is not None


def _generation(call: cst.Call) -> Optional[int]:
    """The generation a gc.collect call asks for: 2 when none is given,
    None when it is not a literal."""
    arg = argument(call, 0, "generation")
    return 2 if arg is None else int_value(arg)


class YoungGenerationCollect(_NamesGc, Rule):
    """`gc.collect(0)` or `gc.collect(1)` used where a full collection is expected.

    What it flags:
    `gc.collect(0)`, `gc.collect(1)` and `gc.collect(generation=0|1)`, however
    `gc` or `collect` was imported.

    Why it matters:
    A generation-0 or generation-1 collection examines only the young
    generations. A reference cycle that survived earlier collections has been
    promoted to the oldest generation and is not even looked at, so the call
    frees far less than a reader expects. `gc.collect()` with no argument is a
    full collection (all generations) on every CPython version gclint
    supports; the claim that it only collects generation 0 is a myth. On
    CPython 3.14.0-3.14.4, whose collector is incremental, `gc.collect(1)`
    runs one increment of it instead.

    Known limits:
    Only literal generations are checked; `gc.collect(n)` with a computed
    `n` is not flagged. Test files are skipped: tests of the collector call
    young collections on purpose. A deliberate cheap young collection (for example in a
    latency-sensitive loop) is a legitimate use: suppress it with
    `# noqa: GCL401` and a comment saying why.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12) and the
    CPython 3.11 standard library without its tests, every finding read.
    No finding, before or after this version: precision not measured there;
    the rule is exact on its examples and fixtures. On by default all the same: it matches only an explicit
    `gc.collect(0|1)` with a literal generation, a call that frees less than
    its reader expects; a deliberate one takes a `# noqa` with a reason.
    """

    code = "GCL401"
    DEFAULT = True
    EVIDENCE = "gc-call"
    name = "young-generation-collect"
    USE_INSTEAD = """
        import gc

        def release():
            gc.collect()  # no argument: a full collection
    """
    REFERENCES = (
        ('gc.collect()', 'https://docs.python.org/3/library/gc.html#gc.collect'),
        ('gc.get_threshold(): the three generations', 'https://docs.python.org/3/library/gc.html#gc.get_threshold'),
    )
    severity = Severity.WARNING
    message = "gc.collect({gen}) examines only {which}; a cycle already promoted to the oldest generation survives it (gc.collect() with no argument is a full collection)"
    TRIGGERS = _TRIGGERS
    VALID = [
        "import gc\n\ndef release():\n    gc.collect()\n",
        "import gc\ngc.collect(2)\n",
        "def f(gc):\n    gc.collect(0)\n",
        "import gc\n\ndef f(n):\n    gc.collect(n)\n",
    ]
    INVALID = [
        Invalid("import gc\n\ndef release():\n    gc.collect(0)\n", (4, 5)),
        Invalid("import gc as g\ng.collect(generation=1)\n", (2, 1)),
        Invalid("from gc import collect\n\nclass C:\n    def m(self):\n        return collect(1)\n", (5, 16)),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.options.is_test_file or self.ctx.qualified_name(node.func) != "gc.collect":
            return
        gen = _generation(node)
        if gen not in (0, 1):
            return
        which = "generation 0" if gen == 0 else "generations 0 and 1"
        message = self.message.format(gen=gen, which=which)
        if gen == 1 and self.ctx.options.target_version >= (3, 14):
            message += "; on Python 3.14.0-3.14.4 it runs one increment of the incremental collector"
        self.report(node, message)


class CollectInLoop(_NamesGc, Rule):
    """A full `gc.collect()` inside a loop body or a comprehension.

    What it flags:
    A call of `gc.collect()` (or `gc.collect(2)`) that runs once per
    iteration of a `for` or `while` body or of a comprehension in the same
    function.

    Why it matters:
    Every full collection walks every object the collector tracks, so its
    cost grows with the whole heap, not with the garbage. Once per iteration
    turns a loop that is linear in its input into one that is proportional
    to input times heap size. Reference counting already frees everything
    that is not in a cycle; if the loop makes cycles, break them (weak
    references, explicit clearing) instead.

    Known limits:
    Only collections that run on every iteration are flagged: one under an
    `if` inside the loop (`if n % 10000 == 0: gc.collect()`) is not. A loop
    over a literal `range(n)` with n <= 10 is a deliberate settle (to collect
    what the first round's finalizers and weakref callbacks released) and is
    not flagged; a count from a parameter or setting, or a larger literal,
    is. experiments/gc_collect_repeat_cost.py measured on CPython 3.9, 3.11
    and 3.13 that N rounds cost N whole-heap walks (0.3-1 s each on a heap
    of 0.6-1.2 million objects on the measuring machine) and that the
    second round frees what the first one's finalizers released while the
    third and later free nothing; PyPy needs more rounds for finalizers that
    resurrect, so a small literal count is a bounded, constant cost. A loop
    that calls `time.sleep` or `asyncio.sleep` is a periodic task and is
    not flagged. Test files are skipped: stress tests collect in loops on
    purpose.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12) and the
    CPython 3.11 standard library without its tests, every finding read.
    No finding, before or after this version: precision not measured there;
    the rule is exact on its examples and fixtures. On by default all the same: it matches only an explicit
    full collection repeated per iteration, a cost that grows with the
    whole heap times the loop count (small literal counts are exempt).
    """

    code = "GCL402"
    DEFAULT = True
    EVIDENCE = "gc-call"
    name = "collect-in-loop"
    USE_INSTEAD = """
        import gc

        def batch(items):
            for item in items:
                item.process()
            gc.collect()  # once, after the loop, if at all
    """
    REFERENCES = (
        ('gc.collect()', 'https://docs.python.org/3/library/gc.html#gc.collect'),
        ('gc.freeze()', 'https://docs.python.org/3/library/gc.html#gc.freeze'),
    )
    severity = Severity.WARNING
    message = "full gc.collect() on every iteration: each call walks every tracked object, so the loop's cost grows with the whole heap"
    TRIGGERS = _TRIGGERS
    VALID = [
        "import gc\n\ndef batch(items):\n    for item in items:\n        item.process()\n    gc.collect()\n",
        "import gc\n\ndef settle():\n    for _ in range(3):\n        gc.collect()\n",
        "import gc\n\ndef young(items):\n    for item in items:\n        gc.collect(0)  # noqa: GCL401\n",
        "import gc\n\nfor item in range(10):\n    def later():\n        gc.collect()\n",
        "import gc\n\ndef shrink(lst):\n    for n, item in enumerate(lst):\n        if n % 10000 == 0:\n            gc.collect()\n",
        "import gc, time\n\ndef collector(period):\n    while True:\n        time.sleep(period)\n        gc.collect()\n",
    ]
    INVALID = [
        Invalid("import gc\n\ndef batch(items):\n    for item in items:\n        item.process()\n        gc.collect()\n", (6, 9)),
        Invalid("import gc\n\nwhile True:\n    if gc.collect() == 0:\n        break\n", (4, 8)),
        Invalid("import gc\n\ncounts = [gc.collect() for _ in range(100)]\n", (3, 11)),
        Invalid("import gc\n\ndef drain(q):\n    while q:\n        try:\n            q.pop().close()\n        finally:\n            gc.collect()\n", (8, 13)),
        Invalid(dedent("""\
            import gc

            def settle(rounds):
                for _ in range(rounds):
                    gc.collect()
        """), (5, 9)),
        Invalid(dedent("""\
            import gc

            for _ in range(100):
                gc.collect()
        """), (4, 5)),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.options.is_test_file:
            return
        if self.ctx.qualified_name(node.func) != "gc.collect" or _generation(node) != 2:
            return
        loop = self._loop_running_every_iteration()
        if loop is not None and not _small_literal_range(loop) and not self._paced(loop):
            self.report(node)

    def _loop_running_every_iteration(self) -> Optional[cst.CSTNode]:
        """The loop or comprehension whose every iteration runs the current
        node, or None when a condition, a handler or a scope lies between."""
        stack = self.ctx.stack
        for i in range(len(stack) - 2, -1, -1):
            node, child = stack[i], stack[i + 1]
            if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.ExceptHandler)):
                return None
            if isinstance(node, (cst.For, cst.While)):
                return node if child is node.body else None
            if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
                return node if child is node.elt else None
            if isinstance(node, cst.DictComp):
                return node if child in (node.key, node.value) else None
            if _conditional_branch(node, child):
                return None
        return None

    def _paced(self, loop: cst.CSTNode) -> bool:
        """A loop that sleeps each round is a periodic task, not a hot loop."""
        resolver = Resolver(self.ctx)
        return any(True for _ in resolver.calls(loop, _SLEEPS))


_SLEEPS = ("time.sleep", "asyncio.sleep", "trio.sleep")


def _conditional_branch(node: cst.CSTNode, child: cst.CSTNode) -> bool:
    """Whether `child` of `node` runs only on some executions of `node`."""
    if isinstance(node, (cst.If, cst.IfExp)):
        return child is not node.test
    if isinstance(node, cst.BooleanOperation):
        return child is node.right
    return isinstance(node, cst.Try) and child is node.orelse


def _small_literal_range(loop: cst.CSTNode) -> bool:
    if not isinstance(loop, cst.For) or not isinstance(loop.iter, cst.Call):
        return False
    call = loop.iter
    if not (isinstance(call.func, cst.Name) and call.func.value == "range" and len(call.args) == 1):
        return False
    count = int_value(call.args[0].value)
    return count is not None and count <= _SETTLING_ROUNDS


# A literal count is a constant cost, not one that grows with the input:
# experiments/gc_collect_repeat_cost.py measured that each round costs one
# whole-heap walk and that on CPython the third and later rounds free
# nothing, but PyPy needs more rounds for resurrecting finalizers (trio's
# test helper collects five times for that), so up to ten are a settle.
_SETTLING_ROUNDS = 10


class CollectAfterDrop(_NamesGc, Rule):
    """`del x` or `x = None` immediately followed by `gc.collect()`.

    What it flags:
    A statement that drops a reference (`del x`, `del self.cache`,
    `x = None`) directly followed by a `gc.collect()` call, as if the
    collection were needed to free what was dropped.

    Why it matters:
    Reference counting frees an object the moment its last reference goes:
    the `del` itself releases it, unless it is part of a reference cycle or
    still referenced elsewhere. `gc.collect()` cannot free what is still
    reachable, memory held by C extensions (NumPy buffers, mmaps), or memory
    the allocator keeps for reuse, so process memory often does not drop
    either way. The call costs a full heap walk for nothing in the common
    case.

    Known limits:
    gclint does not know whether the dropped object is in a cycle; when it
    is, the collection is what frees it (and GCL2xx rules say how to avoid
    the cycle). Test files are skipped: there the pair is the usual way to
    make collection deterministic across Python implementations.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12) and the
    CPython 3.11 standard library without its tests, every finding read.
    No finding, before or after this version: precision not measured there;
    the rule is exact on its examples and fixtures. Off by default: the `del` before the collection is
    harmless, so a finding is advice, not misuse.
    """

    code = "GCL403"
    EVIDENCE = "gc-call"
    name = "collect-after-drop"
    USE_INSTEAD = """
        def f(big):
            del big  # reference counting frees it here, if this was the last reference
    """
    REFERENCES = (
        ('The del statement', 'https://docs.python.org/3/reference/simple_stmts.html#the-del-statement'),
        ('gc.collect()', 'https://docs.python.org/3/library/gc.html#gc.collect'),
    )
    severity = Severity.INFO
    message = "gc.collect() right after dropping `{name}`: reference counting already freed it unless it is in a reference cycle, and gc.collect() cannot free what is still reachable or memory held by C extensions"
    TRIGGERS = _TRIGGERS
    VALID = [
        "import gc\n\ndef f(big):\n    del big\n    report()\n    gc.collect()\n",
        "import gc\n\ndef f():\n    gc.collect()\n",
        "import gc\n\ndef f(x):\n    x = compute()\n    gc.collect()\n",
    ]
    INVALID = [
        Invalid("import gc\n\ndef f(big):\n    del big\n    gc.collect()\n", (5, 5)),
        Invalid("import gc\n\nclass Cache:\n    def reset(self):\n        self.data = None\n        n = gc.collect()\n", (6, 13)),
        Invalid("import gc\nframe = None; gc.collect()\n", (2, 15)),
    ]

    def visit_Module(self, node: cst.Module) -> None:
        self._check_block(node.body)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._check_block(node.body)

    def _check_block(self, body) -> None:
        if self.ctx.options.is_test_file:
            return
        previous: Optional[cst.BaseSmallStatement] = None
        for small in _small_statements(body):
            dropped = _dropped_name(previous)
            call = _collect_call(small)
            if dropped and call is not None and self._is_gc_collect(call):
                self.report(call, self.message.format(name=dropped))
            previous = small

    def _is_gc_collect(self, call: cst.Call) -> bool:
        # The current node is the block, so the scope chain is already theirs.
        return self.ctx.qualified_name(call.func) == "gc.collect"


def _small_statements(body) -> Iterator[Optional[cst.BaseSmallStatement]]:
    """Small statements in order; None marks a compound statement between them."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
        else:
            yield None


def _dropped_name(small: Optional[cst.CSTNode]) -> Optional[str]:
    if isinstance(small, cst.Del):
        return cst.Module([]).code_for_node(small.target)
    if isinstance(small, cst.Assign) and isinstance(small.value, cst.Name) and small.value.value == "None":
        return cst.Module([]).code_for_node(small.targets[-1].target)
    return None


def _collect_call(small: Optional[cst.CSTNode]) -> Optional[cst.Call]:
    value = small.value if isinstance(small, (cst.Expr, cst.Assign)) else None
    return value if isinstance(value, cst.Call) and argument(value, 0, "generation") is None else None


class DisableNotRestored(_NamesGc, Rule):
    """`gc.disable()` not undone by `gc.enable()` on every path.

    What it flags:
    `gc.disable()` at module level, and `gc.disable()` in a function that
    does not re-enable collection in a `finally` block that covers the
    code after it (a `try` around the disable, or one opening after it with
    no `yield`, `await` or jump between -- so a
    `@contextmanager` that disables before its `yield` and opens its `try`
    after it is flagged), does not re-enable in an `except ...: raise` and
    again after the `try`, does not hand `gc.enable` over as a cleanup
    callback (`addCleanup`, `ExitStack.callback`, `atexit.register`, also
    from `setUp`), and is not paired with a `gc.enable()` in a partner: a
    method of the same class, or of a class of the same file it inherits
    from or that inherits from it, whose name says it undoes (`__exit__`,
    `tearDown`, `close`, `stop`, `restore`), or a function or method whose
    name pairs with its own (`start_x`/`stop_x`, `begin`/`end`,
    `enter`/`exit`, `setUpModule`/`tearDownModule`).
    The `was = gc.isenabled()` ... `finally: if was: gc.enable()` pattern is
    accepted, and so is a `gc.disable()` that puts back an earlier state:
    `if not was: gc.disable()` with `was` saved from `gc.isenabled()`, or a
    `gc.disable()` in a function whose name says it undoes (`tearDown`), or
    one in a function that first turned collection on itself. A
    deliberate process-wide switch-off is not flagged: in a function whose
    name says so (`disable_gc`, `opt_disablegc`), under a test of a gc
    option (`if options.no_gc:`), or announced by the statement next to it
    (`print("Disabled GC")`).

    Why it matters:
    Automatic collection is process-wide. If an exception skips the
    `gc.enable()`, every reference cycle the process creates from then on is
    kept until someone collects by hand, and memory grows without bound.

    Known limits:
    Calls between the disable and its `try` are trusted not to raise (on
    real code they are `gc.collect()` and logging). gclint does not check
    that callers of a paired `start`/`stop` API call both, nor that a `tearDown` of a mixin is really run for the class
    that disables.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12) and the
    CPython 3.11 standard library without its tests, every finding read.
    1 finding, right and worth acting on (tornado's assert_no_cycle_garbage
    disables before its `yield`: a failing test body leaves collection off);
    none in the standard library. Before this version: 6 findings, 2 right
    (benchmark scripts), 4 wrong (the `except: raise` shape in twisted's
    fork, `addCleanup(gc.enable)` in setUp twice, trial's --disablegc
    option). On by default: 1 of 1 right and worth acting on (thin
    evidence), and it matches an explicit `gc.disable()`.
    """

    code = "GCL404"
    DEFAULT = True
    EVIDENCE = "gc-state"
    name = "gc-disable-not-restored"
    USE_INSTEAD = """
        import gc

        def timed(fn):
            was_enabled = gc.isenabled()
            gc.disable()
            try:
                return fn()
            finally:
                if was_enabled:
                    gc.enable()
    """
    REFERENCES = (
        ('gc.disable()', 'https://docs.python.org/3/library/gc.html#gc.disable'),
        ('gc.isenabled()', 'https://docs.python.org/3/library/gc.html#gc.isenabled'),
    )
    severity = Severity.WARNING
    message = "gc.disable() is not undone by gc.enable() in a finally block: an exception leaves automatic collection off for the whole process"
    uncovered_message = "gc.disable() runs before the try whose finally re-enables collection: an exception (or the with-body of a @contextmanager, at its yield) between them leaves collection off for the whole process"
    module_message = "gc.disable() at module level turns automatic collection off for the whole process, for as long as it runs"
    TRIGGERS = _TRIGGERS
    VALID = [
        "import gc\n\ndef timed(fn):\n    was = gc.isenabled()\n    gc.disable()\n    try:\n        return fn()\n    finally:\n        if was:\n            gc.enable()\n",
        "import gc\n\nclass NoGC:\n    def __enter__(self):\n        gc.disable()\n\n    def __exit__(self, *exc):\n        gc.enable()\n",
        "import gc\n\nclass T:\n    def setUp(self):\n        gc.disable()\n        self.addCleanup(gc.enable)\n",
        "import gc\n\nclass Toggling:\n    def setUp(self):\n        gc.enable()\n\n    def tearDown(self):\n        gc.disable()\n",
        "import gc\n\ndef setUpModule():\n    global was\n    was = gc.isenabled()\n    gc.disable()\n\ndef tearDownModule():\n    gc.enable()\n    if not was:\n        gc.disable()\n",
        dedent("""\
            import gc, os

            def fork():
                enabled = gc.isenabled()
                gc.disable()
                try:
                    pid = os.fork()
                except BaseException:
                    if enabled:
                        gc.enable()
                    raise
                else:
                    if pid and enabled:
                        gc.enable()
                return pid
        """),
        dedent("""\
            import gc, unittest

            class Tests(unittest.TestCase):
                def setUp(self):
                    self.addCleanup(gc.enable)

                def test_fork_keeps_gc_off(self):
                    gc.disable()
                    self.assertFalse(gc.isenabled())
        """),
        dedent("""\
            import gc, unittest

            class GCMixin:
                def tearDown(self):
                    gc.enable()

            class Tests(GCMixin, unittest.TestCase):
                def test_without_gc(self):
                    gc.disable()
        """),
        dedent("""\
            import gc

            def start_trace():
                gc.disable()

            def stop_trace():
                gc.enable()
        """),
        dedent("""\
            import gc

            def disable_gc_for_benchmark():
                gc.disable()
        """),
        dedent("""\
            import gc

            def main(options):
                if options.disable_gc:
                    gc.disable()
                run(options)
        """),
        dedent("""\
            import gc

            gc.disable()
            print('Disabled GC for the benchmark')
        """),
    ]
    INVALID = [
        Invalid("import gc\n\ndef timed(fn):\n    gc.disable()\n    result = fn()\n    gc.enable()\n    return result\n", (4, 5)),
        Invalid("from gc import disable\ndisable()\n", (2, 1)),
        Invalid(dedent("""\
            import contextlib, gc

            @contextlib.contextmanager
            def no_cycles():
                gc.disable()
                yield
                try:
                    assert gc.collect() == 0
                finally:
                    gc.enable()
        """), (5, 5)),
        Invalid(dedent("""\
            import gc

            def start_trace():
                gc.disable()

            def stop_logging():
                gc.enable()
        """), (4, 5)),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.qualified_name(node.func) != "gc.disable":
            return
        function = self.ctx.enclosing_function()
        resolver = Resolver(self.ctx)
        if self._restores_saved_state(resolver) or (function is not None and self._puts_back(function, node, resolver)):
            return
        if deliberate_switch_off(self.ctx.stack, function, resolver):
            return
        if function is None:
            self.report(node, self.module_message)
        elif not is_restored(resolver, function, ("gc.enable",), stack=self.ctx.stack):
            self.report(node, self._message(function, resolver))

    def _message(self, function: cst.FunctionDef, resolver: Resolver) -> str:
        if restored_in_finally(resolver, function, ("gc.enable",), lambda call: True):
            return self.uncovered_message
        return self.message

    @staticmethod
    def _puts_back(function: cst.FunctionDef, disable: cst.Call, resolver: Resolver) -> bool:
        """A disable in a teardown, or after the function's own temporary
        `gc.enable()`, returns the collector to the state it found."""
        if undoes(function):
            return True
        for call in resolver.calls(function.body, ("gc.enable", "gc.disable")):
            return call is not disable and resolver.name(call.func) == "gc.enable"
        return False

    def _restores_saved_state(self, resolver: Resolver) -> bool:
        """`if not was_enabled: gc.disable()`, with `was_enabled` saved from
        `gc.isenabled()`, puts back the state found earlier."""
        guard = next((n for n in reversed(self.ctx.stack) if isinstance(n, (cst.If, cst.FunctionDef))), None)
        if not (isinstance(guard, cst.If) and isinstance(guard.test, cst.UnaryOperation)):
            return False
        negated = guard.test.expression
        if not isinstance(negated, cst.Name):
            return False
        return negated.value in _names_saved_from(self.ctx.module, resolver, "gc.isenabled")


def _names_saved_from(module: cst.Module, resolver: Resolver, function: str) -> List[str]:
    """Names assigned anywhere in the file from a call of `function`."""
    names = []
    for node in descendants(module):
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call):
            if resolver.name(node.value.func) == function:
                names.extend(cst.Module([]).code_for_node(t.target) for t in node.targets)
    return names


_SAVE_FLAGS = ("gc.DEBUG_SAVEALL", "gc.DEBUG_LEAK")


class SaveAllLeftOn(_NamesGc, Rule):
    """`gc.set_debug()` with `DEBUG_SAVEALL` or `DEBUG_LEAK` outside tests.

    What it flags:
    A `gc.set_debug(...)` call whose flags include `gc.DEBUG_SAVEALL` or
    `gc.DEBUG_LEAK` (which contains it), in a file that is not a test file,
    unless the same function puts the debug flags back in a `finally` block
    or a sibling method of the class does.

    Why it matters:
    With `DEBUG_SAVEALL`, every object the collector finds unreachable is
    appended to `gc.garbage` instead of being freed: all cyclic garbage the
    process makes from then on is kept for its lifetime.

    Known limits:
    Test files (`test_*.py`, `*_test.py`, `conftest.py`, files under a
    `test`/`tests` directory) are skipped, since leak tests use the flag on
    purpose. Flags computed elsewhere and passed in a variable are not seen.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12) and the
    CPython 3.11 standard library without its tests, every finding read.
    No finding, before or after this version: precision not measured there;
    the rule is exact on its examples and fixtures. On by default all the same: `DEBUG_SAVEALL` or
    `DEBUG_LEAK` outside tests is explicit misuse, it keeps every collected
    object in `gc.garbage` for the rest of the process.
    """

    code = "GCL405"
    DEFAULT = True
    EVIDENCE = "gc-state"
    name = "debug-saveall-left-on"
    USE_INSTEAD = """
        import gc

        # Reports what the collector cannot free, without keeping everything it frees.
        gc.set_debug(gc.DEBUG_UNCOLLECTABLE)
    """
    REFERENCES = (
        ('gc.DEBUG_SAVEALL', 'https://docs.python.org/3/library/gc.html#gc.DEBUG_SAVEALL'),
        ('gc.garbage', 'https://docs.python.org/3/library/gc.html#gc.garbage'),
    )
    severity = Severity.WARNING
    message = "gc.set_debug() with {flag} keeps every unreachable object in gc.garbage for the life of the process"
    TRIGGERS = _TRIGGERS
    VALID = [
        "import gc\ngc.set_debug(gc.DEBUG_STATS)\n",
        "import gc\n\ndef find_cycles(run):\n    old = gc.get_debug()\n    gc.set_debug(gc.DEBUG_SAVEALL)\n    try:\n        run()\n        gc.collect()\n        return list(gc.garbage)\n    finally:\n        gc.set_debug(old)\n        gc.garbage.clear()\n",
    ]
    INVALID = [
        Invalid("import gc\ngc.set_debug(gc.DEBUG_SAVEALL)\n", (2, 1)),
        Invalid("import gc as g\n\ndef debug():\n    g.set_debug(g.DEBUG_STATS | g.DEBUG_LEAK)\n", (4, 5)),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.options.is_test_file or self.ctx.qualified_name(node.func) != "gc.set_debug":
            return
        resolver = Resolver(self.ctx)
        flag = next(iter(self._save_flags(node, resolver)), None)
        if flag is None:
            return
        function = self.ctx.enclosing_function()
        restoring = lambda call: call is not node and not list(self._save_flags(call, resolver))
        if not is_restored(resolver, function, ("gc.set_debug",), restoring, stack=self.ctx.stack):
            self.report(node, self.message.format(flag=flag))

    @staticmethod
    def _save_flags(call: cst.Call, resolver: Resolver) -> List[str]:
        found = []
        for arg in call.args:
            for node in (arg.value, *descendants(arg.value)):
                name = resolver.name(node) if isinstance(node, (cst.Name, cst.Attribute)) else None
                if name in _SAVE_FLAGS:
                    found.append(name)
        return found


class ThresholdZero(_NamesGc, Rule):
    """`gc.set_threshold(0, ...)` turns automatic collection off.

    What it flags:
    A `gc.set_threshold()` call whose first argument is the literal `0`,
    unless the same function sets the threshold again in a `finally` block
    or a sibling method of the class does.

    Why it matters:
    A generation-0 threshold of 0 disables automatic collection, exactly like
    `gc.disable()`, but is easier to miss in review: from then on reference
    cycles are only freed by explicit `gc.collect()` calls.

    Known limits:
    Thresholds computed at run time are not checked.

    Measured on real code:
    The 14 projects named in the README's Rules section (2026-12) and the
    CPython 3.11 standard library without its tests, every finding read.
    No finding, before or after this version: precision not measured there;
    the rule is exact on its examples and fixtures. On by default all the same: a zero first threshold is
    an explicit switch-off of automatic collection.
    """

    code = "GCL406"
    DEFAULT = True
    EVIDENCE = "gc-state"
    name = "threshold-zero"
    USE_INSTEAD = """
        import gc

        gc.set_threshold(50_000)  # fewer collections, but never none
    """
    REFERENCES = (
        ('gc.set_threshold() ("Setting threshold0 to zero disables collection")', 'https://docs.python.org/3/library/gc.html#gc.set_threshold'),
        ('gc.freeze()', 'https://docs.python.org/3/library/gc.html#gc.freeze'),
    )
    severity = Severity.WARNING
    message = "gc.set_threshold(0) turns automatic collection off, like gc.disable(): cycles are freed only by explicit gc.collect() calls"
    TRIGGERS = _TRIGGERS
    VALID = [
        "import gc\ngc.set_threshold(50_000, 20, 20)\n",
        "import gc\n\ndef quiet(fn):\n    old = gc.get_threshold()\n    gc.set_threshold(0)\n    try:\n        fn()\n    finally:\n        gc.set_threshold(*old)\n",
    ]
    INVALID = [
        Invalid("import gc\ngc.set_threshold(0)\n", (2, 1)),
        Invalid("from gc import set_threshold as st\n\ndef boot():\n    st(0, 10, 10)\n", (4, 5)),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.qualified_name(node.func) != "gc.set_threshold":
            return
        if int_value(argument(node, 0, "threshold0")) != 0:
            return
        resolver = Resolver(self.ctx)
        restoring = lambda call: call is not node
        if not is_restored(resolver, self.ctx.enclosing_function(), ("gc.set_threshold",), restoring, stack=self.ctx.stack):
            self.report(node)
