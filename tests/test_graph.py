"""Pictures of cycles and retained chains (gclint/report/graph.py): the
structure, the DOT (read back by a strict DOT parser, rendered by Graphviz
when it is installed), the self-drawn SVG, the terminal tree, --graph."""
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from dotcheck import DotError, label_text, parse
from gclint.dynamic.evidence import sanitize
from gclint.report import graph
from gclint.report.printable import printable

TREE_FIXTURE = ROOT / "fixtures" / "cycles" / "tree_with_strong_parent.py"
# TreeNode.children -> list[1] -> Leaf.parent -> TreeNode, as the probe records it.
FAMILY = [
    {"type": "TreeNode", "edge": ".children", "site": ["app.py", 24]},
    {"type": "list", "edge": "[1]", "site": ["app.py", 8]},
    {"type": "Leaf", "edge": ".parent", "site": ["app.py", 26]},
]
# A retained chain as the growth report gives it: root first, kept object last.
CACHE = [
    {"type": "module", "name": "app", "edge": ".CACHE", "site": None},
    {"type": "dict", "edge": "['k']", "site": ["app.py", 3]},
    {"type": "list", "edge": "[0]", "site": ["app.py", 9]},
    {"type": "ValueError", "edge": "", "site": ["app.py", 12]},
]


def _picture(kind=graph.CYCLE, steps=FAMILY, title="app.py:11: GCL204"):
    picture = graph.from_steps(kind, steps, title)
    assert picture is not None
    return picture


# -- the structure -------------------------------------------------------------------


def test_a_cycle_closes_and_a_retained_chain_does_not():
    ring = _picture()
    assert [n.type for n in ring.nodes] == ["TreeNode", "list", "Leaf"]
    assert [(e.source, e.target, e.label) for e in ring.edges] == [(0, 1, ".children"), (1, 2, "[1]"), (2, 0, ".parent")]
    chain = _picture(graph.RETAINED, CACHE)
    assert [(e.source, e.target, e.label) for e in chain.edges] == [(0, 1, ".CACHE"), (1, 2, "['k']"), (2, 3, "[0]")]
    assert chain.nodes[0].name == "app" and chain.nodes[0].site is None and chain.nodes[3].site == ("app.py", 12)


@pytest.mark.parametrize(
    "kind, steps",
    [
        pytest.param("cycle", None, id="no-steps"),
        pytest.param("cycle", [], id="empty"),
        pytest.param("cycle", "Node -> Node", id="a-string"),
        pytest.param("cycle", [{"edge": ".x"}], id="step-without-type"),
        pytest.param("cycle", [{"type": 3, "edge": ".x"}], id="type-not-text"),
        pytest.param("cycle", [["Node", ".x"]], id="step-not-a-mapping"),
        pytest.param("resurrection", FAMILY, id="kind-without-pictures"),
    ],
)
def test_malformed_steps_make_no_picture(kind, steps):
    assert graph.from_steps(kind, steps) is None


def test_malformed_fields_of_a_step_are_left_out_and_long_labels_cut():
    picture = _picture(steps=[{"type": "T" * 500, "edge": 7, "site": ["a.py", "12"]}])
    assert picture.nodes[0].type == "T" * 80 and picture.nodes[0].site is None
    assert picture.edges[0].label == ""


def test_a_picture_has_at_most_max_nodes_and_a_cut_ring_does_not_close():
    steps = [{"type": f"T{i}", "edge": ".next"} for i in range(graph.MAX_NODES + 5)]
    picture = _picture(steps=steps)
    assert len(picture.nodes) == graph.MAX_NODES
    assert all(e.target == e.source + 1 for e in picture.edges)


@pytest.mark.parametrize(
    "line, nodes, edges",
    [
        pytest.param("        child.parent = self", {2}, {".parent"}, id="assigned-attribute"),
        pytest.param("        self.children.append(child)", {0}, {".children"}, id="appended-to"),
        pytest.param("    if node.parent == root:", {2}, {".parent"}, id="compared-attribute-names-it"),
        pytest.param("    x = f()", {1}, set(), id="nothing-named-so-the-allocation-line"),
        pytest.param("    pass", set(), set(), id="nothing-named-and-allocated-elsewhere"),
    ],
)
def test_the_member_the_finding_points_at_is_highlighted(line, nodes, edges):
    # The finding is at app.py:8 (where the list was made).
    picture = graph.highlighted(_picture(), site=("app.py", 8 if "x = f()" in line else 99), line_text=line)
    assert {i for i, n in enumerate(picture.nodes) if n.highlight} == nodes
    assert {e.label for e in picture.edges if e.highlight} == edges


