"""The project around a file: which module an import names, and what the
summaries of those modules say (gclint/analysis/summaries.py).

A file's rules see the summaries of the project modules it imports,
through the names the file binds (`from .parser import ResponseParser`:
`ResponseParser`; `import pkg.mod as m`: `m.Cls`). Those summaries are
loaded lazily, the first time a rule asks about such a name: from the
content-hash cache, else by parsing that module once. Every door (the CLI,
the flake8 plugin, pre-commit's subset of files) goes through here, so
they agree.

Where imports are looked for: relative imports from the importing file's
own directory; absolute imports below the directory that holds the file's
top package (the nearest ancestor without `__init__.py`), the project
root (the directory of pyproject.toml, else the working directory) and
its `src/`. A namespace package (no `__init__.py`) is found the same way.
What cannot be found, parsed or read stays unknown: no summary, no edge.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

from gclint.analysis.summaries import TRIVIAL_BASES, ClassSummary, FunctionSummary, LocalSummaries, ModuleSummary, ParamRef
from gclint.safeio import TooLarge, read_regular_file

if TYPE_CHECKING:
    from gclint.cache import Cache
    from gclint.config import Settings

# Re-exports and base classes are followed this many modules deep at most.
_MAX_HOPS = 8


class Layout:
    """Where the modules of the project live."""

    def __init__(self, root: Optional[str]) -> None:
        top = os.path.abspath(root or os.getcwd())
        self.roots = tuple(d for d in (top, os.path.join(top, "src")) if os.path.isdir(d))
        # Answers already looked up on the file system, for this run.
        self._files: Dict[Tuple[Tuple[str, ...], Tuple[str, ...]], Optional[str]] = {}
        self._bases: Dict[str, str] = {}

    def resolve(self, importer: str, target: str) -> Optional[Tuple[str, Tuple[str, ...]]]:
        """(module file, names left inside it) for what `importer` imports
        as `target` ("pkg.mod.Cls", ".parser.Parser"); None when no project
        module is found."""
        _, parts, bases = self._start(importer, target)
        for cut in range(len(parts), 0, -1):
            found = self._module_file(tuple(parts[:cut]), tuple(bases))
            if found is not None:
                return found, tuple(parts[cut:])
        return None

    def candidates(self, importer: str, target: str) -> Tuple[str, ...]:
        """The files the module part of `target` (all but its last name)
        would be, when the import looks like the project's: relative, or
        under a package directory that exists (not a third-party name)."""
        level, parts, bases = self._start(importer, target)
        module = parts[:-1] if len(parts) > 1 else parts
        if not module:
            return ()
        found = []
        for base in bases:
            if level or os.path.isdir(os.path.join(base, module[0])):
                stem = os.path.join(base, *module)
                found.extend((stem + ".py", os.path.join(stem, "__init__.py")))
        return tuple(found)

    def _start(self, importer: str, target: str) -> Tuple[int, List[str], Tuple[str, ...]]:
        level = len(target) - len(target.lstrip("."))
        parts = [p for p in target[level:].split(".") if p]
        if level:
            start = os.path.dirname(os.path.abspath(importer))
            for _ in range(level - 1):
                start = os.path.dirname(start)
            return level, parts, (start,)
        return level, parts, _unique((self._package_base(importer), *self.roots))

    def _package_base(self, path: str) -> str:
        directory = os.path.dirname(os.path.abspath(path))
        if directory not in self._bases:
            self._bases[directory] = package_base(path)
        return self._bases[directory]

    def _module_file(self, parts: Tuple[str, ...], bases: Tuple[str, ...]) -> Optional[str]:
        key = (parts, bases)
        if key not in self._files:
            self._files[key] = _module_file(parts, bases)
        return self._files[key]


def package_base(path: str) -> str:
    """The directory holding the file's top package (its own directory when
    it is not in a package)."""
    directory = os.path.dirname(os.path.abspath(path))
    while os.path.isfile(os.path.join(directory, "__init__.py")) and os.path.dirname(directory) != directory:
        directory = os.path.dirname(directory)
    return directory


def _unique(items: Iterable[str]) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _module_file(parts: Sequence[str], bases: Sequence[str]) -> Optional[str]:
    for base in bases:
        stem = os.path.join(base, *parts)
        for candidate in (stem + ".py", os.path.join(stem, "__init__.py")):
            if os.path.isfile(candidate) and _inside(candidate, base):
                return candidate
    return None


def _inside(path: str, base: str) -> bool:
    # A link that leaves the directory it was found in is not the project's.
    real, real_base = os.path.realpath(path), os.path.realpath(base)
    return os.path.commonpath([real, real_base]) == real_base


class SummaryStore:
    """Summaries of project modules, each computed at most once per content
    (kept in `cache` when there is one, and in memory for this process)."""

    def __init__(self, settings: "Settings", cache: Optional["Cache"] = None) -> None:
        from gclint.analysis.resources import factory_table

        self.settings = settings
        self.layout = Layout(settings.root)
        self.factories = factory_table(settings.extend_resource_factories)
        self.cache = cache
        self._by_text: Dict[str, Optional[ModuleSummary]] = {}
        self._by_file: Dict[str, Optional[ModuleSummary]] = {}
        self._holders: Dict[str, bool] = {}
        # (module file, member or ()) -> whether it is or defines a factory, and the summaries read.
        self._exports: Dict[Tuple[str, Tuple[str, ...]], Tuple[bool, Dict[str, str]]] = {}
        # Files whose summary was computed by parsing them (for tests and the bench).
        self.parsed: List[str] = []

    def summary_of(self, path: str) -> Optional[ModuleSummary]:
        """The summary of the module in `path`, None when it cannot be read or parsed."""
        key = os.path.abspath(path)
        if key not in self._by_file:
            self._by_file[key] = self._load(path)
        return self._by_file[key]

    def digest_of(self, path: str) -> str:
        summary = self.summary_of(path)
        return summary.digest() if summary is not None else ""

    def remember(self, path: str, text: str, local: "LocalSummaries") -> None:
        """The summary of a file just linted (so its importers need not parse
        it), made whole only when some checked file imports it: a module no
        one imports is summarised no further than its own rules asked."""
        imported = self.cache.imported if self.cache is not None else None
        if imported is not None and os.path.abspath(path) not in imported:
            return
        summary = local.complete()
        self._by_text[self._key(text)] = summary
        if self.cache is not None:
            self.cache.put_summary(self._key(text), summary)

    def still_valid(self, used: Iterable[Sequence[str]]) -> bool:
        """Whether the summaries a cached result used are still what they were."""
        return all(self.digest_of(path) == digest for path, digest in used)

    def imports_factory(self, path: str, text: str, used: Dict[str, str]) -> bool:
        """Whether the file imports, from a project module, a function that
        returns a fresh resource or a class with a factory method (or a
        module that defines one): the resource rules' text triggers name
        only built-in factories. The summaries read are recorded in `used`,
        as the rules' are, so a module that gains a factory re-checks it."""
        for target in import_targets(text.encode("utf-8", "surrogateescape")):
            resolved = self.layout.resolve(path, target)
            if resolved is None:
                self.note_absent(path, target, used)
                continue
            if len(resolved[1]) > 1 or os.path.abspath(resolved[0]) == os.path.abspath(path):
                continue
            key = (os.path.abspath(resolved[0]), resolved[1])
            if not self._may_hold_factory(key[0]):
                used.setdefault(key[0], self._text_mark(key[0]))
                continue
            if key not in self._exports:
                self._exports[key] = self._exported_factory(*key)
            found, read = self._exports[key]
            used.update(read)
            if found:
                return True
        return False

    def _may_hold_factory(self, path: str) -> bool:
        """Whether the module's text could make it a factory's home: it names
        a built-in or configured factory, or imports another project module
        (a factory may be followed or re-exported). Most modules are ruled
        out by this without being parsed."""
        key = os.path.abspath(path)
        if key not in self._holders:
            self._holders[key] = self._text_may_hold_factory(key)
        return self._holders[key]

    def _text_may_hold_factory(self, path: str) -> bool:
        try:
            data = read_regular_file(path, self.settings.max_file_size * 1024, follow=True)
        except (OSError, ValueError, TooLarge):
            return False
        names = {n.rsplit(".", 1)[-1].encode() for n in self.factories}
        if any(n in data for n in names):
            return True
        return any(self.layout.resolve(path, t) is not None for t in import_targets(data))

    def _text_mark(self, path: str) -> str:
        # The digest a cached result records for a module ruled out by its text:
        # the summary's own digest (so an edit that makes it a factory re-checks).
        return self.digest_of(path) if self.cache is not None and self.cache.findings else ""

    def note_absent(self, importer: str, target: str, used: Dict[str, str]) -> None:
        """An import of the project that names no module yet: the files it
        would be are recorded as read and empty, so a result cached now is
        re-checked once one of them appears."""
        for candidate in self.layout.candidates(importer, target):
            used.setdefault(candidate, "")

    def _exported_factory(self, path: str, inside: Tuple[str, ...]) -> Tuple[bool, Dict[str, str]]:
        read: Dict[str, str] = {}
        summary = self.summary_of(path)
        read[path] = summary.digest() if summary is not None else ""
        if summary is None:
            return False, read
        view = ModuleView(self, path, summary, read, 1)
        if inside:
            return _is_factory(view, inside[0]), read
        # A whole module: its own factories, and functions returning another
        # module's (followed); methods inherited from other modules' bases are
        # not looked for here (that would read every base of every class).
        own = any(c.factory_methods or c.configured for c in summary.classes)
        return own or any(f.resource or (f.returns_call and _is_factory(view, f.name)) for f in summary.functions), read

    def view(self, path: str, summary: ModuleSummary, used: Dict[str, str]) -> "ModuleView":
        return ModuleView(self, path, summary, used, 0)

    def _key(self, text: str) -> str:
        from gclint.cache import summary_key

        return summary_key(text, self.factories)

    def _load(self, path: str) -> Optional[ModuleSummary]:
        from gclint.engine import SourceError, decode

        try:
            text = decode(read_regular_file(path, self.settings.max_file_size * 1024, follow=True))
        except (OSError, ValueError, SourceError):
            return None
        key = self._key(text)
        if key in self._by_text:
            return self._by_text[key]
        summary = self.cache.get_summary(key) if self.cache is not None else None
        if summary is None:
            summary = self._parse(path, text)
            if summary is not None and self.cache is not None:
                self.cache.put_summary(key, summary)
        self._by_text[key] = summary
        return summary

    def _parse(self, path: str, text: str) -> Optional[ModuleSummary]:
        from gclint.analysis import FileAnalysis
        from gclint.engine import SourceError, parse
        from gclint.names import NameResolver

        try:
            module = parse(text.lstrip("\ufeff"))
        except SourceError:
            return None
        self.parsed.append(path)
        return FileAnalysis(module, NameResolver(module), self.factories).local_summary.complete()


