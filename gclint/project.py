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
from collections import deque
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Dict, FrozenSet, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from gclint.analysis.summaries import TRIVIAL_BASES, ClassSummary, FunctionSummary, LocalSummaries, ModuleSummary, ParamRef
from gclint.rule import spells_name
from gclint.safeio import TooLarge, read_regular_file

if TYPE_CHECKING:
    from gclint.cache import Cache
    from gclint.config import Settings

# Re-exports and base classes are followed this many modules deep at most.
_MAX_HOPS = 8
# How a cached result's record of a module ruled out by its text begins
# (a summary's digest is hex).
_TEXT_MARK = "text:"
# Imports are followed this many modules deep to rule a module out as a
# factory's home without parsing it; deeper, it is parsed.
_MAX_JUDGING = 40


class Layout:
    """Where the modules of the project live."""

    def __init__(self, root: Optional[str]) -> None:
        top = os.path.abspath(root or os.getcwd())
        self.roots = tuple(d for d in (top, os.path.join(top, "src")) if os.path.isdir(d))
        # Answers already looked up on the file system, for this run.
        self._files: Dict[Tuple[Tuple[str, ...], Tuple[str, ...]], Optional[str]] = {}
        self._bases: Dict[str, str] = {}
        self._entries: Dict[str, FrozenSet[str]] = {}

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

    def submodules(self, importer: str, target: str) -> FrozenSet[str]:
        """The names of the modules and directories inside the package
        `importer` imports as `target`, in every base it may be found in."""
        _, parts, bases = self._start(importer, target)
        found: Set[str] = set()
        for directory in (os.path.join(b, *parts) for b in bases):
            if directory not in self._entries:
                self._entries[directory] = _entries(directory)
            found.update(self._entries[directory])
        return frozenset(found)

    def _start(self, importer: str, target: str) -> Tuple[int, List[str], Tuple[str, ...]]:
        level = len(target) - len(target.lstrip("."))
        parts = [p for p in target[level:].split(".") if p]
        if level:
            start = os.path.dirname(os.path.abspath(importer))
            for _ in range(level - 1):
                start = os.path.dirname(start)
            top = self._package_base(importer)
            if os.path.commonpath([start, top]) != top:
                # Beyond the top-level package (Python refuses it too): never
                # a module, nor a directory, outside the tree being checked.
                return level, parts, ()
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


def factory_names(factories: Mapping[str, str]) -> Tuple[str, ...]:
    """The names a factory's home spells (a call, a configured method's def)."""
    return tuple(sorted({name.rsplit(".", 1)[-1] for name in factories}))


def package_base(path: str) -> str:
    """The directory holding the file's top package (its own directory when
    it is not in a package)."""
    directory = os.path.dirname(os.path.abspath(path))
    while os.path.isfile(os.path.join(directory, "__init__.py")) and os.path.dirname(directory) != directory:
        directory = os.path.dirname(directory)
    return directory


def _entries(directory: str) -> FrozenSet[str]:
    """The names a directory's modules and subdirectories are imported by."""
    try:
        names = os.listdir(directory)
    except OSError:
        return frozenset()
    stems = (n[:-3] if n.endswith(".py") else n for n in names)
    return frozenset(n for n in stems if n.isidentifier())


