"""Does this value keep X alive? The one answer for every rule.

A value keeps `target` (a dotted name: `self`, `conn`, `self._conn`) when
it is the target; a bound method of it; a lambda or nested function that
uses it; `functools.partial` / `partialmethod` / `types.MethodType` over
one of these; the result of a wrapper of this module whose returned closure
holds its argument; an object built by a class of this module whose
constructor stores the argument; an object built by any other class with a
callable holding the target (`Engine(on_change=self.refresh)`); a weak
reference whose callback holds it; a container or conditional holding one
of these. Weak references and weak containers never keep their referent.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Callable, Dict, List, Mapping, Optional

import libcst as cst

from gclint.analysis.bindings import (
    BINDING_NODES,
    FileIndex,
    WEAK_CONTAINERS,
    WITH_CALLBACK,
    argument,
    bindings_of,
    closure_reads,
    held,
    is_weak_factory,
)
from gclint.analysis.classes import ClassFacts
from gclint.analysis.summaries import ModuleSummary, named_class, named_function, stored_arguments
from gclint.names import dotted
from gclint.tree import descendants, is_scope, names_in_target

PARTIALS = frozenset({"functools.partial", "functools.partialmethod", "types.MethodType"})
# Classes that do not keep the callback they are built with for long:
# threads drop their target when run() ends.
_DROPS_CALLBACKS = ("weakref.", "threading.", "multiprocessing.")
_EMPTY = ModuleSummary()


def _constructor_like(name: str) -> bool:
    return name.rsplit(".", 1)[-1][:1].isupper()


class Keeper:
    """Decides whether an expression keeps the object `target` alive.

    `facts` (the class of the method the expression is in) tells `self.close`
    (a bound method) from `self.path` (data); `closures` are the functions
    defined in that method; `summary` the module's summaries. Names bound in
    source order can be followed with `observe()` (`cb = self.tick`).
    """

    def __init__(
        self,
        target: str,
        resolve: Callable[[cst.BaseExpression], Optional[str]],
        facts: Optional[ClassFacts] = None,
        closures: Optional[Mapping[str, cst.FunctionDef]] = None,
        summary: ModuleSummary = _EMPTY,
    ) -> None:
        self.target = target
        self.root = target.split(".")[0]
        self.resolve = resolve
        self.facts = facts
        self.closures = dict(closures or {})
        self.summary = summary
        self._flow: Dict[str, bool] = {}
        self._closures_known: Dict[int, bool] = {}

    def keeps(self, expr: Optional[cst.BaseExpression], callable_position: bool = False, calls: bool = False) -> bool:
        """`callable_position`: the value is called later, so an attribute of
        the target the class does not define as data is taken for an
        (inherited) method. `calls`: a call of a method of the target counts
        too (it returns a coroutine, which holds its self)."""
        if expr is None:
            return False
        kind = type(expr)
        if kind is cst.Name:
            return self._name_keeps(expr.value)
        if kind is cst.Attribute:
            if dotted(expr) == self.target:
                return True
            return dotted(expr.value) == self.target and self._bound(expr.attr.value, callable_position)
        if kind is cst.Lambda:
            return self._closure_keeps(expr)
        if kind is cst.Call:
            return self._call_keeps(expr, calls)
        if kind in (cst.List, cst.Tuple, cst.Set, cst.Dict, cst.IfExp):
            return any(self.keeps(v, calls=calls) for v in held(expr))
        if kind in (cst.ListComp, cst.SetComp, cst.GeneratorExp):
            return self.keeps(expr.elt)
        if kind is cst.DictComp:
            return self.keeps(expr.value)
        return False

    def is_target(self, expr: cst.BaseExpression) -> bool:
        return dotted(expr) == self.target

    def _name_keeps(self, name: str) -> bool:
        if name == self.target:
            return True
        if name in self._flow:
            return self._flow[name]
        closure = self.closures.get(name)
        return closure is not None and self._closure_keeps(closure)

    def _bound(self, attr: str, callable_position: bool) -> bool:
        if self.facts is not None and self.target == self.root:
            return self.facts.binds(attr, strict=not callable_position)
        return callable_position

    def _closure_keeps(self, function: cst.CSTNode) -> bool:
        """A lambda or nested function that uses the target, or calls a
        nested function of the method that does (one level deep); answered
        once per function."""
        known = self._closures_known.get(id(function))
        if known is None:
            known = self._closures_known[id(function)] = self._closure_uses_target(function)
        return known

    def _closure_uses_target(self, function: cst.CSTNode) -> bool:
        if isinstance(function, cst.FunctionDef) and _rebinds(function, self.root):
            return False
        if closure_reads(function, self.root):
            return True
        return any(
            closure_reads(function, name) and closure_reads(closure, self.root)
            for name, closure in self.closures.items()
            if closure is not function
        )

    def _call_keeps(self, call: cst.Call, calls: bool) -> bool:
        # A local or parameter resolves to None; its spelling still says "class".
        name = self.resolve(call.func) or dotted(call.func) or ""
        if name in WITH_CALLBACK:
            return self.keeps(argument(call, 1, "callback"), callable_position=True)
        if name in WEAK_CONTAINERS or is_weak_factory(name):
            return False
        if name in PARTIALS:
            return any(self.keeps(a.value, callable_position=i == 0) for i, a in enumerate(call.args))
        func = call.func
        if calls and isinstance(func, cst.Attribute) and dotted(func.value) == self.target:
            return True
        local = self._in_file_keeps(call)
        if local is not None:
            return local
        if _constructor_like(name) and not name.startswith(_DROPS_CALLBACKS):
            # An object built with a callback usually keeps it (Engine(on_change=...)).
            return any(self.keeps(a) and not self.is_target(a) for a in _kept_arguments(call))
        return False

    def _in_file_keeps(self, call: cst.Call) -> Optional[bool]:
        """What the module's own summaries say; None when they do not know the callee."""
        name, target = dotted(call.func), self.resolve(call.func)
        cls = named_class(self.summary, name, target)
        if cls is not None:
            return any(self.keeps(value) for value, _ in stored_arguments(call, cls.stored_params))
        function = named_function(self.summary, name, target)
        if function is not None and function.wraps:
            positional = [a.value for a in call.args if a.keyword is None and not a.star]
            return any(self.keeps(positional[i], callable_position=True) for i in function.wraps if i < len(positional))
        return None

    # -- following names in source order

    def observe(self, node: cst.CSTNode) -> None:
        """`cb = self.tick` makes `cb` keep the target; rebinding clears it."""
        kind = type(node)
        if kind is cst.FunctionDef:
            self._flow[node.name.value] = self._closure_keeps(node)
        elif kind is cst.Assign:
            keeps = self.keeps(node.value)
            for target in node.targets:
                for name in names_in_target(target.target):
                    self._flow[name] = keeps and type(target.target) is cst.Name
        elif kind in BINDING_NODES:
            for target, _ in bindings_of(node):
                for name in names_in_target(target):
                    self._flow[name] = False


