"""`--format html`: one self-contained page to attach to a bug report.

The findings, their dynamic evidence (summary, the picture of each cycle or
retained chain, the evidence data itself) and what each target wrote. No
external asset, no script: the pictures are SVG inside the page (Graphviz's
when `dot` is on PATH, else drawn by gclint.report.graph), the style is in
the page. Everything shown comes from the checked tree or the target (file
names, messages, dictionary keys, output) and is escaped; the page also
forbids scripts in its Content-Security-Policy, in case something is not.
"""
from __future__ import annotations

import base64
import collections
import json
from html import escape
from typing import Any, Iterable, List, Mapping, Sequence

from gclint.model import Finding
from gclint.report.graph import Picture, dot_svg, finding_pictures, to_dot, to_svg, tree_text
from gclint.report.printable import one_line, printable
from gclint.report.sources import SourceLines

# A target's output past this many characters is cut to its last ones.
MAX_OUTPUT_CHARS = 1_000_000

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin: 0 0 .3em; }
code, pre, .where { font-family: ui-monospace, monospace; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; } td, th { padding: .2em .8em; border-bottom: 1px solid #ddd; text-align: left; }
.finding { border: 1px solid #ccc; border-left: 6px solid #888; border-radius: 4px; padding: .8em 1em; margin: 1em 0; }
.sev-error { border-left-color: #c00000; } .sev-warning { border-left-color: #d08000; } .sev-info { border-left-color: #2a7ab0; }
.code { font-weight: bold; } .status { font-size: .85em; padding: .1em .5em; border-radius: 1em; background: #eee; }
.status-confirmed { background: #ffe0e0; color: #900; }
.picture { margin: .6em 0; overflow-x: auto; }
details > summary { cursor: pointer; color: #444; }
"""
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render_html(findings: Sequence[Finding], sources: SourceLines, outputs: Sequence[Any] = (), files: int = 0, version: str = "") -> str:
    """The whole page. `outputs`: items with `label`, `said`, `output` (what each dynamic target wrote)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>gclint report: {_count(len(findings), 'finding')}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>gclint report</h1><p>{_count(len(findings), 'finding')} in {_count(files, 'file')} checked"
        + (f" by gclint {_text(version)}" if version else "") + ".</p>",
        _table(findings),
    ]
    parts += [_finding(n, f, sources) for n, f in enumerate(findings, 1)]
    parts += _outputs(outputs)
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def _text(value: Any) -> str:
    """One line of untrusted text, safe in HTML text and attributes."""
    return escape(printable(one_line(str(value))), quote=True)


def _block(value: str) -> str:
    """Untrusted text with its lines kept (output, evidence data)."""
    return escape("\n".join(printable(line.replace("\t", "    ")) for line in value.splitlines()), quote=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _table(findings: Sequence[Finding]) -> str:
    """Findings per code and dynamic status."""
    if not findings:
        return "<p>No findings.</p>"
    counts = collections.Counter((f.code, f.status or "static only") for f in findings)
    rows = "".join(f"<tr><td class=\"code\">{_text(code)}</td><td>{_text(status)}</td><td>{n}</td></tr>" for (code, status), n in sorted(counts.items()))
    return f"<table><tr><th>code</th><th>status</th><th>findings</th></tr>{rows}</table>"


def _finding(number: int, f: Finding, sources: SourceLines) -> str:
    source_line = sources.line(f.path, f.line)
    status = f' <span class="status status-{_text(f.status.replace(" ", "-"))}">{_text(f.status)}</span>' if f.status else ""
    parts = [
        f'<article class="finding sev-{_text(f.severity.value)}" id="finding-{number}">',
        f'<h2><span class="code">{_text(f.code)}</span> <span class="where">{_text(f.path)}:{f.line}:{f.col}</span>{status}</h2>',
        f"<p>{_text(f.message)}</p>",
    ]
    if source_line.strip():
        parts.append(f"<pre>{_block(source_line)}</pre>")
    pictures = finding_pictures(f.evidence, (f.path, f.line), source_line)
    parts += [_evidence(item) for item in f.evidence]
    parts += [_picture(p) for p in pictures]
    parts.append("</article>")
    return "\n".join(parts)


def _evidence(item: Mapping[str, Any]) -> str:
    summary = item.get("summary")
    shown = f"<p>{_text(summary)}</p>" if summary else ""
    data = json.dumps(item, indent=2, sort_keys=True, default=str)
    return shown + f"<details><summary>evidence data ({_text(item.get('kind', '?'))})</summary><pre>{_block(data)}</pre></details>"


def _picture(picture: Picture) -> str:
    """Graphviz's drawing when `dot` is there (as an image: an SVG in <img>
    runs nothing), else gclint's own; the tree as text beside it."""
    drawn = dot_svg(to_dot(picture))
    if drawn is not None:
        data = base64.b64encode(drawn.encode("utf-8")).decode("ascii")
        image = f'<img alt="{_text(picture.title)}" src="data:image/svg+xml;base64,{data}">'
    else:
        image = to_svg(picture)
    as_text = f"<details><summary>as text</summary><pre>{_block(tree_text(picture))}</pre></details>"
    return f'<div class="picture">{image}</div>{as_text}'


def _outputs(outputs: Iterable[Any]) -> List[str]:
    outputs = list(outputs)
    if not outputs:
        return []
    parts = ["<h2>What the targets wrote</h2>"]
    for out in outputs:
        text = out.output
        cut = ""
        if len(text) > MAX_OUTPUT_CHARS:
            cut = f"[the first {len(text) - MAX_OUTPUT_CHARS} characters are left out]\n"
            text = text[-MAX_OUTPUT_CHARS:]
        body = f"<pre>{_block(cut + text)}</pre>" if text else "<p>(no output)</p>"
        parts.append(f"<details open><summary>{_text(out.label)}: {_text(out.said)}</summary>{body}</details>")
    return parts
