"""Project-wide summaries: a file's findings use what the project modules
it imports say, every door agrees, and the cache knows which summaries a
result used."""
import json
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

import gclint.runner as runner
from conftest import FIXTURES, expectations
from gclint.analysis.resources import FACTORY_TRIGGERS
from gclint.analysis.summaries import ModuleSummary
from gclint.cache import Cache
from gclint.config import Settings
from gclint.engine import lint_source
from gclint.project import Layout, SummaryStore
from gclint.runner import lint_files

SHOP = FIXTURES / "project" / "shop"
EVERY_RULE = Settings(select=("GCL",))


def write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def found(path, settings=EVERY_RULE):
    return sorted((f.line, f.code) for f in lint_source(path.read_bytes(), str(path), settings, SummaryStore(settings)))


def alone(path, settings=EVERY_RULE):
    return sorted((f.line, f.code) for f in lint_source(path.read_bytes(), str(path), settings))


# -- the fixture package: findings only from another module's summary


def test_the_shop_findings_come_only_from_the_helpers_summary():
    orders = SHOP / "orders.py"
    assert found(orders) == sorted(expectations(orders))
    assert len(expectations(orders)) == 4
    assert alone(orders) == []  # the same file read alone: nothing to see


def _json_findings(done):
    return sorted((f["line"], f["code"], f["message"]) for f in json.loads(done.stdout))