def test_a_local_the_line_assigns_highlights_the_frame_that_holds_it():
    steps = [{"type": "ConnectionError", "edge": ".__traceback__"}, {"type": "traceback", "edge": ".tb_frame"}, {"type": "frame", "edge": ".f_locals['err']"}]
    picture = graph.highlighted(_picture(steps=steps), site=("a.py", 10), line_text="            err = exc")
    assert [n.highlight for n in picture.nodes] == [False, False, True]


# -- DOT ----------------------------------------------------------------------------------


def test_dot_is_valid_and_says_every_node_edge_and_site():
    picture = graph.highlighted(_picture(), site=("app.py", 11), line_text="child.parent = self")
    dot = parse(graph.to_dot(picture))
    assert dot.directed and dot.name == "cycle"
    assert label_text(dot.attributes["label"]) == "app.py:11: GCL204"
    assert {n: label_text(a["label"]) for n, a in dot.nodes.items()} == {"n0": "TreeNode\napp.py:24", "n1": "list\napp.py:8", "n2": "Leaf\napp.py:26"}
    assert [(s, t, label_text(a["label"])) for s, t, a in dot.edges] == [("n0", "n1", ".children"), ("n1", "n2", "[1]"), ("n2", "n0", ".parent")]
    assert dot.nodes["n2"]["color"] == "#c00000" and "color" not in dot.nodes["n0"]
    assert dot.edges[2][2]["penwidth"] == "2" and "penwidth" not in dot.edges[0][2]


def test_a_retained_chain_is_valid_dot_with_its_root_named():
    dot = parse(graph.to_dot(_picture(graph.RETAINED, CACHE)))
    assert dot.name == "retained"
    assert label_text(dot.nodes["n0"]["label"]) == "module app"
    assert len(dot.edges) == 3


@pytest.mark.parametrize(
    "hostile",
    [
        pytest.param('say "hi"', id="quote"),
        pytest.param("C:\\path\\N", id="backslash-and-graphviz-escape"),
        pytest.param("ends with a backslash\\", id="trailing-backslash"),
        pytest.param("two\nlines", id="newline"),
        pytest.param("</script><script>alert(1)</script>", id="markup"),
        pytest.param("\x1b[31mred\x1b[0m", id="terminal-escape"),
        pytest.param("} digraph x { a -> b", id="dot-syntax"),
    ],
)
def test_hostile_labels_stay_labels(hostile):
    steps = [{"type": hostile, "edge": f"[{hostile!r}]", "site": [hostile, 3]}]
    picture = graph.from_steps(graph.CYCLE, steps, hostile)
    dot = parse(graph.to_dot(picture))
    assert list(dot.nodes) == ["n0"] and len(dot.edges) == 1
    assert label_text(dot.attributes["label"]) == printable(hostile)
    assert label_text(dot.nodes["n0"]["label"]) == printable(hostile) + "\n" + printable(f"{os.path.basename(hostile)}:3")
    assert label_text(dot.edges[0][2]["label"]) == printable(f"[{hostile!r}]")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=30), st.text(max_size=30)), min_size=1, max_size=6), st.text(max_size=40))
def test_any_text_makes_valid_dot_that_reads_back(pairs, title):
    steps = [{"type": t, "edge": e} for t, e in pairs]
    dot = parse(graph.to_dot(graph.from_steps(graph.CYCLE, steps, title)))
    assert label_text(dot.attributes["label"]) == printable(title)
    assert [label_text(a["label"]) for a in dot.nodes.values()] == [printable(t) for t, _ in pairs]
    assert [label_text(a.get("label", "")) for _, _, a in dot.edges] == [printable(e) for _, e in pairs]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('digraph { a -- b }', id="undirected-edge-in-digraph"),
        pytest.param('digraph { a [label="x] }', id="unterminated-string"),
        pytest.param('digraph { a -> }', id="edge-to-nothing"),
        pytest.param('digraph { a [label=] }', id="attribute-without-value"),
        pytest.param('digraph { } x', id="text-after-the-graph"),
        pytest.param('digraph { a [label=<b>] }', id="html-label"),
        pytest.param('digraph { a [label="x"; }', id="unclosed-attributes"),
    ],
)
def test_the_dot_checker_is_strict(text):
    with pytest.raises(DotError):
        parse(text)