def _spelled_attributes(names: Iterable[str], text: str) -> List[str]:
    """Those of `names` that `text` may spell as an attribute (`.name`,
    spaces or a line continuation allowed after the dot)."""
    return [n for n in names if n in text and re.search(r"\.[\s\\]*" + n + r"\b", text)]


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
        self._factory_names = factory_names(self.factories)
        self.cache = cache
        self._by_text: Dict[str, Optional[ModuleSummary]] = {}
        self._by_file: Dict[str, Optional[ModuleSummary]] = {}
        self._checking: Dict[str, "LocalSummaries"] = {}
        # Per module file: whether it may be a factory's home, and what that
        # answer read (see ruled_out).
        self._verdicts: Dict[str, Tuple[bool, Dict[str, str]]] = {}
        # The judgement under way: modules being judged, those taken as
        # none meanwhile, and the verdicts waiting on that (see _verdict).
        self._judging: set = set()
        self._assumed: set = set()
        self._tentative: Dict[str, Tuple[bool, Dict[str, str]]] = {}
        self._outer_depth = 0  # modules being judged by the checks an early check runs inside
        self._marks_now: Dict[str, str] = {}
        # (module file, member or ()) -> the names of it that are factories, and the summaries read.
        self._exports: Dict[Tuple[str, Tuple[str, ...]], Tuple[Tuple[str, ...], Dict[str, str]]] = {}
        # Files whose summary was computed by parsing them (for tests and the bench).
        self.parsed: List[str] = []
        # Set by an in-process run: checks a file it has still to check now,
        # if it can; whether it did (gclint/runner.py).
        self.early: Optional[Callable[[str], bool]] = None

    def summary_of(self, path: str) -> Optional[ModuleSummary]:
        """The summary of the module in `path`, None when it cannot be read or parsed."""
        key = os.path.abspath(path)
        if key not in self._by_file:
            checking = self._checking.get(key)
            self._by_file[key] = checking.complete() if checking is not None else self._load(path)
        return self._by_file[key]

    @contextmanager
    def checking(self, path: str, local: "LocalSummaries") -> Iterator[None]:
        """While `path` is being checked, its own summary comes from its
        tree (a module in an import cycle is asked about by its own
        rules' questions about the others)."""
        key = os.path.abspath(path)
        self._checking[key] = local
        try:
            yield
        finally:
            del self._checking[key]

    def walking(self) -> Tuple[str, ...]:
        """The files whose trees are being walked now (see checking)."""
        return tuple(self._checking)

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
        """Whether the summaries a cached result used are still what they
        were: a summary's digest, or a text mark for a module ruled out by
        its text (any edit of it re-checks; it was never parsed)."""
        return all((self._current_mark(path) if digest.startswith(_TEXT_MARK) else self.digest_of(path)) == digest for path, digest in used)

    def imports_factory(self, path: str, text: str, used: Dict[str, str]) -> bool:
        """Whether the file imports, from a project module, a function that
        returns a fresh resource or a class with a factory method (or a
        module that defines one): the resource rules' text triggers name
        only built-in factories. The summaries read are recorded in `used`,
        as the rules' are, so a module that gains a factory re-checks it."""
        key = os.path.abspath(path)
        found, read = self._scan_imports(key, text)
        for module, digest in read.items():
            if module != key:
                used.setdefault(module, digest)
        return found

    def ruled_out(self, path: str) -> Optional[Dict[str, str]]:
        """None when the module may be a factory's home (a function
        returning a fresh resource, a class with a factory method, or a
        re-export of one); else what a result relying on its being none
        must record ({file: digest or text mark}).

        Told without parsing it: a module that names no factory can only
        be one by importing one, so its imports are judged the same way.
        Only a module naming a factory, or importing a possible one, is
        parsed, to see which of its names are."""
        home, read = self._verdict(os.path.abspath(path))
        return None if home else read

    def _verdict(self, key: str) -> Tuple[bool, Dict[str, str]]:
        """(whether the module may be a factory's home, what that read).

        Modules in an import cycle are judged together: one being judged
        is taken as none while its imports are, and every verdict of "none"
        made after that waits until the outermost judgement ends. If each
        module so taken proved none, they all stand (each recording what
        all of them read); else they are made again, knowing which proved
        a possible home (that is never taken back: it is only ever found
        by parsing). So each verdict is what parsing every module would say."""
        known = self._verdicts.get(key) or self._tentative.get(key)
        if known is not None:
            return known
        if key in self._judging:
            self._assumed.add(key)
            return False, {}
        if len(self._judging) + self._outer_depth >= _MAX_JUDGING:
            return True, {}  # too deep to follow: parsed instead, never wrong
        if self._judging:
            return self._judge(key)
        try:
            return self._outermost(key)
        finally:  # an error too: nothing of this judgement waits for another
            self._assumed.clear()
            self._tentative.clear()

    def _outermost(self, key: str) -> Tuple[bool, Dict[str, str]]:
        while True:
            verdict = self._judge(key)
            if not self._assumed:
                return verdict
            proved = not any(self._verdicts[k][0] for k in self._assumed if k in self._verdicts)
            if proved:
                together: Dict[str, str] = {}
                for _, read in self._tentative.values():
                    together.update(read)
                for k, (home, read) in self._tentative.items():
                    self._verdicts[k] = (home, {**together, **read})
            self._assumed.clear()
            self._tentative.clear()
            if proved:
                return self._verdicts[key]

    def _judge(self, key: str) -> Tuple[bool, Dict[str, str]]:
        self._judging.add(key)
        try:
            text = self._text(key)
            if text is None:
                verdict: Tuple[bool, Dict[str, str]] = (False, {key: ""})  # unreadable: no summary either
            elif any(spells_name(text, n) for n in self._factory_names):
                verdict = (True, {})
            else:
                found, read = self._scan_imports(key, text)
                verdict = (found, read if found else {key: self._mark_of(text) if self._marking else "", **read})
        finally:
            self._judging.discard(key)
        # A "none" made after a module was taken as none waits for that to be proved.
        waiting = not verdict[0] and self._assumed
        (self._tentative if waiting else self._verdicts)[key] = verdict
        return verdict

    def _scan_imports(self, path: str, text: str) -> Tuple[bool, Dict[str, str]]:
        """Whether the module in `path` with `text` imports a factory, and
        the summaries and marks that answer read: a name imported that is
        one, or a whole module imported whose factory the text spells
        (`conn.make_conn`, `x.Base` inheriting a factory method)."""
        read: Dict[str, str] = {}
        targets = deque(import_targets(text.encode("utf-8", "surrogateescape")))
        seen = set(targets)
        while targets:
            target = targets.popleft()
            resolved = self.layout.resolve(path, target)
            if resolved is None or not resolved[1]:
                # A package (a namespace one too) reaches into its modules
                # (`pkg.sub.make`) without importing them: each one spelled
                # is judged as if imported whole.
                inner = {f"{target}.{sub}" for sub in _spelled_attributes(self.layout.submodules(path, target), text)}
                targets.extend(sorted(inner - seen))
                seen |= inner
            if resolved is None:
                self.note_absent(path, target, read)
                continue
            if len(resolved[1]) > 1 or os.path.abspath(resolved[0]) == path:
                continue
            key = (os.path.abspath(resolved[0]), resolved[1])
            ruled_out = self.ruled_out(key[0])
            if ruled_out is not None:
                for module, digest in ruled_out.items():
                    read.setdefault(module, digest)
                continue
            if key not in self._exports:
                self._exports[key] = self._exported_factory(*key)
            names, exported = self._exports[key]
            read.update(exported)
            if any(spells_name(text, n) for n in names):
                return True, read
        return False, read

    @property
    def _marking(self) -> bool:
        # Text marks matter only to a cache of findings.
        return self.cache is not None and self.cache.findings

    def _current_mark(self, path: str) -> str:
        key = os.path.abspath(path)
        if key not in self._marks_now:
            text = self._text(key)
            self._marks_now[key] = self._mark_of(text) if text is not None else ""
        return self._marks_now[key]

    def _mark_of(self, text: str) -> str:
        return _TEXT_MARK + self._key(text.lstrip("\ufeff"))

    def note_absent(self, importer: str, target: str, used: Dict[str, str]) -> None:
        """An import of the project that names no module yet: the files it
        would be are recorded as read and empty, so a result cached now is
        re-checked once one of them appears."""
        for candidate in self.layout.candidates(importer, target):
            used.setdefault(candidate, "")

    def _exported_factory(self, path: str, inside: Tuple[str, ...]) -> Tuple[Tuple[str, ...], Dict[str, str]]:
        """The names a module's importers may reach a factory by, and the
        summaries that answer read: the member imported (`inside`) if it
        is one; for a whole module, each of its names that is one, as its
        importers read them (bases and imports followed). A summary reaches
        another module's members only as `module.name`, so an importer that
        can use one spells its name."""
        read: Dict[str, str] = {}
        summary = self.summary_of(path)
        read[path] = summary.digest() if summary is not None else ""
        if summary is None:
            return (), read
        view = ModuleView(self, path, summary, read, 1)
        names = inside or _unique([*(c.name for c in summary.classes), *(f.name for f in summary.functions), *(b for b, _ in summary.imports)])
        return tuple(n for n in names if _is_factory(view, n)), read

    def view(self, path: str, summary: ModuleSummary, used: Dict[str, str]) -> "ModuleView":
        return ModuleView(self, path, summary, used, 0)

    def _key(self, text: str) -> str:
        from gclint.cache import summary_key

        return summary_key(text, self.factories)

    def _text(self, path: str) -> Optional[str]:
        from gclint.engine import SourceError, decode

        try:
            return decode(read_regular_file(path, self.settings.max_file_size * 1024, follow=True))
        except (OSError, ValueError, SourceError):
            return None

    def _load(self, path: str) -> Optional[ModuleSummary]:
        text = self._text(path)
        if text is None:
            return None
        key = self._key(text)
        if key in self._by_text:
            return self._by_text[key]
        summary = self.cache.get_summary(key) if self.cache is not None else None
        if summary is None and self._checked_early(path):
            summary = self._by_text.get(key)
        if summary is None:
            summary = self._parse(path, text)
            if summary is not None and self.cache is not None:
                self.cache.put_summary(key, summary)
        self._by_text[key] = summary
        return summary

    def _checked_early(self, path: str) -> bool:
        """A file the run will check anyway is checked now, and its summary
        made from that parse. Its rules' questions start judgements of
        their own, which see only final verdicts, never the waiting ones
        of a judgement under way."""
        if self.early is None:
            return False
        under_way = self._judging, self._assumed, self._tentative
        self._outer_depth += len(self._judging)  # the stack they hold stays in use
        self._judging, self._assumed, self._tentative = set(), set(), {}
        try:
            return self.early(path)
        finally:
            self._judging, self._assumed, self._tentative = under_way
            self._outer_depth -= len(self._judging)

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

    def imported_factory_kind(self, target: str) -> Optional[str]:
        """The kind of resource the function an import names returns fresh,
        None when none or unknown: a module ruled out as a factory's home
        is not parsed to learn that it has none."""
        resolved = self.store.layout.resolve(self.path, target)
        ruled_out = self.store.ruled_out(resolved[0]) if resolved is not None else None
        if ruled_out is not None:
            for module, digest in ruled_out.items():
                self.used.setdefault(module, digest)
            return None
        function = self.imported_function(target)
        return function.resource or None if function is not None else None

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


