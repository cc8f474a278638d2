"""What rules may ask about the file being walked.

The engine keeps the path from the module to the current node on a stack,
so parents, the enclosing function and class, and the scope chain for name
resolution come from the walk itself instead of metadata passes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import libcst as cst

from gclint.analysis import FileAnalysis, ProjectView
from gclint.analysis.resources import factory_table
from gclint.analysis.classes import Method, enclosing_method
from gclint.model import Severity
from gclint.names import NameResolver, Scope
from gclint.tree import SCOPE_TYPES



@dataclass(frozen=True)
class Options:
    """Settings rules may read (everything else in the config is selection)."""

    target_version: Tuple[int, int] = (3, 9)
    is_test_file: bool = False
    # Dotted names of project-specific resource factories (GCL3xx).
    extra_resource_factories: Tuple[str, ...] = ()


@dataclass
class Report:
    code: str
    severity: Severity
    node: cst.CSTNode
    message: str


class FileContext:
    def __init__(
        self, path: str, source: str, module: cst.Module, options: Options, project: Optional[ProjectView] = None
    ) -> None:
        self.path = path
        self.source = source
        self.module = module
        self.options = options
        self.stack: List[cst.CSTNode] = []
        self.names = NameResolver(module)
        self.reports: List[Report] = []
        self.metadata_cache: Dict[type, Any] = {}
        self._analysis: Optional[FileAnalysis] = None
        # The scope chain of each node on the current path (see scopes()).
        self._scope_chain: List[Tuple[cst.CSTNode, Tuple[Scope, ...]]] = []
        self._project = project

    @property
    def analysis(self) -> FileAnalysis:
        """The shared per-file model (gclint.analysis), built on first use."""
        if self._analysis is None:
            factories = factory_table(self.options.extra_resource_factories)
            self._analysis = FileAnalysis(self.module, self.names, factories, self._project, self.source)
        return self._analysis

    def enclosing_method(self) -> Optional[Method]:
        """The method with an instance receiver around the current node."""
        return enclosing_method(self.scopes())

    def innermost_scope(self) -> Scope:
        """The function, lambda or class whose body holds the current node, else the module."""
        scopes = self.scopes()
        return scopes[0] if scopes else self.module

    def report(self, code: str, severity: Severity, node: cst.CSTNode, message: str) -> None:
        self.reports.append(Report(code, severity, node, message))

    def parent(self, levels: int = 1) -> Optional[cst.CSTNode]:
        """The ancestor `levels` above the current node."""
        index = len(self.stack) - 1 - levels
        return self.stack[index] if index >= 0 else None

    def release(self) -> None:
        """Drop the per-file facts once the file is done. They refer back to
        this context (a Resolver keeps it, and rules' per-file tables live in
        metadata_cache), so without this every file's tree would wait for the
        cycle collector."""
        self.metadata_cache.clear()
        self._analysis = None

    def scopes(self) -> Tuple[Scope, ...]:
        """Enclosing function, lambda and class scopes, innermost first.

        A function is a scope only for what is inside its body: its
        decorators and defaults are evaluated in the enclosing scope.
        """
        stack = self.stack
        known = self._scope_chain
        # known[i] = (stack[i] when it was computed, scopes of that node). A
        # node is at one place in the tree, so once known[i] names stack[i]
        # every entry under it still holds: only the levels the walk has left
        # since the last question are redone, never the whole path (a chain
        # of a thousand calls is a thousand levels deep).
        depth = min(len(known), len(stack))
        while depth and known[depth - 1][0] is not stack[depth - 1]:
            depth -= 1
        del known[depth:]
        for i in range(depth, len(stack)):
            node = stack[i]
            outer = known[i - 1][1] if i else ()
            parent = stack[i - 1] if i else None
            if parent is not None and type(parent) in SCOPE_TYPES and node is parent.body:
                outer = (parent, *outer)
            known.append((node, outer))
        return known[-1][1] if known else ()

    def enclosing_function(self) -> Optional[cst.FunctionDef]:
        for scope in self.scopes():
            if isinstance(scope, cst.FunctionDef):
                return scope
        return None

    def enclosing_class(self) -> Optional[cst.ClassDef]:
        for scope in self.scopes():
            if isinstance(scope, cst.ClassDef):
                return scope
        return None

    def qualified_name(self, node: cst.BaseExpression) -> Optional[str]:
        """Dotted name `node` refers to at the current point of the walk."""
        return self.names.qualified_name(node, self.scopes())

    def metadata(self, provider: type, node: cst.CSTNode) -> Any:
        """A metadata value; the provider must be in the rule's METADATA."""
        return self.metadata_cache[provider][node]
