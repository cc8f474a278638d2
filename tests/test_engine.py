"""The engine: decoding, GCL001, noqa, name resolution, selection."""
import pytest

from gclint import lint_source
from gclint.config import Settings


def codes(source, path="mod.py", settings=None):
    return [(f.code, f.line, f.col) for f in lint_source(source, path, settings)]


@pytest.mark.parametrize(
    "source, expected",
    [
        pytest.param("import gc\ngc.collect(0)  # noqa\n", [], id="bare-noqa"),
        pytest.param("import gc\ngc.collect(0)  # noqa: GCL401\n", [], id="noqa-code"),
        pytest.param("import gc\ngc.collect(0)  # noqa:GCL4\n", [], id="noqa-prefix-no-space"),
        pytest.param("import gc\ngc.collect(0)  # NOQA: GCL401\n", [], id="noqa-keyword-any-case"),
        pytest.param("import gc\ngc.collect(0)  # noqa: gcl401\n", [("GCL401", 2, 1)], id="codes-are-case-sensitive"),
        pytest.param("import gc\ngc.collect(0)  # noqa: GCL402,E501\n", [("GCL401", 2, 1)], id="noqa-other-code"),
        pytest.param("import gc\ngc.collect(0)  # noqa: GCL402, GCL401\n", [], id="noqa-list"),
        pytest.param("# gclint: noqa\nimport gc\ngc.collect(0)\n", [], id="file-noqa"),
        pytest.param("# gclint: noqa: GCL402\nimport gc\ngc.collect(0)\n", [("GCL401", 3, 1)], id="file-noqa-codes"),
    ],
)
def test_noqa_follows_flake8(source, expected):
    assert codes(source) == expected


@pytest.mark.parametrize(
    "source, expected",
    [
        pytest.param("import gc as g\ng.collect(0)\n", [("GCL401", 2, 1)], id="import-as"),
        pytest.param("from gc import collect\ncollect(1)\n", [("GCL401", 2, 1)], id="from-import"),
        pytest.param("from gc import collect as c\nc(0)\n", [("GCL401", 2, 1)], id="from-import-as"),
        pytest.param("def f(gc):\n    gc.collect(0)\n", [], id="parameter-named-gc"),
        pytest.param("import gc\ndef f():\n    gc = Thing()\n    gc.collect(0)\n", [], id="local-shadows"),
        pytest.param("import gc\ndef f():\n    gc.collect(0)\n    gc = 1\n", [], id="assigned-later-is-local"),
        pytest.param("gc = object()\ngc.collect(0)\n", [], id="module-var-named-gc"),
        pytest.param("def f():\n    import gc\n    gc.collect(0)\n", [("GCL401", 3, 5)], id="local-import"),
        pytest.param("import gc\nclass C:\n    gc = None\n    def m(self):\n        gc.collect(0)\n", [("GCL401", 5, 9)], id="class-attr-not-in-method-scope"),
        pytest.param("collect(0)\n", [], id="unimported-name"),
        pytest.param("import gc\nlambda gc: gc.collect(0)\n", [], id="lambda-param"),
    ],
)
def test_names_resolve_through_imports_and_scopes(source, expected):
    assert codes(source) == expected


@pytest.mark.parametrize(
    "data, reason",
    [
        pytest.param(b"def f(:\n", "syntax error", id="syntax"),
        pytest.param(b"# -*- coding: nope -*-\nx = 1\n", "cannot decode", id="unknown-cookie"),
        pytest.param(b"x = '\xff\xfe'\n", "cannot decode", id="bad-utf8"),
        pytest.param(b"# coding: ascii\nx = '\xff'\n", "cannot decode as ascii", id="bad-for-cookie"),
        pytest.param(b"import gc\nx = 1\x00\n", "", id="nul-byte"),
    ],
)
def test_unreadable_source_gives_one_gcl001(data, reason):
    findings = lint_source(data, "bad.py")
    assert [f.code for f in findings] == ["GCL001"]
    assert "bad.py" in findings[0].message and reason in findings[0].message


def test_valid_python_libcst_cannot_parse_is_gcl003_not_a_syntax_error():
    (finding,) = lint_source("import gc\n(x): int = 1\ngc.collect(0)\n", "ann.py")
    assert (finding.code, finding.line, finding.severity.value) == ("GCL003", 2, "info")
    assert "valid Python that libcst cannot parse" in finding.message