# A name is ASCII word characters and the bytes of UTF-8 encoded non-ASCII
# ones (`öffne`); spaces, tabs and form feeds may separate the parts of a
# dotted name (`from . conn import x`, `import pkg . conn`).
_IMPORT_LINE = re.compile(
    rb"(?:from[ \t\f]+((?:\.[ \t\f]*)*(?:[\w\x80-\xff][\w\x80-\xff. \t\f]*?)?)(?:[ \t\f]+|(?<=\.))import[ \t\f]+\(?([\w\x80-\xff., \t\f]*)"
    rb"|import[ \t\f]+([\w\x80-\xff., \t\f]+))"
)
_SPACE = re.compile(rb"[ \t\f]+")
_AS = re.compile(rb"[ \t\f]+as[ \t\f]+")
# Where an import statement may begin on a line: its start, or after `;`
# or a compound statement's `:`.
_STATEMENT_START = re.compile(rb"(?:^[ \t\f]*|[;:][ \t\f]*)(?=(?:from|import)\b)")
# A line that starts a statement, not a name in an import's list.
_STATEMENT = re.compile(rb"(?:def|class|if|for|while|with|try|return|from|import)\b|\w+[ \t]*=")
# An import's name list is read this many lines at most.
_MAX_CONTINUED = 500


