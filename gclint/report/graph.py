"""Pictures of what keeps objects alive: one plain structure, three drawings.

Every door that finds a cycle or a retained object describes it the same
way, as a list of steps (JSON-friendly, so it travels in the evidence):

    [{"type": "Node", "edge": ".children", "site": ["app.py", 12]},
     {"type": "list", "edge": "[0]", "site": None}, ...]

Step i refers to step i+1 through `edge`: an attribute `.name`, a key
`['k']`, an index `[0]`, or "" when the reference has no name. In a
"cycle" the last step's edge leads back to the first step; in a "retained"
chain the first step is the root (a module global, a class attribute, a
long-lived object), the last is the object kept alive, and the last edge is
"". `site` is where the object was allocated, [path, line], or None. A step
may carry `name` (what the root is called: `module app`).

The growth report's `chain_steps` (gclint/dynamic/growth.py: each step's
edge is the reference into it, as {"kind": "attr", "label": "CACHE"}) are
read too (`steps_from_chain_steps`). A door that sees live objects (the
pytest plugin's --gclint-graph) builds a Picture directly: any nodes and
edges, not only a ring or a chain.

The drawings: Graphviz DOT (`to_dot`), an SVG drawn here without Graphviz
(`to_svg`), and a terminal tree (`tree`). Labels come from the target
(type names, dictionary keys, file names): every drawing escapes them.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, replace
from html import escape
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from gclint.report.printable import printable

CYCLE = "cycle"
RETAINED = "retained"
KINDS = (CYCLE, RETAINED)
# More than this many nodes is not a picture a person reads.
MAX_NODES = 60
_MAX_LABEL = 80
# Graphviz on a large graph can take long; a picture is never worth a hang.
_DOT_TIMEOUT_SECONDS = 60

Site = Tuple[str, int]


@dataclass(frozen=True)
class Node:
    type: str
    site: Optional[Site] = None
    name: str = ""
    # The member the finding points at.
    highlight: bool = False


@dataclass(frozen=True)
class Edge:
    source: int
    target: int
    label: str = ""
    highlight: bool = False


@dataclass(frozen=True)
class Picture:
    kind: str
    title: str
    nodes: Tuple[Node, ...]
    edges: Tuple[Edge, ...]


# -- building -------------------------------------------------------------------


def from_steps(kind: str, steps: Any, title: str = "") -> Optional[Picture]:
    """The picture of a cycle or a retained chain; None when `steps` is not
    a list of steps (evidence is read from a file the target could write)."""
    if kind not in KINDS or not isinstance(steps, list) or not steps:
        return None
    nodes = []
    for step in steps[:MAX_NODES]:
        node = _node(step)
        if node is None:
            return None
        nodes.append(node)
    edges = [Edge(i, i + 1, _text(steps[i].get("edge"))) for i in range(len(nodes) - 1)]
    if kind == CYCLE and len(nodes) == len(steps):
        edges.append(Edge(len(nodes) - 1, 0, _text(steps[-1].get("edge"))))
    return Picture(kind, title, tuple(nodes), tuple(edges))


def _node(step: Any) -> Optional[Node]:
    if not isinstance(step, Mapping) or not isinstance(step.get("type"), str):
        return None
    return Node(type=_text(step["type"]), site=_site(step.get("site")), name=_text(step.get("name")))


def _site(value: Any) -> Optional[Site]:
    if isinstance(value, (list, tuple)) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int):
        return (value[0], value[1])
    return None


def _text(value: Any) -> str:
    return value[:_MAX_LABEL] if isinstance(value, str) else ""


def evidence_picture(evidence: Mapping[str, Any], title: str = "") -> Optional[Picture]:
    """The picture of one evidence item that carries steps: a cycle, or a
    chain from a root to what it keeps (whatever the kind is called:
    "retained", "retained-object", ...)."""
    kind = CYCLE if evidence.get("kind") == CYCLE else RETAINED
    steps = evidence.get("steps")
    if steps is None and "chain_steps" in evidence:
        steps = steps_from_chain_steps(evidence["chain_steps"])
    return from_steps(kind, steps, title)


# The growth report's edge kinds (gclint/dynamic/growth.py), as labels.
_EDGE_FORMS = {"attr": ".{}", "key": "[{}]", "index": "[{}]", "cell": ".{}", "item": "{{{}}}", "referent": "{}"}


def steps_from_chain_steps(chain_steps: Any) -> Any:
    """The growth report's retaining chain (`chain_steps`: each step's edge
    is the reference *into* it, {"kind": "attr", "label": "CACHE"}) as
    steps (each step's edge is the reference *out of* it, ".CACHE")."""
    if not isinstance(chain_steps, list) or not all(isinstance(s, Mapping) for s in chain_steps):
        return None
    steps = []
    for step, following in zip(chain_steps, list(chain_steps[1:]) + [None]):
        steps.append({"type": step.get("type"), "name": step.get("name") or "", "site": step.get("site"), "edge": _edge_into(following)})
    return steps


def _edge_into(step: Optional[Mapping[str, Any]]) -> str:
    edge = step.get("edge") if step is not None else None
    if not isinstance(edge, Mapping) or edge.get("kind") not in _EDGE_FORMS:
        return ""
    label = edge.get("label")
    return _EDGE_FORMS[edge["kind"]].format(label) if isinstance(label, str) else ""


def highlighted(picture: Picture, site: Optional[Site] = None, line_text: str = "") -> Picture:
    """The picture with the member the finding points at marked. In a cycle:
    the holder of a reference the flagged line names (`self.parent = ...`
    marks the `.parent` edge and its holder), else the members allocated on
    that line. In a retained chain (the finding is where what grows is
    made): the members allocated on that line first."""
    names = _names_in(line_text)
    allocated = {i for i, n in enumerate(picture.nodes) if site is not None and n.site is not None and _same_site(n.site, site)}
    if picture.kind == RETAINED and allocated:
        names = set()
    edges = tuple(replace(e, highlight=e.label in names) for e in picture.edges)
    marked = {e.source for e in edges if e.highlight} or allocated
    nodes = tuple(replace(n, highlight=i in marked) for i, n in enumerate(picture.nodes))
    return replace(picture, nodes=nodes, edges=edges)


_ASSIGNED = re.compile(r"\.(\w+)\s*(?:=[^=]|\+=|\.append\(|\.add\(|\.setdefault\(|\[)")
# `err = exc`: the frame holds it as a local.
_LOCAL = re.compile(r"^\s*(\w+)\s*(?:=[^=]|\+=)")
_ATTRIBUTE = re.compile(r"\.(\w+)")
_KEY = re.compile(r"\[\s*('[^']*'|\"[^\"]*\"|\d+)\s*\]")


def _names_in(line_text: str) -> Set[str]:
    """Edge labels the flagged line names: the attribute or local it assigns
    or appends to when it does, else every attribute and literal key in it."""
    assigned = {f".{name}" for name in _ASSIGNED.findall(line_text)}
    # A frame names its locals, or (3.9-3.12) holds the dict that does.
    assigned |= {label for name in _LOCAL.findall(line_text) for label in (f".f_locals[{name!r}]", f"[{name!r}]")}
    if assigned:
        return assigned
    keys = {f"[{_key_label(key)}]" for key in _KEY.findall(line_text)}
    return {f".{name}" for name in _ATTRIBUTE.findall(line_text)} | keys


def _key_label(key: str) -> str:
    # The probe writes keys with repr(): 'x' whichever quotes the source used.
    return repr(key[1:-1]) if key[0] in "'\"" else key


def _same_site(a: Site, b: Site) -> bool:
    return a[1] == b[1] and (a[0] == b[0] or os.path.realpath(a[0]) == os.path.realpath(b[0]))


# -- labels -----------------------------------------------------------------------


def node_label(node: Node) -> str:
    """`Type name` (the name only for a root), printable."""
    return printable(node.type + (f" {node.name}" if node.name else ""))


def site_label(site: Optional[Site]) -> str:
    return printable(f"{os.path.basename(site[0])}:{site[1]}") if site else ""


# -- Graphviz DOT ---------------------------------------------------------------------

_HIGHLIGHT_NODE = 'style="filled,bold", fillcolor="#ffe0e0", color="#c00000"'
_HIGHLIGHT_EDGE = 'color="#c00000", fontcolor="#c00000", penwidth=2'


def to_dot(picture: Picture) -> str:
    """The picture as a Graphviz digraph: one box per node (its type, and
    where it was allocated), one arrow per reference (its attribute, key or
    index); the flagged member in red."""
    lines = [
        f"digraph {picture.kind} {{",
        f"  graph [label={dot_string(printable(picture.title))}, labelloc=t, fontname=monospace];",
        "  node [shape=box, fontname=monospace];",
        "  edge [fontname=monospace];",
    ]
    for n, node in enumerate(picture.nodes):
        label = node_label(node) + (f"\n{site_label(node.site)}" if node.site else "")
        lines.append(f"  n{n} [label={dot_string(label)}" + (f", {_HIGHLIGHT_NODE}" if node.highlight else "") + "];")
    for edge in picture.edges:
        attributes = [f"label={dot_string(printable(edge.label))}"] if edge.label else []
        attributes += [_HIGHLIGHT_EDGE] if edge.highlight else []
        lines.append(f"  n{edge.source} -> n{edge.target}" + (f" [{', '.join(attributes)}]" if attributes else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_string(text: str) -> str:
    """A DOT quoted string showing `text` as it is: a backslash would start
    a Graphviz escape (\\N is the node's name), a newline is a line break."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot_svg(dot_text: str) -> Optional[str]:
    """Graphviz's SVG of a DOT text, or None without `dot` or when it fails."""
    dot = shutil.which("dot")
    if not dot:
        return None
    try:
        done = subprocess.run([dot, "-Tsvg"], input=dot_text.encode("utf-8"), capture_output=True, timeout=_DOT_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 and done.stdout else None


def write_picture(directory: str, picture: Picture) -> str:
    """`DIR/<kind>-N.dot`, and `.svg` beside it when Graphviz's `dot` is on
    PATH; the DOT file's path. N counts on from the pictures of that kind
    already there, past any name that is taken."""
    os.makedirs(directory, exist_ok=True)
    text = to_dot(picture)
    number = 1 + len([name for name in os.listdir(directory) if name.startswith(f"{picture.kind}-") and name.endswith(".dot")])
    while True:
        path = os.path.join(directory, f"{picture.kind}-{number}.dot")
        try:
            # "x": never overwrite a file that is already there.
            with open(path, "x", encoding="utf-8") as out:
                out.write(text)
            break
        except FileExistsError:
            number += 1
    svg = dot_svg(text)
    if svg is not None:
        with open(path[:-4] + ".svg", "w", encoding="utf-8") as out:
            out.write(svg)
    return path


# -- an SVG without Graphviz ----------------------------------------------------------
# Nodes in one column, top to bottom in step order; an arrow between
# neighbours goes straight down, any other (a cycle's way back) curves on
# the right with its label beside the curve.

_CHAR_WIDTH = 7.3
_BOX_HEIGHT = 40
_GAP = 34
_MARGIN = 16
_TITLE_HEIGHT = 24


def to_svg(picture: Picture) -> str:
    width = _box_width(picture)
    curves = [e for e in picture.edges if e.target != e.source + 1]
    room = 60 + 12 * len(curves) + _CHAR_WIDTH * max([len(printable(e.label)) for e in curves] or [0])
    total_width = int(_MARGIN * 2 + max(width + room, _CHAR_WIDTH * len(printable(picture.title))))
    total_height = int(_TITLE_HEIGHT + _MARGIN + len(picture.nodes) * (_BOX_HEIGHT + _GAP))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_width}" height="{total_height}" viewBox="0 0 {total_width} {total_height}" '
        f'font-family="monospace" font-size="12" role="img" aria-label="{escape(printable(picture.title))}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>',
        f'<text x="{_MARGIN}" y="16" font-weight="bold">{escape(printable(picture.title))}</text>',
    ]
    parts += [_svg_node(n, node, width) for n, node in enumerate(picture.nodes)]
    parts += [_svg_edge(edge, width, curves) for edge in picture.edges]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _box_width(picture: Picture) -> float:
    longest = max([len(node_label(n)) for n in picture.nodes] + [len(site_label(n.site)) for n in picture.nodes] + [8])
    return longest * _CHAR_WIDTH + 20


def _top(n: int) -> float:
    return _TITLE_HEIGHT + _MARGIN + n * (_BOX_HEIGHT + _GAP)


def _svg_node(n: int, node: Node, width: float) -> str:
    stroke, fill = ("#c00000", "#ffe0e0") if node.highlight else ("#333333", "#f4f4f4")
    y = _top(n)
    text = f'<text x="{_MARGIN + 10}" y="{y + 16}">{escape(node_label(node))}</text>'
    if node.site:
        text += f'<text x="{_MARGIN + 10}" y="{y + 32}" fill="#555555">{escape(site_label(node.site))}</text>'
    weight = 2 if node.highlight else 1
    return f'<rect x="{_MARGIN}" y="{y}" width="{width:.0f}" height="{_BOX_HEIGHT}" rx="4" fill="{fill}" stroke="{stroke}" stroke-width="{weight}"/>{text}'


def _svg_edge(edge: Edge, width: float, curves: Sequence[Edge]) -> str:
    color = "#c00000" if edge.highlight else "#333333"
    label = escape(printable(edge.label))
    stroke = f'stroke="{color}" stroke-width="{2 if edge.highlight else 1}" fill="none" marker-end="url(#arrow)"'
    if edge in curves:
        right = _MARGIN + width
        y1, y2 = _top(edge.source) + _BOX_HEIGHT / 2, _top(edge.target) + _BOX_HEIGHT / 2
        reach = right + 40 + 12 * curves.index(edge)
        path = f'<path d="M{right:.0f},{y1:.0f} C{reach:.0f},{y1:.0f} {reach:.0f},{y2:.0f} {right:.0f},{y2:.0f}" {stroke}/>'
        return path + f'<text x="{reach - 6:.0f}" y="{(y1 + y2) / 2:.0f}" fill="{color}">{label}</text>'
    x = _MARGIN + 24
    y1, y2 = _top(edge.source) + _BOX_HEIGHT, _top(edge.target)
    line = f'<line x1="{x}" y1="{y1:.0f}" x2="{x}" y2="{y2:.0f}" {stroke}/>'
    return line + f'<text x="{x + 8}" y="{(y1 + y2) / 2 + 4:.0f}" fill="{color}">{label}</text>'


# -- a terminal tree -------------------------------------------------------------------


@dataclass(frozen=True)
class TreeLine:
    """One row of the tree: how deep, the reference that leads to it, what
    it is, and whether it goes back to a node shown above (a cycle closes)."""

    depth: int
    edge: str
    node: Node
    back_to: Optional[int] = None
    index: int = 0
    # The reference the flagged line makes.
    flagged: bool = False


def tree_rows(picture: Picture) -> List[TreeLine]:
    """The picture walked depth first from its first node: a ring reads as
    one nested chain that ends by pointing back at where it started."""
    if not picture.nodes:
        return []
    out: Dict[int, List[Edge]] = {}
    for edge in picture.edges:
        out.setdefault(edge.source, []).append(edge)
    rows = [TreeLine(0, "", picture.nodes[0], index=0)]
    seen = {0}
    stack: List[Tuple[int, Iterator[Edge]]] = [(0, iter(out.get(0, ())))]
    while stack:
        depth, edges = len(stack), stack[-1][1]
        edge = next(edges, None)
        if edge is None:
            stack.pop()
            continue
        node = picture.nodes[edge.target]
        if edge.target in seen:
            rows.append(TreeLine(depth, edge.label, node, back_to=edge.target, index=edge.target, flagged=edge.highlight))
            continue
        seen.add(edge.target)
        rows.append(TreeLine(depth, edge.label, node, index=edge.target, flagged=edge.highlight))
        stack.append((edge.target, iter(out.get(edge.target, ()))))
    return rows


def tree(picture: Picture) -> Any:
    """A rich Tree of the picture (rich is imported only when drawing)."""
    from rich.text import Text
    from rich.tree import Tree

    rows = tree_rows(picture)
    root = Tree(_row_text(rows[0], Text), guide_style="dim") if rows else Tree(Text(picture.title))
    parents = [root]
    for row in rows[1:]:
        del parents[row.depth:]
        parents.append(parents[-1].add(_row_text(row, Text)))
    return root


def _row_text(row: TreeLine, text_class: Any) -> Any:
    text = text_class()
    if row.edge:
        text.append(printable(row.edge), style="bold red" if row.flagged else "cyan")
        text.append(" -> ")
    if row.back_to is not None:
        text.append(f"back to {node_label(row.node)} #{row.back_to + 1}", style="bold magenta")
        return text
    text.append(node_label(row.node), style="bold red" if row.node.highlight else "bold")
    text.append(f" #{row.index + 1}", style="dim")
    if row.node.site:
        text.append(f"  allocated at {site_label(row.node.site)}", style="dim")
    if row.node.highlight:
        text.append("  <- flagged", style="red")
    return text


def tree_text(picture: Picture, width: int = 200, color: bool = False) -> str:
    """The tree as text: plain (a piped report, a README), or with ANSI
    colours for a terminal; wide, so a long label is never folded."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, color_system="standard" if color else None, highlight=False, emoji=False)
    console.print(tree(picture))
    return buffer.getvalue()


# -- a finding's pictures -----------------------------------------------------------------


def finding_pictures(evidence: Sequence[Mapping[str, Any]], site: Site, line_text: str = "", heading: str = "") -> List[Picture]:
    """One picture per evidence item of a finding that carries steps, titled
    `heading` (default `file:line:`) and the chain, the member the
    finding's line points at highlighted."""
    heading = heading or f"{site_label(site)}:"
    pictures = []
    for item in evidence:
        picture = evidence_picture(item, f"{heading} {item.get('chain') or item.get('kind')}")
        if picture is not None:
            pictures.append(highlighted(picture, site, line_text))
    return pictures


def write_finding_pictures(directory: str, findings: Sequence[Any], line_of: Any) -> List[str]:
    """`--graph DIR`: one picture per confirmed finding's cycle or retained
    chain; the DOT files written. `line_of(path, line)` gives a source line."""
    written = []
    for finding in findings:
        if finding.status != "confirmed":
            continue
        heading = f"{finding.path}:{finding.line}: {finding.code}"
        for picture in finding_pictures(finding.evidence, (finding.path, finding.line), line_of(finding.path, finding.line), heading):
            written.append(write_picture(directory, picture))
    return written