class ModuleView:
    """One module's summary as a file's rules read it: its own classes and
    functions completed with what their bases in other modules contribute,
    and the names it imports answered from the modules they come from.
    Every other module's summary it reads is recorded in `used`
    ({file: digest}), so a cached result can tell when it is stale."""

    def __init__(self, store: SummaryStore, path: str, summary: ModuleSummary, used: Dict[str, str], hops: int) -> None:
        self.store = store
        self.path = path
        self.local = summary
        self.used = used
        self.hops = hops
        self._classes: Dict[str, Optional[ClassSummary]] = {}
        self._functions: Dict[str, Optional[FunctionSummary]] = {}

    # The interface of ModuleSummary that rules use.
    @property
    def classes(self) -> Tuple[ClassSummary, ...]:
        return self.local.classes

    @property
    def functions(self) -> Tuple[FunctionSummary, ...]:
        return self.local.functions

    def cls(self, name: Optional[str]) -> Optional[ClassSummary]:
        if not name:
            return None
        if name not in self._classes:
            self._classes[name] = None  # a class that is its own base stops here
            self._classes[name] = self._find_class(name)
        return self._classes[name]

    def function(self, name: Optional[str]) -> Optional[FunctionSummary]:
        if not name:
            return None
        if name not in self._functions:
            self._functions[name] = None
            self._functions[name] = self._find_function(name)
        return self._functions[name]

    def imported_cls(self, target: str) -> Optional[ClassSummary]:
        """The class an import names (`.helpers.Keeper`, `pkg.mod.Cls`), as
        the file's name resolution gives it: imports inside functions too."""
        key = "\0" + target
        if key not in self._classes:
            self._classes[key] = None
            found = self._member(target)
            self._classes[key] = _known_constructor(found[0].cls(found[1])) if found is not None else None
        return self._classes[key]

    def imported_function(self, target: str) -> Optional[FunctionSummary]:
        key = "\0" + target
        if key not in self._functions:
            self._functions[key] = None
            found = self._member(target)
            self._functions[key] = found[0].function(found[1]) if found is not None else None
        return self._functions[key]

    def qualified(self, spelled: str) -> str:
        """`ABC` -> `abc.ABC` when the module imports it so."""
        first, dot, rest = spelled.partition(".")
        target = self.local.imported(first)
        return (target + dot + rest) if target else spelled

    def _read(self, path: str) -> Optional[ModuleSummary]:
        summary = self.store.summary_of(path)
        self.used[os.path.abspath(path)] = summary.digest() if summary is not None else ""
        return summary

    # -- finding

    def _find_class(self, name: str) -> Optional[ClassSummary]:
        local = self.local.cls(name)
        if local is not None:
            return self._completed(local)
        found = self._imported(name)
        if found is None:
            return None
        view, member = found
        summary = _known_constructor(view.cls(member))
        return replace(summary, name=name) if summary is not None else None

    def _find_function(self, name: str) -> Optional[FunctionSummary]:
        local = self.local.function(name)
        if local is not None:
            return self._with_resource(local)
        found = self._imported(name)
        if found is None:
            return None
        view, member = found
        summary = view.function(member)
        return replace(summary, name=name) if summary is not None else None

    def _imported(self, name: str) -> Optional[Tuple["ModuleView", str]]:
        """The module view and member name that `name` (as this module
        spells it) comes from, when it is an import of a project module."""
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            target = self.local.imported(".".join(parts[:cut]))
            if target is not None:
                return self._member(".".join([target, *parts[cut:]]))
        return None

    def _member(self, target: str) -> Optional[Tuple["ModuleView", str]]:
        if self.hops >= _MAX_HOPS:
            return None
        resolved = self.store.layout.resolve(self.path, target)
        if resolved is None:
            self.store.note_absent(self.path, target, self.used)
            return None
        path, inside = resolved
        if len(inside) != 1 or os.path.abspath(path) == os.path.abspath(self.path):
            return None
        summary = self._read(path)
        if summary is None:
            return None
        return ModuleView(self.store, path, summary, self.used, self.hops + 1), inside[0]

    # -- completing with bases from other modules

    def _completed(self, cls: ClassSummary) -> ClassSummary:
        cls = self._configured(cls)
        if not cls.bases:
            return cls
        bases = [self.cls(b) for b in cls.bases]
        known = all(s is not None and s.bases_known or self.qualified(b) in TRIVIAL_BASES for b, s in zip(cls.bases, bases))
        found = [b for b in bases if b is not None]
        if not found:
            return replace(cls, bases_known=known) if known != cls.bases_known else cls
        own = set(cls.methods)
        return replace(
            cls,
            stored_params=_constructor(cls, bases[0]),
            storing_methods=_inherit(cls.storing_methods, found, own, lambda b: b.storing_methods),
            blocking_methods=_inherit(cls.blocking_methods, found, own, lambda b: b.blocking_methods),
            factory_methods=_inherit(cls.factory_methods, found, own, lambda b: b.factory_methods),
            closure_methods=tuple(sorted({*cls.closure_methods, *(m for b in found for m in b.closure_methods if m not in own)})),
            releases=tuple(sorted({*cls.releases, *(a for b in found for a in b.releases)})),
            bases_known=known,
        )

    def _configured(self, cls: ClassSummary) -> ClassSummary:
        """Methods named `module.Class.method` in extend-resource-factories
        are factories (for `self.method()` here and in subclasses)."""
        names = [f"{module}.{cls.name}.{m}" for module in module_names(self.path, self.store.layout) for m in cls.methods]
        found = {n.rsplit(".", 1)[1]: self.store.factories[n] for n in names if n in self.store.factories}
        if not found:
            return cls
        factories = dict(cls.factory_methods)
        factories.update(found)
        return replace(cls, factory_methods=tuple(factories.items()), configured=tuple(sorted(found)))

    def _with_resource(self, function: FunctionSummary) -> FunctionSummary:
        """A function that returns what an imported factory returns is one."""
        if function.resource or not function.returns_call:
            return function
        found = self._member(function.returns_call)
        if found is None:
            return function
        view, member = found
        callee = view.function(member)
        if callee is not None and callee.resource:
            return replace(function, resource=callee.resource)
        return function


