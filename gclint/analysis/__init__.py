"""The facts the cycle, finalizer and retention rules need, one definition
each, computed lazily once per file and kept on the file context
(`ctx.analysis`):

- bindings.py   what code does with names and objects: which object a name
                refers to, what a statement stores, what a value holds, free
                uses of a name, weak forms (which store nothing strong)
- classes.py    receivers of methods (which parameter is self) and what a
                class body defines (methods, class values, weak attributes)
- keeps.py      does this value keep X alive
- summaries.py  per-module summaries (constructors, storing/blocking/factory
                methods, wrappers, factories, imports); gclint/project.py
                resolves imports and answers imported names from other
                modules' summaries (`FileAnalysis.summary`)
- references.py the per-class reference model (edges an instance makes to
                itself) and links undone (close(), callbacks, finally, locals)
- blocking.py   locks, joins, sleeps and blocking I/O
- resources.py  what acquires a resource, who owns it, and its fate on every path (GCL3xx)
- cleanup.py    whether a change to process state (gc.disable, ...) is undone (GCL4xx)
"""
from __future__ import annotations

from functools import partial
from typing import Callable, Dict, FrozenSet, Mapping, Optional, Tuple

import libcst as cst

from gclint.analysis.bindings import FileIndex
from gclint.analysis.classes import ClassFacts, Method, built_at_import, class_facts
from gclint.analysis.keeps import Keeper, local_functions
from gclint.analysis.references import ClassModel, build_model
from gclint.analysis.summaries import LocalSummaries, ModuleSummary
from gclint.names import NameResolver


# Given this file's own summary, the view rules read: the same summary with
# the names it imports answered from other modules (gclint/project.py).
ProjectView = Callable[[ModuleSummary], ModuleSummary]


class FileAnalysis:
    """Per-file facts, each computed on first use and then kept."""

    def __init__(
        self,
        module: cst.Module,
        names: NameResolver,
        factories: Optional[Mapping[str, str]] = None,
        project: Optional[ProjectView] = None,
        source: str = "",
    ) -> None:
        self.module = module
        self.source = source
        self.index = FileIndex(names, module)
        self.factories = factories if factories is not None else _default_factories()
        self._project = project
        self._facts: Dict[int, ClassFacts] = {}
        self._models: Dict[int, ClassModel] = {}
        self._local: Optional[LocalSummaries] = None
        self._summary: Optional[ModuleSummary] = None
        self._built_at_import: Optional[FrozenSet[str]] = None

    def resolve(self, expr: cst.BaseExpression, scopes: Tuple[cst.CSTNode, ...]) -> Optional[str]:
        return self.index.resolve(expr, scopes)

    def facts(self, cls: cst.ClassDef) -> ClassFacts:
        return _facts_of(self._facts, self.index, cls)

    def built_at_import(self, cls: cst.ClassDef) -> bool:
        """The module instantiates `cls` only at import (see classes.built_at_import)."""
        if self._built_at_import is None:
            self._built_at_import = built_at_import(self.module, self.source)
        return cls.name.value in self._built_at_import

    @property
    def local_summary(self) -> LocalSummaries:
        """What this module's own text says (what other modules are told),
        each name summarised when first asked about."""
        if self._local is None:
            # Not self.facts: a bound method would make this analysis and its summaries a cycle.
            self._local = LocalSummaries(self.module, partial(_facts_of, self._facts, self.index), self.index, self.factories)
        return self._local

    @property
    def summary(self) -> ModuleSummary:
        """This module's summary with imported names resolved, when the file
        is checked inside a project; else its own summary."""
        if self._summary is None:
            local = self.local_summary
            self._summary = self._project(local) if self._project is not None else local
        return self._summary

    def model(self, cls: cst.ClassDef) -> ClassModel:
        found = self._models.get(id(cls))
        if found is None:
            found = self._models[id(cls)] = build_model(cls, self.facts(cls), self.summary, self.index)
        return found

    def keeper_for_method(self, method: Method, target: Optional[str] = None) -> Keeper:
        """A Keeper for `target` (default: the method's self) inside `method`."""
        scopes = (*method.inner, method.function, method.cls)
        return Keeper(
            target or method.self,
            lambda expr: self.resolve(expr, scopes),
            self.facts(method.cls),
            local_functions(method.function, self.index),
            self.summary,
        )

    def keeper(self, target: str, scopes: Tuple[cst.CSTNode, ...], function: Optional[cst.CSTNode]) -> Keeper:
        """A Keeper for `target` outside any method (a plain function or the module)."""
        closures = local_functions(function, self.index) if function is not None else None
        return Keeper(target, lambda expr: self.resolve(expr, scopes), None, closures, self.summary)


def _facts_of(known: Dict[int, ClassFacts], index: FileIndex, cls: cst.ClassDef) -> ClassFacts:
    found = known.get(id(cls))
    if found is None:
        found = known[id(cls)] = class_facts(cls, index)
    return found


def _default_factories() -> Mapping[str, str]:
    from gclint.analysis.resources import factory_table

    return factory_table()