def _check(*args, cwd):
    return subprocess.run([sys.executable, "-m", "gclint", "check", "--no-cache", "--format", "json", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def _flake8(target, cwd):
    done = subprocess.run([sys.executable, "-m", "flake8", "--select", "GCL", target], cwd=cwd, capture_output=True, text=True, timeout=300)
    lines = [line.split(":", 3) for line in done.stdout.splitlines() if line]
    return sorted((int(line), text.split(" ", 2)[1], text.split(" ", 2)[2]) for _, line, _, text in lines)


def test_check_on_the_package_on_one_file_and_flake8_on_one_file_agree(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "project", project)
    (project / "pyproject.toml").write_text('[tool.gclint]\nselect = ["GCL"]\n')
    whole = _check("shop", cwd=project)
    one = _check("shop/orders.py", cwd=project)
    assert whole.returncode == one.returncode == 1, whole.stderr + one.stderr
    assert len(_json_findings(whole)) == 4 and _json_findings(whole) == _json_findings(one)
    first = _flake8("shop/orders.py", project)
    assert first == _json_findings(one)
    assert _flake8("shop/orders.py", project) == first  # served from the cache the first run wrote


def test_the_precommit_hook_on_the_changed_file_alone_agrees(tmp_path):
    pytest.importorskip("pre_commit")
    from conftest import ROOT

    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "project", repo)
    (repo / "pyproject.toml").write_text('[tool.gclint]\nselect = ["GCL"]\n')
    env = {**__import__("os").environ, "PRE_COMMIT_HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "xdg"),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q"], ["add", "."]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "gclint", "--files", "shop/orders.py", "--verbose"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    reported = sorted((int(m.group(1)), m.group(2)) for m in re.finditer(r"^shop/orders\.py:(\d+):\d+: (GCL\d+)", done.stdout, re.M))
    assert reported == sorted(expectations(SHOP / "orders.py"))
    assert "4 findings in 1 file checked." in done.stdout


# -- the cache: a result is keyed by the summaries it used

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/parser.py": """\
        class ResponseParser:
            def __init__(self, owner):
                self.owner = owner
    """,
    "pkg/protocol.py": """\
        from .parser import ResponseParser

        class Protocol:
            def __init__(self):
                self.parser = ResponseParser(self)
    """,
    "pkg/unrelated.py": """\
        import gc

        def tidy():
            gc.collect()
    """,
}
WEAK_PARSER = """\
    import weakref

    class ResponseParser:
        def __init__(self, owner):
            self.owner = weakref.ref(owner)
"""


def _linted_files(monkeypatch):
    """The files the runner checks (not served from the cache)."""
    checked = []
    real = runner.lint_source

    def counting(source, path, *args, **kwargs):
        checked.append(path.rsplit("/", 1)[-1])
        return real(source, path, *args, **kwargs)

    monkeypatch.setattr(runner, "lint_source", counting)
    return checked


def _run(root, cache):
    files = sorted(str(p) for p in root.rglob("*.py"))
    return [(f.path.rsplit("/", 1)[-1], f.line, f.code) for f in lint_files(files, EVERY_RULE, cache=cache).findings]


def test_editing_the_helper_module_changes_the_dependent_files_findings(tmp_path, monkeypatch):
    root = write(tmp_path / "src", PACKAGE)
    cache = Cache(str(tmp_path / "cache"), "s")
    assert _run(root, cache) == [("protocol.py", 5, "GCL204")]
    (root / "pkg" / "parser.py").write_text(textwrap.dedent(WEAK_PARSER))
    checked = _linted_files(monkeypatch)
    assert _run(root, Cache(str(tmp_path / "cache"), "s")) == []
    # Only the edited module and the module that read its summary were checked again.
    assert sorted(checked) == ["parser.py", "protocol.py"]


def test_an_edit_that_leaves_the_summary_unchanged_rechecks_only_that_file(tmp_path, monkeypatch):
    root = write(tmp_path / "src", PACKAGE)
    _run(root, Cache(str(tmp_path / "cache"), "s"))
    parser = root / "pkg" / "parser.py"
    parser.write_text(parser.read_text() + "\n# a comment changes the text, not the summary\n")
    checked = _linted_files(monkeypatch)
    assert _run(root, Cache(str(tmp_path / "cache"), "s")) == [("protocol.py", 5, "GCL204")]
    assert checked == ["parser.py"]


def test_a_warm_run_checks_nothing(tmp_path, monkeypatch):
    root = write(tmp_path / "src", PACKAGE)
    first = _run(root, Cache(str(tmp_path / "cache"), "s"))
    checked = _linted_files(monkeypatch)
    assert _run(root, Cache(str(tmp_path / "cache"), "s")) == first and checked == []


def test_each_module_is_parsed_once_per_run_without_a_cache(tmp_path):
    root = write(tmp_path / "src", PACKAGE)
    store = SummaryStore(EVERY_RULE)
    protocol = root / "pkg" / "protocol.py"
    for _ in range(2):
        lint_source(protocol.read_bytes(), str(protocol), EVERY_RULE, store)
    assert [p.rsplit("/", 1)[-1] for p in store.parsed] == ["parser.py"]


# -- resolution: layouts, spellings, unknowns

USERS = {
    "relative": ("pkg/user.py", "from .helpers import Keeper\n\nclass User:\n    def __init__(self):\n        self.k = Keeper(self)\n"),
    "relative-module": ("pkg/user.py", "from . import helpers\n\nclass User:\n    def __init__(self):\n        self.k = helpers.Keeper(self)\n"),
    "absolute-as": ("pkg/user.py", "import pkg.helpers as h\n\nclass User:\n    def __init__(self):\n        self.k = h.Keeper(self)\n"),
    "absolute-dotted": ("pkg/user.py", "import pkg.helpers\n\nclass User:\n    def __init__(self):\n        self.k = pkg.helpers.Keeper(self)\n"),
    "from-absolute": ("pkg/user.py", "from pkg.helpers import Keeper as K\n\nclass User:\n    def __init__(self):\n        self.k = K(self)\n"),
    "parent-relative": ("pkg/sub/user.py", "from ..helpers import Keeper\n\nclass User:\n    def __init__(self):\n        self.k = Keeper(self)\n"),
    "re-exported": ("other/user.py", "from pkg import Keeper\n\nclass User:\n    def __init__(self):\n        self.k = Keeper(self)\n"),
}
HELPERS = "class Keeper:\n    def __init__(self, owner):\n        self.owner = owner\n"


@pytest.mark.parametrize("layout", ["", "src/"], ids=["flat", "src"])
@pytest.mark.parametrize("spelling", sorted(USERS))
def test_imports_resolve_in_flat_and_src_layouts(tmp_path, spelling, layout):
    user, text = USERS[spelling]
    files = {"pyproject.toml": "[tool.gclint]\n", f"{layout}pkg/__init__.py": "from .helpers import Keeper\n",
             f"{layout}pkg/helpers.py": HELPERS, f"{layout}pkg/sub/__init__.py": "", f"{layout}{user}": text}
    root = write(tmp_path, files)
    settings = Settings(select=("GCL",), root=str(root))
    assert found(root / layout / user, settings) == [(5, "GCL204")]


def test_namespace_packages_resolve(tmp_path):
    # `ns` has no __init__.py; absolute imports are found from the project root.
    root = write(tmp_path, {"ns/pkg/__init__.py": "", "ns/pkg/helpers.py": HELPERS,
                            "ns/app/__init__.py": "", "ns/app/user.py": USERS["from-absolute"][1].replace("pkg.", "ns.pkg.")})
    settings = Settings(select=("GCL",), root=str(root))
    assert found(root / "ns" / "app" / "user.py", settings) == [(5, "GCL204")]


@pytest.mark.parametrize("text", [
    "from elsewhere import Keeper\n\nclass User:\n    def __init__(self):\n        self.k = Keeper(self)\n",
    "from .missing import Keeper\n\nclass User:\n    def __init__(self):\n        self.k = Keeper(self)\n",
    "from .broken import Keeper\n\nclass User:\n    def __init__(self):\n        self.k = Keeper(self)\n",
], ids=["third-party", "no-such-module", "unparsable-module"])
def test_what_cannot_be_resolved_stays_unknown(tmp_path, text):
    root = write(tmp_path, {"pkg/__init__.py": "", "pkg/broken.py": "class Keeper(:\n", "pkg/user.py": text})
    assert found(root / "pkg" / "user.py") == []


def test_a_constructor_forwarding_to_a_base_in_another_module_stores_what_the_base_stores(tmp_path):
    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/base.py": "class Node:\n    def __init__(self, parent, name=''):\n        self.parent = parent\n",
        "pkg/user.py": """\
            from .base import Node

            class Child(Node):
                def __init__(self, owner):
                    super().__init__(owner, name='child')

            class Tree:
                def __init__(self):
                    self.child = Child(self)
        """,
    })
    assert found(root / "pkg" / "user.py") == [(9, "GCL204")]


def test_a_factory_of_another_module_is_followed_through_a_third(tmp_path):
    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/files.py": "def raw(path):\n    return open(path)\n",
        "pkg/logs.py": "from .files import raw\n\ndef open_log(path):\n    return raw(path)\n",
        "pkg/user.py": "from .logs import open_log\n\ndef read(path):\n    f = open_log(path)\n    return f.read()\n",
    })
    assert found(root / "pkg" / "user.py") == [(4, "GCL301")]


def test_a_class_whose_base_closes_the_attribute_is_not_flagged_and_one_whose_base_is_unknown_is_skipped(tmp_path):
    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/base.py": "class Closing:\n    def close(self):\n        self.f.close()\n\nclass Plain:\n    pass\n",
        "pkg/user.py": """\
            from third_party import Unknown
            from .base import Closing, Plain

            class A(Closing):
                def start(self, path):
                    self.f = open(path)

            class B(Plain):
                def start(self, path):
                    self.f = open(path)

            class C(Unknown):
                def start(self, path):
                    self.f = open(path)
        """,
    })
    assert found(root / "pkg" / "user.py") == [(10, "GCL305")]


def test_the_layout_refuses_a_link_that_leaves_the_project(tmp_path):
    outside = write(tmp_path / "outside", {"helpers.py": HELPERS})
    root = write(tmp_path / "project", {"pkg/__init__.py": "", "pkg/user.py": USERS["relative"][1]})
    (root / "pkg" / "helpers.py").symlink_to(outside / "helpers.py")
    assert Layout(str(root)).resolve(str(root / "pkg" / "user.py"), ".helpers.Keeper") is None
    assert found(root / "pkg" / "user.py") == []


# -- summaries are plain data


def test_a_summary_survives_the_cache_and_a_damaged_one_is_refused(tmp_path):
    store = SummaryStore(EVERY_RULE, Cache(str(tmp_path / "c"), "s"))
    summary = store.summary_of(str(SHOP / "helpers.py"))
    assert summary is not None and summary.cls("Connection").factory("_new_socket") == "socket"
    assert summary.function("open_log").resource == "file"
    assert ModuleSummary.from_dict(json.loads(json.dumps(summary.to_dict()))) == summary
    damaged = summary.to_dict()
    damaged["classes"][0]["stored_params"] = [[0, 1, "owner"]]
    with pytest.raises(ValueError):
        ModuleSummary.from_dict(damaged)


def test_a_configured_method_factory_is_followed_into_subclasses_in_other_modules(tmp_path):
    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/pool.py": "class Pool:\n    def connect(self):\n        return self._make()\n",
        "pkg/user.py": """\
            from pkg.pool import Pool

            class Worker(Pool):
                def start(self):
                    self.conn = self.connect()

            def use():
                c = Pool.connect(None)
                c.send(b"x")
        """,
    })
    settings = Settings(select=("GCL",), root=str(root), extend_resource_factories=("pkg.pool.Pool.connect",))
    assert found(root / "pkg" / "user.py", settings) == [(5, "GCL305"), (8, "GCL301")]
    assert found(root / "pkg" / "user.py") == []  # not configured: nothing known about connect()


@pytest.mark.parametrize("conversion, stored", [
    ("if isinstance(target, str):\n            target = load(target)", True),  # on the other path it is the argument
    ("target = load(target)", False),
    ("if target is not None:\n            target = weakref.ref(target)", False),
], ids=["conditional", "unconditional", "weakened"])
def test_a_parameter_converted_before_it_is_stored(tmp_path, conversion, stored):
    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/rule.py": f"import weakref\n\nclass Rule:\n    def __init__(self, target):\n        {conversion}\n        self.target = target\n",
        "pkg/app.py": "from .rule import Rule\n\nclass App:\n    def __init__(self):\n        self.rule = Rule(self)\n",
    })
    assert found(root / "pkg" / "app.py") == ([(5, "GCL204")] if stored else [])


def test_a_class_whose_constructor_comes_from_an_unknown_base_stays_unknown(tmp_path):
    # TestSuite(tests) of a subclass of unittest's TestSuite keeps its tests: gclint must not
    # read "stores nothing" from a summary that simply does not know the constructor.
    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/suite.py": "from third_party import Base\n\nclass Suite(Base):\n    def run(self):\n        pass\n",
        "pkg/user.py": "from .suite import Suite\n\nclass T:\n    def setUp(self):\n        self.suite = Suite([self.check])\n\n    def check(self):\n        pass\n",
    })
    assert found(root / "pkg" / "user.py") == alone(root / "pkg" / "user.py")


# -- the resource rules' cheap pre-filter knows other modules' factories

@pytest.mark.parametrize("user", [
    "from .logs import make_log\n\ndef read(path):\n    f = make_log(path)\n    return f.read()\n",
    "from . import logs\n\ndef read(path):\n    f = logs.make_log(path)\n    return f.read()\n",
    "from .reexport import make_log\n\ndef read(path):\n    f = make_log(path)\n    return f.read()\n",
], ids=["from-import", "module-import", "re-exported"])
def test_a_file_naming_only_an_imported_factory_is_checked_by_the_resource_rules(tmp_path, user):
    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/logs.py": "def make_log(path):\n    return open(path)\n",
        "pkg/reexport.py": "from .logs import make_log\n",
        "pkg/user.py": user,
    })
    assert not any(t in user for t in FACTORY_TRIGGERS)  # no built-in factory's name: the text alone skips the rules
    assert found(root / "pkg" / "user.py") == [(4, "GCL301")]


USER_OF = "from .{0} import make_log\n\ndef read(path):\n    f = make_log(path)\n    return f.read()\n"


@pytest.mark.parametrize("files, edited, rechecked", [
    ({"pkg/logs.py": "def make_log(path):\n    return path\n", "pkg/user.py": USER_OF.format("logs")},
     "logs.py", ["logs.py", "user.py"]),
    # Two imports away: the user recorded what ruling mid out read.
    ({"pkg/logs.py": "def make_log(path):\n    return path\n", "pkg/mid.py": "from .logs import make_log\n",
      "pkg/user.py": USER_OF.format("mid")},
     "logs.py", ["logs.py", "mid.py", "user.py"]),
], ids=["imported-directly", "two-imports-away"])
def test_a_module_that_becomes_a_factory_rechecks_a_file_the_pre_filter_skipped(tmp_path, monkeypatch, files, edited, rechecked):
    root = write(tmp_path / "src", {"pkg/__init__.py": "", **files})
    assert _run(root, Cache(str(tmp_path / "cache"), "s")) == []
    (root / "pkg" / edited).write_text("def make_log(path):\n    return open(path)\n")
    checked = _linted_files(monkeypatch)
    assert _run(root, Cache(str(tmp_path / "cache"), "s")) == [("user.py", 4, "GCL301")]
    assert sorted(checked) == rechecked


# -- imports inside functions: followed, in their own scope only

def test_an_import_inside_a_function_is_followed_in_that_function_only(tmp_path):
    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/helpers.py": HELPERS,
        "pkg/plain.py": "class Keeper:\n    def __init__(self, owner):\n        self.name = str(owner)\n",
        "pkg/user.py": """\
            from .plain import Keeper

            class Inside:
                def __init__(self):
                    from .helpers import Keeper
                    self.k = Keeper(self)

            class Outside:
                def __init__(self):
                    self.k = Keeper(self)
        """,
    })
    # Only the function that imports the storing Keeper makes a cycle; the other uses plain.Keeper.
    assert found(root / "pkg" / "user.py") == [(6, "GCL204")]


def test_a_factory_imported_inside_a_function_is_followed(tmp_path):
    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/logs.py": "def make_log(path):\n    return open(path)\n",
        "pkg/user.py": "def read(path):\n    from .logs import make_log\n    f = make_log(path)\n    return f.read()\n",
    })
    assert found(root / "pkg" / "user.py") == [(3, "GCL301")]


# -- a module that appears later re-checks the files that import it

def test_a_module_created_after_a_cached_run_rechecks_its_importers(tmp_path, monkeypatch):
    root = write(tmp_path / "src", {
        "pkg/__init__.py": "",
        "pkg/user.py": USERS["relative"][1],
        "pkg/other.py": "import numpy\n\nclass Other:\n    pass\n",
    })
    assert _run(root, Cache(str(tmp_path / "cache"), "s")) == []
    checked = _linted_files(monkeypatch)
    assert _run(root, Cache(str(tmp_path / "cache"), "s")) == [] and checked == []  # nothing appeared: all cached
    (root / "pkg" / "helpers.py").write_text(HELPERS)
    assert _run(root, Cache(str(tmp_path / "cache"), "s")) == [("user.py", 5, "GCL204")]
    # The new module and the file whose import it resolves; not other.py (its import is third-party).
    assert sorted(checked) == ["helpers.py", "user.py"]


# -- a module's being no factory's home is told without parsing it

DEFAULT = Settings()


def _names(paths):
    return sorted(p.rsplit("/", 1)[-1] for p in paths)


@pytest.mark.parametrize("made, findings, parsed", [
    ("path", [], []),
    ("open(path)", [(4, "GCL301")], ["base.py", "mid.py"]),
], ids=["no-factory-down-the-chain", "a-factory-two-imports-away"])
def test_a_module_naming_no_factory_is_parsed_only_when_an_import_may_be_a_factory(tmp_path, made, findings, parsed):
    # mid names no factory and imports base: it is ruled out from base's
    # text when base names none, and parsed and followed when base does.
    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/base.py": f"def make(path):\n    return {made}\n",
        "pkg/mid.py": "from .base import make\n\ndef again(path):\n    return make(path)\n",
        "pkg/user.py": "from .mid import again\n\ndef read(path):\n    f = again(path)\n    return f.read()\n",
    })
    store = SummaryStore(DEFAULT)
    user = root / "pkg" / "user.py"
    assert [(f.line, f.code) for f in lint_source(user.read_bytes(), str(user), DEFAULT, store)] == findings
    assert _names(store.parsed) == parsed


CYCLE = {
    "pkg/__init__.py": "",
    "pkg/logs.py": "def make_log(path):\n    return open(path)\n",
    # d and e import each other; e re-exports d's factory, d re-exports e's name.
    "pkg/d.py": "from .e import f as g\nfrom .logs import make_log as f\n",
    "pkg/e.py": "from .d import f\n",
    "pkg/via_d.py": "from .d import g\n\ndef read(path):\n    x = g(path)\n    return x.read()\n",
    "pkg/via_e.py": "from .e import f\n\ndef read(path):\n    x = f(path)\n    return x.read()\n",
}


@pytest.mark.parametrize("first", ["via_d.py", "via_e.py"])
def test_modules_in_an_import_cycle_are_judged_as_parsing_them_would(tmp_path, first):
    # Judging d takes e as none while e's own import of d is judged; d then
    # proves a factory's home, so e's verdict is made again, not kept.
    root = write(tmp_path, CYCLE)
    store = SummaryStore(DEFAULT)
    order = [first, ({"via_d.py", "via_e.py"} - {first}).pop()]
    results = {}
    for name in order:
        path = root / "pkg" / name
        results[name] = sorted((f.line, f.code) for f in lint_source(path.read_bytes(), str(path), DEFAULT, store))
    assert results == {"via_d.py": [(4, "GCL301")], "via_e.py": [(4, "GCL301")]}


def test_the_module_being_checked_is_not_parsed_again_for_its_own_summary(tmp_path):
    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from .b import helper\n\ndef make(path):\n    return open(path)\n\ndef use():\n    f = helper()\n    return f.read()\n",
        "pkg/b.py": "from .a import make\n\ndef helper():\n    return make('x')\n",
    })
    store = SummaryStore(DEFAULT)
    a = root / "pkg" / "a.py"
    assert [(f.line, f.code) for f in lint_source(a.read_bytes(), str(a), DEFAULT, store)] == [(7, "GCL301")]
    assert _names(store.parsed) == ["b.py"]


def test_modules_in_an_import_cycle_are_ordered_those_naming_a_factory_first(tmp_path):
    from gclint.project import dependency_order

    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/plain.py": "from . import io_side\n\ndef name():\n    return 'x'\n",
        "pkg/io_side.py": "from . import plain\n\ndef make(path):\n    return open(path)\n",
        "pkg/top.py": "from . import plain\n",
        "pkg/leaf.py": "X = 1\n",
    })
    files = [str(root / "pkg" / n) for n in ("io_side.py", "plain.py", "top.py", "leaf.py", "__init__.py")]
    ordered = [p.rsplit("/", 1)[-1] for p in dependency_order(files, DEFAULT)]
    assert ordered.index("io_side.py") < ordered.index("plain.py") < ordered.index("top.py")
    assert sorted(ordered) == sorted(p.rsplit("/", 1)[-1] for p in files)


# -- the import scan reads whole statements

def test_the_import_scan_reads_parenthesised_lists_and_continued_lines():
    from gclint.project import import_targets

    text = textwrap.dedent("""\
        import os, sys as system
        from . import (a,
            b,  # the b
            c as d)
        from .x import \\
            y, z
        def f():
            from ..p.q import (
                r,
            )
        from broken import (
        value = 1
        from .m import *
    """).encode()
    assert import_targets(text) == ["os", "sys", ".a", ".b", ".c", ".x.y", ".x.z", "..p.q.r"]


def test_a_factory_imported_in_a_parenthesised_list_is_followed(tmp_path):
    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/logs.py": "def make_log(path):\n    return open(path)\n\ndef other():\n    pass\n",
        "pkg/user.py": "from .logs import (\n    other,\n    make_log,\n)\n\ndef read(path):\n    f = make_log(path)\n    return f.read()\n",
    })
    assert found(root / "pkg" / "user.py", DEFAULT) == [(7, "GCL301")]


CYCLE_RUN = {
    "pkg/__init__.py": "",
    "pkg/a.py": "from .b import helper\n\ndef make(path):\n    return open(path)\n\ndef use():\n    f = helper()\n    return f.read()\n",
    "pkg/b.py": "from .a import make\n\ndef helper():\n    return make('x')\n\ndef leak():\n    f = make('y')\n    f.read()\n",
}


@pytest.mark.parametrize("largest, parses", [(300, 2), (0, 3)], ids=["room-for-both", "only-one-tree-at-a-time"])
def test_a_run_parses_each_module_of_an_import_cycle_once(tmp_path, monkeypatch, largest, parses):
    # a's rules ask about b's helper before b's turn: b is checked then, and
    # b's own question about a is answered from a's tree being checked. Not
    # when a's and b's source together outweigh the run's largest file: the
    # peak memory stays that file's, and b is parsed for its summary, then
    # again in its turn.
    files = dict(CYCLE_RUN, **({"pkg/big.py": "X = '" + "x" * largest + "'\n"} if largest else {}))
    root = write(tmp_path / "src", files)
    import gclint.engine as engine
    from gclint.project import project_store

    parsed = []
    real = engine.parse
    monkeypatch.setattr(engine, "parse", lambda text, *a, **k: parsed.append(len(text)) or real(text, *a, **k))
    cache = Cache(str(tmp_path / "cache"), "s")
    paths = sorted(str(p) for p in root.rglob("*.py"))
    result = lint_files(paths, DEFAULT, cache=cache)
    expected = [("a.py", 7, "GCL301"), ("b.py", 7, "GCL301")]
    assert sorted((f.path.rsplit("/", 1)[-1], f.line, f.code) for f in result.findings) == expected
    assert len(parsed) == parses
    assert _names(project_store(DEFAULT, cache).parsed) == ([] if parses == 2 else ["b.py"])
    # The same findings as each file checked alone, with its own store.
    alone_found = sorted((p.rsplit("/", 1)[-1], f.line, f.code) for p in paths
                         for f in lint_source(open(p, "rb").read(), p, DEFAULT, SummaryStore(DEFAULT)))
    assert alone_found == expected


@pytest.mark.skipif(__import__("multiprocessing").get_start_method() != "fork", reason="counts stores made in forked workers")
def test_each_worker_keeps_one_summary_store_for_all_its_files(tmp_path, monkeypatch):
    # The settings and cache reach a worker once, when it starts: sent with
    # each file, the cache arrived as a new object with a new, empty store,
    # and every file judged and read its imports afresh.
    files = {"pkg/__init__.py": "", "pkg/logs.py": "def make_log(path):\n    return open(path)\n"}
    files.update({f"pkg/user{i}.py": "from .logs import make_log\n\ndef read(path):\n    f = make_log(path)\n    return f.read()\n" for i in range(8)})
    root = write(tmp_path / "src", files)
    made = tmp_path / "stores.txt"
    real_init = SummaryStore.__init__

    def counting(self, *args, **kwargs):
        with open(made, "a") as out:
            out.write(f"{__import__('os').getpid()}\n")
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(SummaryStore, "__init__", counting)
    paths = sorted(str(p) for p in (root / "pkg").glob("user*.py"))
    result = lint_files(paths, DEFAULT, jobs=2)
    assert sorted(f.path.rsplit("/", 1)[-1] for f in result.findings) == sorted(p.rsplit("/", 1)[-1] for p in paths)
    processes = made.read_text().split()
    assert len(processes) == len(set(processes)) <= 3  # one store each: this process and two workers


def _cycle_chain(n):
    """n modules in one import cycle, each using the next one's factory
    (asking about it before its turn), and a big file that leaves room
    for all their trees at once."""
    files = {"pkg/__init__.py": "", "pkg/big.py": "X = '" + "x" * 100_000 + "'\n"}
    for i in range(n):
        files[f"pkg/m{i}.py"] = (f"from .m{(i + 1) % n} import make{(i + 1) % n}\n\ndef make{i}(p):\n    return open(p)\n\n"
                                 f"def use{i}(p):\n    f = make{(i + 1) % n}(p)\n    return f.read()\n")
    return files


def _each_module_found_once(result, n):
    assert result.errors == []
    assert sorted((f.path.rsplit("/", 1)[-1], f.code) for f in result.findings) == sorted((f"m{i}.py", "GCL301") for i in range(n))


def test_a_long_chain_of_cycle_members_is_checked_early_only_a_few_deep(tmp_path):
    # Each module's rules ask about the next module's factory before its
    # turn. Checked early one inside another, 200 of them overflowed the
    # stack (one file lost to an internal error); a few deep, then parsed.
    root = write(tmp_path, _cycle_chain(200))
    _each_module_found_once(lint_files(sorted(str(p) for p in root.rglob("*.py")), DEFAULT), 200)


def test_a_chain_deeper_than_one_stack_allows_is_checked_early_on_fresh_threads(tmp_path, monkeypatch):
    # 20 cycle members, each asking about the next before its turn: every
    # one is checked early, six inside one another per thread, so each is
    # parsed once (the standard library's largest import cycle nests 20
    # deep; stopping at six parsed the rest twice).
    import gclint.engine as engine
    from gclint.project import project_store

    n = 20
    root = write(tmp_path / "src", _cycle_chain(n))
    parsed = []
    real = engine.parse
    monkeypatch.setattr(engine, "parse", lambda text, *a, **k: parsed.append(len(text)) or real(text, *a, **k))
    cache = Cache(str(tmp_path / "cache"), "s")
    _each_module_found_once(lint_files(sorted(str(p) for p in root.rglob("*.py")), DEFAULT, cache=cache), n)
    assert (len(parsed), project_store(DEFAULT, cache).parsed) == (n, [])


def test_an_early_check_counts_only_the_trees_being_walked(tmp_path):
    # The run's largest file asks about t from its pre-filter, before it is
    # parsed: t fits (no tree is held). Asked from its walk, t would not.
    root = write(tmp_path, {"pkg/__init__.py": "", "pkg/big.py": "X = '" + "x" * 1000 + "'\n", "pkg/t.py": SOCKET_FACTORY})
    big, t = str(root / "pkg" / "big.py"), str(root / "pkg" / "t.py")
    store = SummaryStore(DEFAULT)
    early = runner._EarlyChecks([big, t], DEFAULT, None, {big: 1007, t: len(SOCKET_FACTORY)}, store)
    with store.checking(big, None):
        assert early.check(t) is False
    assert early.check(t) is True
    assert early.check(t) is False  # once only


# -- found by a second reading: shapes where ruling a module out must not hold

SOCKET_FACTORY = "import socket\n\n\ndef make_conn():\n    return socket.socket()\n"
USES_GET = "import socket\nfrom .wrap import get\n\n\ndef run():\n    s = get()\n    s.send(b'x')\n"


@pytest.mark.parametrize("files, user, line", [
    # A class whose base comes from a whole module imported (`x.Base`), that
    # base inheriting a factory method from a third module.
    ({"pkg/y.py": "import socket\n\n\nclass Base2:\n    def make(self):\n        return socket.socket()\n",
      "pkg/x.py": "from .y import Base2\n\n\nclass Base(Base2):\n    pass\n",
      "pkg/m.py": "from . import x\n\n\nclass C(x.Base):\n    pass\n",
      "pkg/f.py": "from .m import C\n\n\nclass D(C):\n    def run(self):\n        s = self.make()\n        s.send(b'x')\n"}, "f.py", 6),
    # Imports after `;` and after a compound statement's colon.
    ({"pkg/conn.py": SOCKET_FACTORY, "pkg/wrap.py": "import os; from .conn import make_conn\n\n\ndef get():\n    return make_conn()\n",
      "pkg/f.py": USES_GET}, "f.py", 6),
    ({"pkg/conn.py": SOCKET_FACTORY, "pkg/wrap.py": "try: from .conn import make_conn\nexcept ImportError: raise\n\n\ndef get():\n    return make_conn()\n",
      "pkg/f.py": USES_GET}, "f.py", 6),
    # A whole module imported and its factory used by name (`conn.make_conn`).
    ({"pkg/conn.py": SOCKET_FACTORY, "pkg/wrap.py": "from . import conn\n\n\ndef get():\n    return conn.make_conn()\n",
      "pkg/f.py": USES_GET}, "f.py", 6),
    # A whole package imported, its submodule's factory reached through it.
    ({"pkg/tools/__init__.py": "", "pkg/tools/conn.py": SOCKET_FACTORY,
      "pkg/wrap.py": "from . import tools\n\n\ndef get():\n    return tools.conn.make_conn()\n", "pkg/f.py": USES_GET}, "f.py", 6),
], ids=["base-through-a-module-import", "import-after-semicolon", "import-after-try-colon", "module-member", "package-submodule"])
def test_a_module_is_not_ruled_out_when_parsing_it_finds_a_factory(tmp_path, files, user, line):
    root = write(tmp_path, {"pkg/__init__.py": "", **files})
    paths = sorted(str(p) for p in root.rglob("*.py"))
    assert [(f.path.rsplit("/", 1)[-1], f.line, f.code) for f in lint_files(paths, DEFAULT).findings] == [(user, line, "GCL301")]
    path = root / "pkg" / user  # and checked alone, with a store of its own
    assert [(f.line, f.code) for f in lint_source(path.read_bytes(), str(path), DEFAULT, SummaryStore(DEFAULT))] == [(line, "GCL301")]


@pytest.mark.parametrize("imported", ["from . import conn", "from . import tools"], ids=["module", "package"])
def test_a_whole_module_import_whose_factories_go_unnamed_is_ruled_out_unparsed(tmp_path, imported):
    # util imports a module (or a package with a factory in a submodule)
    # but spells none of its factories: it is no factory's home, and the
    # pre-filter of its importer tells that without parsing it.
    files = {"pkg/__init__.py": "", "pkg/conn.py": SOCKET_FACTORY, "pkg/tools/__init__.py": "", "pkg/tools/conn.py": SOCKET_FACTORY,
             "pkg/util.py": imported + "\n\nNAME = 'x'\n\n\ndef helper():\n    return 1\n",
             "pkg/f.py": "from .util import helper\n\n\ndef run():\n    return helper()\n"}
    root = write(tmp_path, files)
    store = SummaryStore(DEFAULT)
    path = root / "pkg" / "f.py"
    assert lint_source(path.read_bytes(), str(path), DEFAULT, store) == []
    assert store.ruled_out(str(root / "pkg" / "util.py")) is not None
    assert "util.py" not in _names(store.parsed)



BASE_WITH_FACTORY = "import socket\n\n\nclass Base2:\n    def make(self):\n        return socket.socket()\n"
USES_MAKE = "\n\n\nclass C({base}):\n    def run(self):\n        s = self.make()\n        s.send(b'x')\n"


@pytest.mark.parametrize("files", [
    {"pkg/y.py": BASE_WITH_FACTORY, "pkg/x.py": "from .y import Base2\n\n\nclass Base(Base2):\n    pass\n",
     "pkg/m.py": "from . import x" + USES_MAKE.format(base="x.Base")},
    {"pkg/tools/__init__.py": "", "pkg/tools/conn.py": BASE_WITH_FACTORY,
     "pkg/m.py": "from . import tools" + USES_MAKE.format(base="tools.conn.Base2")},
], ids=["inherited-by-a-module's-class", "in-a-package's-submodule"])
def test_a_file_whose_base_through_a_whole_module_import_has_a_factory_is_checked(tmp_path, files):
    # m names no factory; its class's base, reached through a whole module
    # or package imported, has one. The pre-filter asked only whether that
    # module's own classes had a factory method, and skipped m.
    root = write(tmp_path, {"pkg/__init__.py": "", **files})
    path = root / "pkg" / "m.py"
    assert [(f.line, f.code) for f in lint_source(path.read_bytes(), str(path), DEFAULT, SummaryStore(DEFAULT))] == [(6, "GCL301")]
    assert [(f.path.rsplit("/", 1)[-1], f.line) for f in lint_files(sorted(str(p) for p in root.rglob("*.py")), DEFAULT).findings] == [("m.py", 6)]


MAKE_CONN = "def make_conn(p):\n    return open(p)\n"
USES_MAKE_CONN = "\n\n\ndef f(p):\n    res = {call}\n    res.read()\n"


@pytest.mark.parametrize("files, user, line", [
    # `import pkg.util` binds `pkg`: any `pkg.x` is reachable through it.
    ({"pkg/__init__.py": "", "pkg/util.py": "X = 1\n", "pkg/conn.py": BASE_WITH_FACTORY,
      "main.py": "import pkg.util" + USES_MAKE.format(base="pkg.conn.Base2")}, "main.py", 6),
    ({"pkg/__init__.py": "", "pkg/util.py": "X = 1\n", "pkg/conn.py": MAKE_CONN,
      "mid.py": "import pkg.util\n\n\ndef get(p):\n    return pkg.conn.make_conn(p)\n",
      "main.py": "from mid import get" + USES_MAKE_CONN.format(call="get(p)")}, "main.py", 5),
    # A namespace package (no __init__.py) reaches its modules too.
    ({"ns/conn.py": BASE_WITH_FACTORY, "main.py": "import ns" + USES_MAKE.format(base="ns.conn.Base2")}, "main.py", 6),
    # Import statements the line scan missed.
    ({"conn.py": MAKE_CONN, "main.py": "from conn import make_conn\tas\tmc" + USES_MAKE_CONN.format(call="mc(p)")}, "main.py", 5),
    ({"pkg/__init__.py": "", "pkg/conn.py": MAKE_CONN,
      "pkg/main.py": "from . conn import make_conn" + USES_MAKE_CONN.format(call="make_conn(p)")}, "main.py", 5),
    ({"conn.py": MAKE_CONN, "main.py": "try: from conn import (\n    make_conn,\n)\nexcept ImportError: raise" + USES_MAKE_CONN.format(call="make_conn(p)")}, "main.py", 8),
    ({"conn.py": MAKE_CONN, "main.py": "\x0cfrom conn import make_conn" + USES_MAKE_CONN.format(call="make_conn(p)")}, "main.py", 5),
    ({"conn.py": "def öffne(p):\n    return open(p)\n", "main.py": "from conn import öffne" + USES_MAKE_CONN.format(call="öffne(p)")}, "main.py", 5),
], ids=["dotted-import-binds-the-package", "dotted-import-in-a-middle-module", "namespace-package", "tabs-around-as",
        "space-after-the-dot", "parenthesised-after-try", "form-feed", "non-ascii-name"])
def test_the_pre_filter_follows_every_import_the_summaries_do(tmp_path, files, user, line):
    # Found by a second reading: each shape lost its finding (the file or a
    # module it imports from was ruled out) while the summaries resolve it.
    root = write(tmp_path, files)
    found = lint_files(sorted(str(p) for p in root.rglob("*.py")), Settings(root=str(root))).findings
    assert [(f.path.rsplit("/", 1)[-1], f.line, f.code) for f in found] == [(user, line, "GCL301")]


def test_an_early_check_with_no_thread_to_be_had_is_left_for_its_turn(tmp_path, monkeypatch):
    # Starting a thread can fail (a limit on threads or memory): the file
    # asked about is parsed for its summary instead, and every file keeps
    # its findings.
    import threading

    real_start = threading.Thread.start

    def failing(self):
        if self.name == "gclint-early-check":
            raise RuntimeError("can't start new thread")
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", failing)
    root = write(tmp_path, _cycle_chain(20))
    _each_module_found_once(lint_files(sorted(str(p) for p in root.rglob("*.py")), DEFAULT), 20)