def _known_constructor(summary: Optional[ClassSummary]) -> Optional[ClassSummary]:
    if summary is None or (not summary.has_init and not summary.bases_known):
        return None  # its constructor comes from a base gclint cannot see: unknown, not "stores nothing"
    return summary


def _is_factory(view: "ModuleView", name: str) -> bool:
    function, cls = view.function(name), view.cls(name)
    return bool((function is not None and function.resource) or (cls is not None and (cls.factory_methods or cls.configured)))


def module_names(path: str, layout: Layout) -> Tuple[str, ...]:
    """The dotted names the module in `path` may be imported by: from its
    top package, and from the project root and its src/ (namespace packages)."""
    stem = os.path.splitext(os.path.abspath(path))[0]
    if os.path.basename(stem) == "__init__":
        stem = os.path.dirname(stem)
    names = []
    for base in (package_base(path), *layout.roots):
        if os.path.commonpath([stem, base]) == base and stem != base:
            names.append(os.path.relpath(stem, base).replace(os.sep, "."))
    return _unique(names)


def _inherit(own_items, bases: Sequence[ClassSummary], own: set, items_of) -> Tuple:
    merged: Dict[str, object] = {}
    for base in reversed(bases):
        merged.update((m, v) for m, v in items_of(base) if m not in own)
    merged.update(own_items)
    return tuple(merged.items())