@pytest.mark.skipif(not shutil.which("dot"), reason="Graphviz's dot is not installed")
def test_graphviz_renders_the_dot_as_svg():
    picture = graph.highlighted(_picture(), site=("app.py", 11), line_text="child.parent = self")
    svg = graph.dot_svg(graph.to_dot(picture))
    root = ElementTree.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"TreeNode", "Leaf", ".children", ".parent", "app.py:24"} <= set(texts)


# -- the SVG drawn without Graphviz -----------------------------------------------------


def _svg_texts(svg):
    root = ElementTree.fromstring(svg)  # well-formed XML, or this raises
    return root, [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_self_drawn_svg_shows_every_node_site_and_reference():
    root, texts = _svg_texts(graph.to_svg(graph.highlighted(_picture(), site=("app.py", 11), line_text="child.parent = self")))
    assert texts == ["app.py:11: GCL204", "TreeNode", "app.py:24", "list", "app.py:8", "Leaf", "app.py:26", ".children", "[1]", ".parent"]
    # Two arrows straight down, the way back curved; the flagged box in red.
    assert len(list(root.iter("{http://www.w3.org/2000/svg}line"))) == 2
    assert len([p for p in root.iter("{http://www.w3.org/2000/svg}path") if p.get("marker-end")]) == 1
    assert [r.get("stroke") for r in root.iter("{http://www.w3.org/2000/svg}rect")] == ["#333333", "#333333", "#c00000"]


def test_self_drawn_svg_escapes_what_the_target_named():
    hostile = '</text><script>alert("x")</script>'
    svg = graph.to_svg(graph.from_steps(graph.CYCLE, [{"type": hostile, "edge": f".{hostile}"}], hostile))
    root, texts = _svg_texts(svg)
    assert "<script" not in svg and not list(root.iter("{http://www.w3.org/2000/svg}script"))
    assert texts.count(hostile) == 2 and f".{hostile}" in texts


# -- the terminal tree --------------------------------------------------------------------


def test_a_cycle_reads_as_one_nested_chain_back_to_its_start():
    picture = graph.highlighted(_picture(), site=("app.py", 11), line_text="child.parent = self")
    assert graph.tree_text(picture) == (
        "TreeNode #1  allocated at app.py:24\n"
        "└── .children -> list #2  allocated at app.py:8\n"
        "    └── [1] -> Leaf #3  allocated at app.py:26  <- flagged\n"
        "        └── .parent -> back to TreeNode #1\n"
    )


def test_a_retained_chain_reads_from_its_root_to_the_kept_object():
    assert graph.tree_text(_picture(graph.RETAINED, CACHE)) == (
        "module app #1\n"
        "└── .CACHE -> dict #2  allocated at app.py:3\n"
        "    └── ['k'] -> list #3  allocated at app.py:9\n"
        "        └── [0] -> ValueError #4  allocated at app.py:12\n"
    )


def test_a_graph_that_branches_is_walked_depth_first_once_per_node():
    nodes = tuple(graph.Node(t) for t in ("A", "B", "C"))
    edges = (graph.Edge(0, 1, ".b"), graph.Edge(0, 2, ".c"), graph.Edge(1, 2, ".c"), graph.Edge(2, 0, ".a"))
    rows = graph.tree_rows(graph.Picture(graph.CYCLE, "", nodes, edges))
    assert [(r.depth, r.edge, r.node.type, r.back_to) for r in rows] == [
        (0, "", "A", None), (1, ".b", "B", None), (2, ".c", "C", None), (3, ".a", "A", 0), (1, ".c", "C", 2),
    ]


def test_the_tree_makes_hostile_labels_printable():
    text = graph.tree_text(graph.from_steps(graph.CYCLE, [{"type": "\x1b[2Jx[/]", "edge": "[bold]"}]))
    assert "\x1b" not in text and "\\x1b[2Jx[/]" in text and "[bold]" in text


def test_the_coloured_tree_marks_the_flagged_reference():
    picture = graph.highlighted(_picture(), site=("app.py", 11), line_text="child.parent = self")
    coloured = graph.tree_text(picture, color=True)
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == graph.tree_text(picture)
    assert "\x1b[1;31m.parent" in coloured and "\x1b[1;31m.children" not in coloured


# -- writing files ----------------------------------------------------------------------


def test_pictures_are_numbered_and_never_overwrite(tmp_path):
    (tmp_path / "cycle-2.dot").write_text("mine")
    first = graph.write_picture(str(tmp_path), _picture())
    second = graph.write_picture(str(tmp_path), _picture(graph.RETAINED, CACHE))
    third = graph.write_picture(str(tmp_path), _picture())
    assert [os.path.basename(p) for p in (first, second, third)] == ["cycle-3.dot", "retained-1.dot", "cycle-4.dot"]
    assert (tmp_path / "cycle-2.dot").read_text() == "mine"
    assert parse((tmp_path / "cycle-3.dot").read_text()).name == "cycle"
    assert (tmp_path / "cycle-3.svg").exists() == bool(shutil.which("dot"))


# -- evidence carries steps safely ------------------------------------------------------


def _evidence_with(steps, path):
    item = {"kind": "cycle", "path": path, "line": 1, "objects": 2, "cycles": 1, "steps": steps}
    return sanitize({"evidence": [item]}, [path])


def test_steps_in_evidence_are_kept_only_when_well_formed(tmp_path):
    target = tmp_path / "t.py"
    target.write_text("x = 1\ny = 2\n")
    path = os.path.realpath(target)
    good = [{"type": "Node", "edge": ".next", "site": [path, 2]}, {"type": "Node", "edge": "", "site": None}]
    kept, dropped = _evidence_with(good, path)
    assert kept["evidence"][0]["steps"] == good and dropped == []
    for bad in (
        [{"type": "Node", "edge": ".x", "site": ["/etc/passwd", 1]}],  # a place gclint did not check
        [{"type": "Node", "edge": ".x", "site": [path, 99]}],  # no such line
        [{"edge": ".x"}],
        "Node -> Node",
        [{"type": "Node", "edge": ".x"}] * 101,
    ):
        kept, dropped = _evidence_with(bad, path)
        assert kept["evidence"] == [] and "'steps'" in dropped[0], bad


# -- gclint check --dynamic: the tree and --graph -----------------------------------------


def _gclint(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--no-config", "--no-cache", "--select", "GCL", *args],
        capture_output=True, text=True, cwd=cwd, timeout=600,  # a hang guard
    )


def test_graph_draws_one_picture_per_confirmed_cycle_finding(tmp_path):
    out = tmp_path / "pictures"
    done = _gclint("--dynamic", "--graph", str(out), "--format", "json", str(TREE_FIXTURE))
    assert done.returncode == 1, done.stderr
    confirmed = [f for f in json.loads(done.stdout) if f["status"] == "confirmed"]
    assert [f["line"] for f in confirmed] == [11, 19]
    assert "drew 2 pictures" in done.stderr
    drawn = {}
    for path in sorted(out.glob("*.dot")):
        dot = parse(path.read_text())
        title = label_text(dot.attributes["label"])
        labels = {n: label_text(a["label"]).split("\n")[0] for n, a in dot.nodes.items()}
        edges = sorted((labels[s], label_text(a.get("label", "")), labels[t]) for s, t, a in dot.edges)
        flagged = sorted(label_text(a["label"]) for _, _, a in dot.edges if a.get("penwidth"))
        drawn[title] = (edges, flagged, sorted(labels[n] for n, a in dot.nodes.items() if a.get("color")))
    ring = [("Leaf", ".parent", "TreeNode"), ("TreeNode", ".children", "list"), ("list", "[1]", "Leaf")]
    prefix = str(TREE_FIXTURE)
    assert drawn == {
        f"{prefix}:11: GCL204 TreeNode.children -> list[1] -> Leaf.parent -> TreeNode": (ring, [".parent"], ["Leaf"]),
        f"{prefix}:19: GCL204 TreeNode.children -> list[1] -> Leaf.parent -> TreeNode": (ring, [".parent"], ["Leaf"]),
    }


def test_text_output_draws_the_cycle_as_a_tree_under_its_finding():
    done = _gclint("--dynamic", "--color", "never", "fixtures/cycles/tree_with_strong_parent.py")
    tree = re.search(r"GCL204 .*\n.*\n.*\n    confirmed: .*\n((?:    .*\n){4})", done.stdout)
    assert tree, done.stdout
    rows = [re.sub(r"  allocated at \S+", "", row) for row in tree.group(1).splitlines()]
    assert rows == [
        "    TreeNode #1",
        "    └── .children -> list #2",
        "        └── [1] -> Leaf #3  <- flagged",
        "            └── .parent -> back to TreeNode #1",
    ]


def test_quiet_text_output_draws_nothing():
    done = _gclint("--dynamic", "--quiet", "fixtures/cycles/tree_with_strong_parent.py")
    assert "└──" not in done.stdout and done.stdout.count("GCL204") == 2


def test_graph_without_dynamic_mode_is_a_usage_error(tmp_path):
    done = _gclint("--graph", str(tmp_path / "p"), "fixtures/cycles/tree_with_strong_parent.py")
    assert done.returncode == 2
    assert "--graph draws what dynamic mode saw" in done.stderr
    assert not (tmp_path / "p").exists()


# -- the probe records the steps -------------------------------------------------------


def _probe():
    from gclint.pytest_plugin import probe

    return probe


def test_an_instance_and_its_dict_fold_into_one_step():
    steps = [
        {"type": "Node", "edge": ".__dict__", "site": ["a.py", 3]},
        {"type": "dict", "edge": "['parent']", "site": None},
        {"type": "Tree", "edge": ".__dict__", "site": None},
        {"type": "dict", "edge": "[('a', 1)]", "site": None},
    ]
    folded = _probe()._fold_instance_dicts([dict(s) for s in steps])
    assert [(s["type"], s["edge"]) for s in folded] == [("Node", ".parent"), ("Tree", ".__dict__"), ("dict", "[('a', 1)]")]
    assert _probe().chain_text(folded) == "Node.parent -> Tree.__dict__ -> dict[('a', 1)] -> Node"
    assert _probe().chain_text([]) is None


INTERPRETERS = [
    pytest.param(None, id="test-interpreter"),
    # Other interpreters: in .ci/run's slow step, so the README command stays short.
    pytest.param("3.9.18", id="3.9.18", marks=pytest.mark.slow),
    pytest.param("3.13.0", id="3.13.0", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("version", INTERPRETERS)
def test_the_probe_records_each_cycle_as_steps_that_say_its_chain(version):
    from conftest import pyenv_python
    from gclint.dynamic import DynamicOptions, confirm

    python = sys.executable if version is None else pyenv_python(version)
    if python is None:
        pytest.skip(f"Python {version} is not installed")
    files = [str(ROOT / "fixtures" / "cycles" / name) for name in ("tree_with_strong_parent.py", "exception_kept_in_frame.py", "callbacks_bound_to_self.py")]
    outcome = confirm([], files, DynamicOptions(python=python, timeout=300))
    cycles = [e for f in outcome.findings for e in f.evidence if e["kind"] == "cycle"]
    assert len(cycles) >= 5, outcome.diagnostics
    for item in cycles:
        steps = item["steps"]
        # The text chain is made from the steps: one path, read once.
        assert item["chain"] == " -> ".join(s["type"] + s["edge"] for s in steps) + " -> " + steps[0]["type"]
        assert all(s["site"] is None or os.path.basename(s["site"][0]) in {os.path.basename(f) for f in files} for s in steps)
    chains = {item["chain"] for item in cycles}
    assert "TreeNode.children -> list[1] -> Leaf.parent -> TreeNode" in chains
    assert "Clock.on_tick -> method.__self__ -> Clock" in chains
    # References of tracebacks and frames are named on every version.
    assert any(".__traceback__ -> traceback.tb_frame -> frame.f_locals" in chain for chain in chains), chains


# -- the pytest plugin: the same pictures --------------------------------------------------

FAMILY_TEST = '''
class Node:
    def __init__(self):
        self.children = []
        self.parent = None


def test_family():
    root = Node()
    kid = Node()
    kid.parent = root
    root.children.append(kid)
'''


def test_the_pytest_plugin_draws_each_cycle_as_a_tree_and_reports_its_steps(tmp_path):
    (tmp_path / "test_family.py").write_text(FAMILY_TEST)
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--gclint", f"--gclint-report={report}", f"--gclint-graph={tmp_path / 'pictures'}", "test_family.py"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,  # a hang guard
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (evidence,) = json.loads(report.read_text())["tests"][0]["evidence"]
    assert [(s["type"], s["edge"]) for s in evidence["steps"]] == [("Node", ".parent"), ("Node", ".children"), ("list", "[0]")]
    assert evidence["chain"] == "Node.parent -> Node.children -> list[0] -> Node"
    rows = [re.sub(r"  allocated at \S+", "", row) for row in done.stdout.splitlines() if row.startswith("        ")]
    assert rows == [
        "        Node #1",
        "        └── .parent -> Node #2",
        "            └── .children -> list #3",
        "                └── [0] -> back to Node #1",
    ]
    dot = parse((tmp_path / "pictures" / "cycle-1.dot").read_text())
    assert sorted(label_text(a["label"]).split("\n")[0] for a in dot.nodes.values()) == ["Node", "Node", "list"]


@pytest.mark.parametrize("kind, closed", [("cycle", True), ("retained", False), ("retained-object", False)])
def test_any_evidence_with_steps_is_a_picture(kind, closed):
    picture = graph.evidence_picture({"kind": kind, "steps": CACHE})
    assert picture.kind == ("cycle" if closed else "retained")
    assert (picture.edges[-1].target == 0) == closed
    assert graph.evidence_picture({"kind": kind}) is None


def test_the_text_report_draws_a_retained_chain_under_its_finding():
    import io

    from gclint.model import CONFIRMED, Finding, Severity
    from gclint.report.text import TextReporter

    evidence = {"kind": "retained", "path": "app.py", "line": 12, "summary": "1.2 MiB kept", "steps": CACHE}
    finding = Finding(path="app.py", line=12, col=5, code="GCL906", message="grows", severity=Severity.WARNING, status=CONFIRMED, evidence=(evidence,))
    out = io.StringIO()
    TextReporter(out, color=False).write([finding], {"app.py": "\n" * 11 + "    CACHE['k'].append(exc)\n"})
    assert out.getvalue().splitlines()[4:] == [
        "    module app #1",
        "    └── .CACHE -> dict #2  allocated at app.py:3",
        "        └── ['k'] -> list #3  allocated at app.py:9",
        "            └── [0] -> ValueError #4  allocated at app.py:12  <- flagged",
    ]


def test_the_growth_reports_chain_steps_are_drawn_too():
    # gclint/dynamic/growth.py's shape: each step's edge is the reference into it.
    chain_steps = [
        {"type": "module", "name": "app.cache", "edge": None, "site": None},
        {"type": "dict", "name": None, "edge": {"kind": "attr", "label": "CACHE"}, "site": ["/p/app/cache.py", 3]},
        {"type": "list", "name": None, "edge": {"kind": "key", "label": "'k7'"}, "site": ["/p/app/cache.py", 9]},
        {"type": "ValueError", "name": None, "edge": {"kind": "index", "label": "0"}, "site": None},
        {"type": "cell", "name": None, "edge": {"kind": "referent", "label": None}, "site": None},
    ]
    picture = graph.evidence_picture({"kind": "retained", "chain_steps": chain_steps})
    assert graph.tree_text(picture) == (
        "module app.cache #1\n"
        "└── .CACHE -> dict #2  allocated at cache.py:3\n"
        "    └── ['k7'] -> list #3  allocated at cache.py:9\n"
        "        └── [0] -> ValueError #4\n"
        "            └── cell #5\n"
    )
    assert graph.evidence_picture({"kind": "retained", "chain_steps": "module -> dict"}) is None
