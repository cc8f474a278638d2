"""gclint.analysis answers its questions directly (not only through rules)."""
import json
import textwrap

import libcst as cst
import pytest

from gclint.analysis import FileAnalysis
from gclint.analysis.bindings import free_uses
from gclint.analysis.classes import CLASS, INSTANCE, PROPERTY, STATIC, Method, receiver_of
from gclint.analysis.references import BACK, CALLABLE, REGISTERED, SELF
from gclint.analysis.summaries import ClassSummary, FunctionSummary, ModuleSummary, ParamRef
from gclint.names import NameResolver


def _analysis(source):
    module = cst.parse_module(textwrap.dedent(source))
    return FileAnalysis(module, NameResolver(module), source=module.code), module


def _class(module, name):
    return next(n for n in module.body if isinstance(n, cst.ClassDef) and n.name.value == name)


def _method(cls, name):
    return next(n for n in cls.body.body if isinstance(n, cst.FunctionDef) and n.name.value == name)


@pytest.mark.parametrize(
    "decorator, first, expected",
    [
        pytest.param("", "self", (INSTANCE, "self"), id="instance"),
        pytest.param("@staticmethod", "x", (STATIC, None), id="static"),
        pytest.param("@classmethod", "cls", (CLASS, "cls"), id="classmethod"),
        pytest.param("@property", "me", (PROPERTY, "me"), id="property-getter"),
        pytest.param("@value.setter", "self", (PROPERTY, "self"), id="property-setter"),
        pytest.param("@functools.cached_property", "self", (PROPERTY, "self"), id="cached-property"),
    ],
)
def test_receiver_of_each_kind_of_method(decorator, first, expected):
    _, module = _analysis(f"class C:\n    {decorator}\n    def m({first}, v=None):\n        pass\n")
    cls = _class(module, "C")
    assert tuple(receiver_of(_method(cls, "m"), cls)) == expected


def test_receiver_of_implicit_class_methods_and_metaclass_methods():
    _, module = _analysis("class C:\n    def __init_subclass__(cls):\n        pass\n\nclass M(type):\n    def m(self):\n        pass\n")
    c, m = _class(module, "C"), _class(module, "M")
    assert receiver_of(_method(c, "__init_subclass__"), c).kind == CLASS
    assert receiver_of(_method(m, "m"), m).instance is None


KEEPS_SOURCE = """
import functools, types, weakref

def logged(func):
    def inner(*a):
        return func(*a)
    return inner

def plain(x):
    return 1

class Helper:
    def __init__(self, owner, size=0):
        self._owner = owner

class Sized:
    def __init__(self, owner):
        self.n = len(owner)

class C:
    name: str

    def tick(self):
        pass

    @staticmethod
    def util():
        pass

    def m(self):
        pass
"""


@pytest.mark.parametrize(
    "expr, kept",
    [
        ("self", True),
        ("self.tick", True),
        ("self.util", False),
        ("self.name", False),
        ("lambda: self.x", True),
        ("lambda self: self.x", False),
        ("functools.partial(self.tick, 1)", True),
        ("types.MethodType(f, self)", True),
        ("weakref.WeakMethod(self.tick)", False),
        ("weakref.ref(self)", False),
        ("weakref.ref(x, self.tick)", True),
        ("weakref.WeakSet([self])", False),
        ("logged(self.tick)", True),
        ("plain(self.tick)", False),
        ("Helper(self)", True),
        ("Helper(owner=self)", True),
        ("Helper(None, size=self)", False),
        ("Sized(self)", False),
        ("Engine(on_change=self.tick)", True),
        ("Engine(self)", False),
        ("[1, (self.tick, 2)]", True),
        ("x if c else self", True),
    ],
)
def test_keeper_says_whether_a_value_keeps_self_alive(expr, kept):
    analysis, module = _analysis(KEEPS_SOURCE)
    cls = _class(module, "C")
    keeper = analysis.keeper_for_method(Method(_method(cls, "m"), cls, "self", ()))
    assert keeper.keeps(cst.parse_expression(expr)) is kept


def test_keeper_follows_names_bound_in_source_order():
    analysis, module = _analysis(KEEPS_SOURCE)
    cls = _class(module, "C")
    keeper = analysis.keeper_for_method(Method(_method(cls, "m"), cls, "self", ()))
    keeper.observe(cst.parse_statement("cb = self.tick").body[0])
    assert keeper.keeps(cst.Name("cb"))
    keeper.observe(cst.parse_statement("cb = None").body[0])
    assert not keeper.keeps(cst.Name("cb"))