def _constructor(cls: ClassSummary, base: Optional[ClassSummary]) -> Tuple[ParamRef, ...]:
    """What the constructor stores: its own stores, a base constructor's
    when it has none, and what it passes on to the base's (`super().__init__`)."""
    if base is None:
        return cls.stored_params
    found = dict.fromkeys(cls.stored_params)
    if not cls.has_init:
        found.update(dict.fromkeys(base.stored_params))
    for position, keyword, arg_position, arg_keyword in cls.forwards:
        for param in base.stored_params:
            if (arg_position >= 0 and param.position == arg_position) or (arg_keyword and param.keyword == arg_keyword):
                found.setdefault(ParamRef(position, keyword, param.attribute))
    return tuple(found)


def project_store(settings: "Settings", cache: Optional["Cache"]) -> SummaryStore:
    """The summary store for `settings`, one per cache object in a process."""
    if cache is None:
        return SummaryStore(settings, None)
    key = repr(settings)
    if key not in cache.stores:
        cache.stores[key] = SummaryStore(settings, cache)
    return cache.stores[key]


@contextmanager
def run_cache(cache: Optional["Cache"], settings: "Settings") -> Iterator["Cache"]:
    """`cache`, or for a run without one a summaries-only cache in a
    temporary directory (worker processes share it; nothing of it is kept)."""
    if cache is not None:
        yield cache
        return
    from gclint.cache import Cache

    directory = tempfile.mkdtemp(prefix="gclint-summaries-")
    try:
        yield Cache(directory, repr(settings), findings=False)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