def _rebinds(function: cst.FunctionDef, name: str) -> bool:
    """A nested def that assigns its own `self` (`self = selfref()`) does not use the method's."""
    for node in descendants(function.body, stop=is_scope):
        if isinstance(node, cst.Assign) and any(name in names_in_target(t.target) for t in node.targets):
            return True
    return False


def _kept_arguments(call: cst.Call) -> List[cst.BaseExpression]:
    """Arguments an object may keep. Not Tk's `command=`: Tk hands it to the
    Tcl interpreter, which holds it outside what the cycle collector sees,
    until the widget is destroyed."""
    return [a.value for a in call.args if not (a.keyword and a.keyword.value == "command")]


def local_functions(function: cst.CSTNode, index: FileIndex) -> Mapping[str, cst.FunctionDef]:
    """Functions defined directly in the body of `function` whose name is
    never rebound there (`cb = weakref.ref(cb)` makes `cb` something else)."""
    return index.per_function("local functions", function, lambda f: MappingProxyType(_local_functions(f, index)))


def _local_functions(function: cst.CSTNode, index: FileIndex) -> Dict[str, cst.FunctionDef]:
    found: Dict[str, cst.FunctionDef] = {}
    rebound = set()
    for node in index.nodes(function):
        if isinstance(node, cst.FunctionDef):
            found[node.name.value] = node
        else:
            for target, _ in bindings_of(node):
                rebound.update(names_in_target(target))
    return {name: f for name, f in found.items() if name not in rebound}