SUMMARY_SOURCE = """
import threading, time

class Base(Exception):
    def __init__(self, *args, **kwargs):
        self.response = kwargs.pop("response", None)

class Derived(Base):
    pass

class Holder:
    def __init__(self, owner, label):
        self.owner = owner
        self.items = []
        self.items.append(label)

class Forwarding(Holder):
    def __init__(self, parent):
        super().__init__(parent, "x")

class Worker:
    def _record(self, error):
        self.errors.append(error)

    def release(self):
        with self._lock:
            pass

    def close(self):
        self.release()

    def getter(self):
        return lambda: self.close()

def wrap(func):
    def inner():
        return func()
    return inner

def pause():
    time.sleep(1)
"""


def test_summaries_say_which_constructor_parameters_are_stored():
    analysis, _ = _analysis(SUMMARY_SOURCE)
    summary = analysis.summary
    assert summary.cls("Holder").stored_params == (ParamRef(0, "owner", "owner"), ParamRef(1, "label", "items"))
    assert summary.cls("Base").stored_params == (ParamRef(-1, "response", "response"),)
    assert summary.cls("Derived").stored_params == summary.cls("Base").stored_params  # inherited
    assert summary.cls("Forwarding").stored_params == (ParamRef(0, "parent", "owner"),)


def test_summaries_say_which_methods_store_block_or_return_closures():
    worker = _analysis(SUMMARY_SOURCE)[0].summary.cls("Worker")
    assert worker.stores("_record") == (ParamRef(0, "error", "errors"),)
    assert worker.blocks("release") == "takes a lock"
    assert worker.blocks("close") == "calls self.release(), which takes a lock"
    assert worker.blocks("getter") is None
    assert worker.closure_methods == ("getter",)


def test_summaries_of_functions_and_their_round_trip_through_json():
    summary = _analysis(SUMMARY_SOURCE)[0].summary
    assert summary.function("wrap").wraps == (0,)
    assert summary.function("pause").blocking == "calls time.sleep()"
    again = ModuleSummary.from_dict(json.loads(json.dumps(summary.to_dict())))
    assert again == summary


MODEL_SOURCE = """
import weakref

class Mapping:
    def __init__(self, owner):
        self._owner = owner

class Selector:
    _live = weakref.WeakSet()
    registry = []

    def __init__(self):
        self._map = Mapping(self)
        self.me = self
        self.cb = self.tick
        self.tmp = self.tick
        self._live.add(self)
        self.registry.append(self)
        self.factory.clients.append(self)
        self.button.on_click(self.tick)
        self.future.add_done_callback(self.tick)
        self.read = self._once

    def tick(self):
        pass

    def _once(self):
        del self.read

    def close(self):
        self.tmp = None
        self.factory.clients.remove(self)
"""


def test_the_class_model_lists_each_edge_with_its_chain_and_whether_it_is_undone():
    analysis, module = _analysis(MODEL_SOURCE)
    model = analysis.model(_class(module, "Selector"))
    edges = {(e.kind, e.path, e.chain, e.undone) for e in model.edges}
    assert edges == {
        (BACK, "_map", "Selector._map -> Mapping._owner -> Selector", False),
        (SELF, "me", "Selector.me -> Selector", False),
        (CALLABLE, "cb", "Selector.cb -> self.tick -> Selector", False),
        (CALLABLE, "tmp", "Selector.tmp -> self.tick -> Selector", True),  # close() clears it
        (BACK, "factory.clients", "Selector.factory -> clients -> Selector", True),  # removed in close()
        (REGISTERED, "button", "Selector.button -> self.tick -> Selector", False),
        (CALLABLE, "read", "Selector.read -> self._once -> Selector", True),  # the override deletes itself
    }
    assert model.undoes("tmp") and model.undoes("factory.clients.x") and not model.undoes("cb")