_IMPORT_LINE = re.compile(rb"(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?([\w., \t]*)|import[ \t]+([\w., \t]+))")


def dependency_order(files: Sequence[str], settings: "Settings", cache: Optional["Cache"] = None) -> List[str]:
    """`files` with each file after the project modules it imports (as far
    as a scan of its import lines tells), so that a module's summary is
    usually made by the worker that checks it, before its importers need
    it; otherwise in the given order. The order only changes the cost.
    With `cache`, it also learns which of `files` some other one imports
    (`Cache.imported`): only those need a whole summary."""
    layout = Layout(settings.root)
    wanted = {os.path.abspath(f): f for f in files}
    ordered: List[str] = []
    state: Dict[str, int] = {}
    imported: set = set()
    for path in files:
        if os.path.abspath(path) not in state:
            _visit(os.path.abspath(path), wanted, layout, state, ordered, imported)
    if cache is not None:
        cache.imported = frozenset(imported)
    return ordered


def _visit(start: str, wanted: Mapping[str, str], layout: Layout, state: Dict[str, int], ordered: List[str], imported: set) -> None:
    def scanned(path: str) -> Iterator[str]:
        found = _scanned_imports(path, layout, wanted)
        imported.update(f for f in found if f != path)
        return iter(found)

    stack = [(start, scanned(start))]
    state[start] = 1
    while stack:
        path, pending = stack[-1]
        following = next((d for d in pending if d not in state), None)
        if following is not None:
            state[following] = 1
            stack.append((following, scanned(following)))
            continue
        stack.pop()
        ordered.append(wanted[path])


def _scanned_imports(path: str, layout: Layout, wanted: Mapping[str, str]) -> List[str]:
    try:  # never blocks on a FIFO, never reads more than the scan needs
        data = read_regular_file(path, 1 << 20, follow=True)
    except (OSError, ValueError, TooLarge):
        return []
    found = []
    for target in import_targets(data):
        resolved = layout.resolve(path, target)
        if resolved is not None and os.path.abspath(resolved[0]) in wanted:
            found.append(os.path.abspath(resolved[0]))
    return found


def import_targets(data: bytes) -> List[str]:
    """What the import lines of a module's text name ("pkg.mod", ".parser.Parser"),
    at any depth (imports inside functions too), as far as a line scan tells:
    a parenthesised name list is read up to the end of its first line."""
    found = []
    lines = (line.lstrip() for line in data.splitlines() if b"import" in line)
    for match in filter(None, (_IMPORT_LINE.match(line) for line in lines)):
        module, names, plain = (g.decode("latin-1") if g else "" for g in match.groups())
        if plain:
            found.extend(n.split(" as ")[0].strip() for n in plain.split(","))
            continue
        joiner = "" if module.endswith(".") else "."
        found.extend(module + joiner + n.split(" as ")[0].strip() for n in names.split(",") if n.strip())
    return found