def dependency_order(files: Sequence[str], settings: "Settings", cache: Optional["Cache"] = None) -> List[str]:
    """`files` with each file after the project modules it imports (as far
    as a scan of its import lines tells), so that a module's summary is
    usually made by the worker that checks it, before its importers need
    it; otherwise in the given order. The order only changes the cost.

    Modules in an import cycle come together; first those naming a
    resource factory, whose summaries the others' questions need (a module
    naming none is judged from its imports without being parsed).
    With `cache`, it also learns which of `files` some other one imports
    (`Cache.imported`): only those need a whole summary."""
    from gclint.analysis.resources import factory_table

    layout = Layout(settings.root)
    wanted = {os.path.abspath(f): f for f in files}
    names = tuple(n.encode() for n in factory_names(factory_table(settings.extend_resource_factories)))
    imported: set = set()
    home: Dict[str, bool] = {}

    def scanned(path: str) -> Iterator[str]:
        found, home[path] = _scanned_imports(path, layout, wanted, names)
        imported.update(f for f in found if f != path)
        return iter(found)

    ordered: List[str] = []
    finished: Dict[str, int] = {}
    for component in _components([os.path.abspath(f) for f in files], scanned, finished):
        ordered.extend(wanted[m] for m in sorted(component, key=lambda m: (not home[m], finished[m])))
    if cache is not None:
        cache.imported = frozenset(imported)
    return ordered