def test_a_reset_in_another_method_undoes_an_edge_but_one_in_an_initialiser_does_not():
    source = """
class Client:
    def __init__(self):
        self.early = None
        self.late = None

    def connect(self):
        self.early = self.tick
        self.late = self.tick

    def tick(self):
        pass

    def _disconnect_parser(self):
        self.late = None
"""
    analysis, module = _analysis(source)
    undone = {e.path: e.undone for e in analysis.model(_class(module, "Client")).edges}
    assert undone == {"early": False, "late": True}


def test_the_model_is_built_once_per_class():
    analysis, module = _analysis(MODEL_SOURCE)
    cls = _class(module, "Selector")
    assert analysis.model(cls) is analysis.model(cls)
    assert analysis.summary is analysis.summary


@pytest.mark.parametrize(
    "source, name, used",
    [
        ("lambda: walk(1)", "walk", True),
        ("lambda walk: walk(1)", "walk", False),
        ("[walk for walk in xs]", "walk", False),
        ("[walk(x) for x in walk]", "walk", True),
        ("lambda q=self: q", "self", True),
        ("lambda q=self.queue: q", "self", False),
        ("x.walk", "walk", False),
        ("f(walk=1)", "walk", False),
    ],
)
def test_free_uses(source, name, used):
    assert free_uses(cst.parse_expression(source), name) is used


def test_a_decorated_nested_function_holds_what_its_body_uses_not_its_decorator():
    source = """
class Case:
    def setup(self):
        @self.app.task(shared=False)
        def add(x, y):
            return x + y
        self.add = add

        @self.app.task
        def echo(x):
            return self.prefix + x
        self.echo = echo
"""
    analysis, module = _analysis(source)
    paths = {e.path for e in analysis.model(_class(module, "Case")).edges}
    assert paths == {"echo"}


@pytest.mark.parametrize(
    "name, ends", [("close", True), ("close_all", True), ("connectionLost", True), ("__aexit__", True),
                   ("_disconnectParser", True), ("closed", False), ("freeze", False), ("stopped", False)],
)
def test_which_method_names_end_an_objects_life(name, ends):
    from gclint.analysis.references import ends_lifecycle

    assert ends_lifecycle(cst.parse_statement(f"def {name}(self):\n    pass\n")) is ends


def test_a_callback_that_rebinds_its_attribute_to_another_method_undoes_nothing():
    source = """
class Reader:
    def __init__(self, parser):
        self.get = self._slurp

    def _slurp(self):
        self.get = self._emit

    def _emit(self):
        pass
"""
    analysis, module = _analysis(source)
    edges = analysis.model(_class(module, "Reader")).edges
    assert [(e.path, e.undone) for e in edges] == [("get", False), ("get", False)]


def test_a_method_called_by_init_is_an_initialiser_not_a_reset():
    source = """
class Reader:
    def __init__(self):
        self.initfp()

    def initfp(self):
        self._convert = None

    def open(self):
        self._convert = self._decode

    def _decode(self):
        pass
"""
    analysis, module = _analysis(source)
    assert [e.undone for e in analysis.model(_class(module, "Reader")).edges] == [False]


def test_summaries_of_another_module_plug_in_behind_this_ones():
    here = ModuleSummary(functions=(FunctionSummary("wrap", (0,)),))
    there = ModuleSummary(classes=(ClassSummary("Helper", stored_params=(ParamRef(0, "owner", "_owner"),)),),
                          functions=(FunctionSummary("wrap", ()),))
    both = here.merged(there)
    assert both.function("wrap").wraps == (0,)
    assert both.cls("Helper").stored_params == (ParamRef(0, "owner", "_owner"),)


def test_analysing_a_file_leaves_no_cyclic_garbage():
    import gc

    from conftest import FIXTURES
    from gclint import lint_source

    sources = [p.read_text() for p in sorted((FIXTURES / "cycles").glob("*.py"))]
    lint_source(sources[0], "warm-up.py")
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for source in sources:
            assert lint_source(source, "fixture.py") is not None
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        garbage = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    assert garbage == []


UNDONE_ELSEWHERE_SOURCE = """
class Status:
    @property
    def parent(self):
        return self._parent

    @parent.setter
    def parent(self, parent):
        if self._parent is not None:
            self._parent._children.remove(self)
        self._parent = parent
        if self._parent is not None:
            self._parent._children.add(self)

    def close(self):
        self.parent = None

class Results:
    def __init__(self, reporter):
        self._reporter = reporter

    def __exit__(self, *exc):
        self._reporter._reporting = None

class Reporter:
    def gather(self):
        self._reporting = Results(self)
        self._kept = Results(self)

class Factory:
    def _remove(self, result):
        self.current = None

class SubFactory(Factory):
    def build(self):
        self.current = self.make
        self.other = self.make

    def make(self):
        pass
"""


