"""A strict reader of the Graphviz DOT language, for tests.

It follows the grammar of https://graphviz.org/doc/info/lang.html (graph,
statements, attribute lists, edges, subgraphs, ports; IDs as names,
numerals and quoted strings; HTML strings are not accepted, gclint never
writes them) and raises DotError on anything else. It returns the graph as
nodes, edges and attributes, with quoted strings decoded, so a test can
check what a drawing says, not only that it parses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

KEYWORDS = {"strict", "graph", "digraph", "node", "edge", "subgraph"}
_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/|^\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.|\\\n)*")
  | (?P<numeral>-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?))
  | (?P<name>[A-Za-z_\x80-\U0010ffff][A-Za-z_0-9\x80-\U0010ffff]*)
  | (?P<edgeop>->|--)
  | (?P<punct>[{}\[\]=;,:])
    """,
    re.X | re.S | re.M,
)


class DotError(ValueError):
    pass


@dataclass
class Graph:
    directed: bool
    name: Optional[str]
    attributes: Dict[str, str] = field(default_factory=dict)
    nodes: Dict[str, Dict[str, str]] = field(default_factory=dict)
    edges: List[Tuple[str, str, Dict[str, str]]] = field(default_factory=list)


def tokens(text: str) -> List[Tuple[str, str]]:
    out, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise DotError(f"unexpected text at {position}: {text[position:position + 20]!r}")
        position = match.end()
        kind = match.lastgroup
        if kind == "space":
            continue
        value = match.group()
        if kind == "name" and value.lower() in KEYWORDS:
            kind = value.lower()
        elif kind == "punct":
            kind = value
        out.append((kind, value))
    return out


def decode(token: Tuple[str, str]) -> str:
    kind, value = token
    if kind != "string":
        return value
    # At the lexical level only \" is an escape (and backslash-newline joins lines).
    return re.sub(r'\\(["\n])', lambda m: "" if m.group(1) == "\n" else '"', value[1:-1])


class _Reader:
    def __init__(self, text: str) -> None:
        self.tokens = tokens(text)
        self.at = 0

    def peek(self, offset: int = 0) -> Optional[str]:
        index = self.at + offset
        return self.tokens[index][0] if index < len(self.tokens) else None

    def take(self, *kinds: str) -> Tuple[str, str]:
        if self.peek() not in kinds:
            got = self.tokens[self.at] if self.at < len(self.tokens) else "the end"
            raise DotError(f"expected {' or '.join(kinds)}, got {got!r}")
        self.at += 1
        return self.tokens[self.at - 1]

    def ident(self) -> str:
        return decode(self.take("name", "numeral", "string"))

    def is_id(self) -> bool:
        return self.peek() in ("name", "numeral", "string")


def parse(text: str) -> Graph:
    reader = _Reader(text)
    if reader.peek() == "strict":
        reader.take("strict")
    kind = reader.take("graph", "digraph")[0]
    graph = Graph(directed=kind == "digraph", name=reader.ident() if reader.is_id() else None)
    reader.take("{")
    _statements(reader, graph)
    reader.take("}")
    if reader.peek() is not None:
        raise DotError("text after the graph")
    return graph


def _statements(reader: _Reader, graph: Graph) -> None:
    while reader.peek() not in ("}", None):
        _statement(reader, graph)
        if reader.peek() == ";":
            reader.take(";")


def _statement(reader: _Reader, graph: Graph) -> None:
    kind = reader.peek()
    if kind in ("graph", "node", "edge"):
        reader.take(kind)
        attributes = _attribute_lists(reader, required=True)
        if kind == "graph":
            graph.attributes.update(attributes)
        return
    if kind in ("subgraph", "{"):
        _subgraph(reader, graph)
        _edge_rest(reader, graph, None)
        return
    if reader.is_id() and reader.peek(1) == "=":
        key = reader.ident()
        reader.take("=")
        graph.attributes[key] = reader.ident()
        return
    node = _node_id(reader)
    if reader.peek() == "edgeop":
        _edge_rest(reader, graph, node)
        return
    graph.nodes.setdefault(node, {}).update(_attribute_lists(reader, required=False))


def _node_id(reader: _Reader) -> str:
    name = reader.ident()
    if reader.peek() == ":":
        reader.take(":")
        reader.ident()
        if reader.peek() == ":":
            reader.take(":")
            reader.ident()
    return name


def _subgraph(reader: _Reader, graph: Graph) -> None:
    if reader.peek() == "subgraph":
        reader.take("subgraph")
        if reader.is_id():
            reader.ident()
    reader.take("{")
    _statements(reader, graph)
    reader.take("}")


def _edge_rest(reader: _Reader, graph: Graph, first: Optional[str]) -> None:
    chain = [first]
    while reader.peek() == "edgeop":
        op = reader.take("edgeop")[1]
        if op != ("->" if graph.directed else "--"):
            raise DotError(f"{op} in a {'digraph' if graph.directed else 'graph'}")
        if reader.peek() in ("subgraph", "{"):
            _subgraph(reader, graph)
            chain.append(None)
        else:
            chain.append(_node_id(reader))
    attributes = _attribute_lists(reader, required=False) if len(chain) > 1 else {}
    for source, target in zip(chain, chain[1:]):
        if source is not None and target is not None:
            graph.nodes.setdefault(source, {})
            graph.nodes.setdefault(target, {})
            graph.edges.append((source, target, dict(attributes)))


def _attribute_lists(reader: _Reader, required: bool) -> Dict[str, str]:
    attributes: Dict[str, str] = {}
    if required and reader.peek() != "[":
        reader.take("[")
    while reader.peek() == "[":
        reader.take("[")
        while reader.peek() != "]":
            key = reader.ident()
            reader.take("=")
            attributes[key] = reader.ident()
            if reader.peek() in (";", ","):
                reader.take(reader.peek())
        reader.take("]")
    return attributes


def label_text(label: str) -> str:
    """What Graphviz shows for an escString label: \\n \\l \\r break lines, \\\\ is a backslash."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nlr" else m.group(1), label)