def _components(roots: Sequence[str], edges: Callable[[str], Iterator[str]], finished: Dict[str, int]) -> Iterator[List[str]]:
    """The strongly connected components of the graph from `roots`, each
    after every component it reaches (Tarjan's, without recursion);
    `finished` receives each node's place in the depth-first finish order."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: set = set()
    for root in roots:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, edges(root))]
        while work:
            path, pending = work[-1]
            following = next(pending, None)
            if following is not None:
                if following not in index:
                    index[following] = low[following] = len(index)
                    stack.append(following)
                    on_stack.add(following)
                    work.append((following, edges(following)))
                elif following in on_stack:
                    low[path] = min(low[path], index[following])
                continue
            work.pop()
            finished[path] = len(finished)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[path])
            if low[path] == index[path]:
                component = []
                while not component or component[-1] != path:
                    component.append(stack.pop())
                    on_stack.discard(component[-1])
                yield component


def _scanned_imports(path: str, layout: Layout, wanted: Mapping[str, str], names: Sequence[bytes]) -> Tuple[List[str], bool]:
    """The files of `wanted` that the module imports, and whether its text
    names a resource factory."""
    try:  # never blocks on a FIFO, never reads more than the scan needs
        data = read_regular_file(path, 1 << 20, follow=True)
    except (OSError, ValueError, TooLarge):
        return [], False
    found = []
    for target in import_targets(data):
        resolved = layout.resolve(path, target)
        if resolved is not None and os.path.abspath(resolved[0]) in wanted:
            found.append(os.path.abspath(resolved[0]))
    return found, any(n in data for n in names)


def import_targets(data: bytes) -> List[str]:
    """What the import statements of a module's text name ("pkg.mod",
    ".parser.Parser"), at any depth (imports inside functions too), as far
    as a line scan tells: a parenthesised name list and backslash
    continuations are read to their end, comments left out, and an import
    after `;` or a compound statement's `:` (`try: import x`) counts too
    (one in a string only adds a name that resolves to nothing or more)."""
    found = []
    lines = data.splitlines()
    for index, line in enumerate(lines):
        if b"import" not in line:
            continue
        for start in _STATEMENT_START.finditer(line):
            match = _IMPORT_LINE.match(line, start.end())
            if match is not None and _continues(line[start.end():]):
                match = _IMPORT_LINE.match(_logical_line([line[start.end():], *lines[index + 1:index + _MAX_CONTINUED]]))
            if match is not None:
                _add_targets(found, match)
    return found


def _add_targets(found: List[str], match: "re.Match[bytes]") -> None:
    module, names, plain = _SPACE.sub(b"", match.group(1) or b""), match.group(2), match.group(3)
    if plain:
        for part in plain.split(b","):
            name, *alias = _AS.split(part.strip(), 1)
            dotted = _decoded(_SPACE.sub(b"", name))
            if not alias:  # `import a.b.c` binds `a`: every `a.x` may be reached through it
                parts = dotted.split(".")
                found.extend(".".join(parts[:cut]) for cut in range(1, len(parts)))
            found.append(dotted)
        return
    prefix = _decoded(module)
    joiner = "" if prefix.endswith(".") else "."
    for part in (names or b"").split(b","):
        name = _SPACE.sub(b"", _AS.split(part.strip(), 1)[0])
        if name:
            found.append(prefix + joiner + _decoded(name))


def _decoded(name: bytes) -> str:
    return name.decode("utf-8", "replace")


def _continues(line: bytes) -> bool:
    """Whether an import statement goes on past this line: an open
    parenthesis not closed on it, or a trailing backslash."""
    code = line.split(b"#", 1)[0].rstrip()
    return code.endswith(b"\\") or (b"(" in code and b")" not in code)


def _logical_line(lines: Sequence[bytes]) -> bytes:
    """The import statement that starts `lines`, its lines joined and
    comments dropped; a name list that is never closed (a syntax error)
    ends where the next statement begins."""
    parenthesised = b"(" in lines[0].split(b"#", 1)[0]
    parts: List[bytes] = []
    for line in lines:
        code = line.split(b"#", 1)[0].strip()
        if parts and parenthesised and _STATEMENT.match(code):
            break
        parts.append(code.rstrip(b"\\"))
        if (b")" in code) if parenthesised else not code.endswith(b"\\"):
            break
    return b" ".join(parts).replace(b"(", b" ").replace(b")", b" ")