@pytest.mark.parametrize(
    "cls, expected",
    [
        # close() runs the property's setter with None, which takes self out of the old parent.
        pytest.param("Status", {"_parent._children": True}, id="through-a-property-setter"),
        # Results.__exit__ drops the back link on its reporter, for `_reporting` only.
        pytest.param("Reporter", {"_reporting": True, "_kept": False}, id="by-the-object-built-from-self"),
        # Factory._remove, inherited, resets `current`.
        pytest.param("SubFactory", {"current": True, "other": False}, id="by-a-base-class-method"),
    ],
)
def test_links_undone_outside_the_method_that_makes_them(cls, expected):
    analysis, module = _analysis(UNDONE_ELSEWHERE_SOURCE)
    assert {e.path: e.undone for e in analysis.model(_class(module, cls)).edges} == expected


@pytest.mark.parametrize(
    "source, singletons",
    [
        pytest.param("class App:\n    pass\n\napp = App()\n", {"App"}, id="built-at-import"),
        pytest.param("class App:\n    pass\n\napp = App()\n\ndef make():\n    return App()\n", set(), id="also-in-a-function"),
        pytest.param("class App:\n    pass\n\ndef make():\n    return App()\n", set(), id="only-in-a-function"),
        pytest.param("class App:\n    pass\n\nclass Sub(App):\n    pass\n\nsub = Sub()\n", {"Sub"}, id="subclass-not-a-call"),
    ],
)
def test_classes_built_only_at_import(source, singletons):
    analysis, module = _analysis(source)
    found = {c.name.value for c in module.body if isinstance(c, cst.ClassDef) and analysis.built_at_import(c)}
    assert found == singletons


def test_built_at_import_reads_the_source_text():
    module = cst.parse_module("class App:\n    pass\n\napp = App()\n")
    # A mention in a comment counts as another call: the answer errs towards reporting.
    assert not FileAnalysis(module, NameResolver(module), source="# App() elsewhere\n" + module.code).built_at_import(module.body[0])


@pytest.mark.parametrize(
    "source, blocks",
    [
        pytest.param("import threading\nclass T(threading.Thread):\n    def stop(self):\n        self.join()\n", None, id="thread-joins-itself"),
        pytest.param(
            "import threading\nclass P:\n    def __init__(self):\n        self.t = threading.Thread(target=self.run)\n    def stop(self):\n        self.t.join()\n",
            None,
            id="thread-built-from-self",
        ),
        pytest.param(
            "import threading\nclass P:\n    def __init__(self, f):\n        self.t = threading.Thread(target=f)\n    def stop(self):\n        self.t.join()\n",
            "joins a thread or process",
            id="thread-not-holding-self",
        ),
        pytest.param("class P:\n    def stop(self):\n        self.join()\n", "joins a thread or process", id="not-a-thread-class"),
    ],
)
def test_a_join_of_a_thread_that_keeps_the_instance_alive_does_not_block(source, blocks):
    analysis, module = _analysis(source)
    cls = next(c for c in module.body if isinstance(c, cst.ClassDef))
    assert analysis.summary.cls(cls.name.value).blocks("stop") == blocks


@pytest.mark.parametrize(
    "loop, cleared",
    [
        pytest.param("while tb is not None:\n        tb = tb.tb_next", True, id="walked-to-none"),
        pytest.param("while tb:\n        tb = tb.tb_next", True, id="walked-to-false"),
        pytest.param("while tb is not None:\n        if tb.tb_lineno:\n            break\n        tb = tb.tb_next", False, id="may-break"),
        pytest.param("while tb is not None:\n        print(tb)", False, id="never-advanced"),
    ],
)
def test_a_local_walked_to_none_is_cleared(loop, cleared):
    from gclint.analysis.references import cleared_after

    analysis, module = _analysis(f"def f(e):\n    tb = e.__traceback__\n    {loop}\n")
    function = module.body[0]
    binding = function.body.body[0].body[0]
    assert cleared_after(function, "tb", binding, analysis.index) is cleared