def test_gcl001_when_no_rule_needs_the_tree_too():
    # No rule triggers on this text, so only the cheap compile check runs.
    assert [f.code for f in lint_source(b"def f(:\n", "x.py")] == ["GCL001"]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("# -*- coding: latin-1 -*-\nimport gc\ngc.collect(0)\ns = 'caf\xe9'\n".encode("latin-1"), id="latin1-cookie"),
        pytest.param(b"\xef\xbb\xbfx = 1\nimport gc\ngc.collect(0)\n", id="bom"),
        pytest.param(b"x = 1\r\nimport gc\r\ngc.collect(0)\r\n", id="crlf"),
        pytest.param(b"if 1:\n\timport gc\n\tgc.collect(0)\n", id="tabs"),
    ],
)
def test_encodings_and_line_endings(data):
    assert [(c, line) for c, line, _ in codes(data)] == [("GCL401", 3)]


def test_selection_by_prefix_and_specificity():
    src = "import gc\ngc.collect(0)\nfor x in y:\n    gc.collect()\n"
    everything = Settings(select=("GCL",))
    assert [c for c, *_ in codes(src, settings=everything)] == ["GCL401", "GCL402"]
    assert [c for c, *_ in codes(src, settings=Settings(select=("GCL402",)))] == ["GCL402"]
    assert [c for c, *_ in codes(src, settings=Settings(ignore=("GCL4",)))] == []
    assert [c for c, *_ in codes(src, settings=Settings(select=("GCL401",), ignore=("GCL4",)))] == ["GCL401"]
    assert [c for c, *_ in codes(src, settings=Settings(ignore=("GCL401",)))] == ["GCL402"]


def test_per_file_ignores(tmp_path):
    settings = Settings(per_file_ignores=(("scripts/*.py", ("GCL401",)),), root=str(tmp_path))
    src = "import gc\ngc.collect(0)\n"
    assert codes(src, str(tmp_path / "scripts" / "a.py"), settings) == []
    assert codes(src, str(tmp_path / "lib" / "a.py"), settings) == [("GCL401", 2, 1)]


def test_findings_point_at_the_node_with_end_position():
    (finding,) = lint_source("import gc\nx = [\n    gc.collect(0)]\n")
    assert (finding.line, finding.col, finding.end_line, finding.end_col) == (3, 5, 3, 18)


def test_deep_nesting_does_not_crash():
    source = "import gc\nx = " + "(" * 200 + "1" + ")" * 200 + "\ngc.collect(0)\n"
    result = lint_source(source)
    assert [f.code for f in result] in (["GCL401"], ["GCL001"])


def test_a_failing_rule_costs_only_its_own_findings(monkeypatch):
    from gclint.rules.gcapi import CollectInLoop

    def explode(self, node):
        raise AttributeError("boom")

    monkeypatch.setattr(CollectInLoop, "visit_Call", explode)
    found = codes("import gc\ngc.collect(0)\nfor x in y:\n    gc.collect()\n", settings=Settings(select=("GCL",)))
    assert ("GCL401", 2, 1) in found
    # Reported once, where it first failed; the rule is then switched off.
    assert [c for c in found if c[0] == "GCL002"] == [("GCL002", 2, 1)]


def _scopes_from_scratch(stack):
    """The scope chain as the whole path says it (what the kept chain must equal)."""
    from gclint.tree import SCOPE_TYPES

    found = [stack[i] for i in range(len(stack) - 2, -1, -1) if type(stack[i]) in SCOPE_TYPES and stack[i + 1] is stack[i].body]
    return tuple(found)


def test_kept_scope_chain_equals_the_whole_path_at_every_node():
    # ctx.scopes() keeps one entry per level of the path and redoes only the
    # levels the walk left: it must answer as a rebuild from the whole stack.
    import libcst as cst

    from gclint.context import FileContext, Options
    from gclint.tree import walk

    source = (
        "class A:\n"
        "    x = [lambda y: y + 1 for _ in range(3)]\n"
        "    @decorate(lambda: 0)\n"
        "    def m(self, d=lambda: 1):\n"
        "        def inner():\n"
        "            class B:\n"
        "                def n(self):\n"
        "                    return self.a.b().c().d(lambda z: z)\n"
        "            return B\n"
        "        return inner\n"
        "def f():\n"
        "    return g(h(i(j)))\n"
    )
    module = cst.parse_module(source)
    ctx = FileContext("m.py", source, module, Options())
    checked = []

    def check(node):
        assert ctx.scopes() == _scopes_from_scratch(ctx.stack)
        checked.append(node)

    every_type = {t: [check] for t in {type(n) for n in _all_nodes(module)}}
    walk(module, every_type, every_type, ctx.stack, _reraise)
    assert len(checked) == 2 * len(_all_nodes(module))


def _reraise(hook, node, exc):
    raise exc


def _all_nodes(module):
    from gclint.tree import descendants

    return [module, *descendants(module)]
