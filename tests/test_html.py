"""`--format html`: one self-contained page, everything in it escaped."""
import html
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser

import pytest

from conftest import ROOT
from gclint.dynamic import TargetOutput
from gclint.model import CONFIRMED, Finding, Severity
from gclint.report import html as html_report
from gclint.report.sources import SourceLines

HOSTILE = "<script>alert('x')</script>"


class _Page(HTMLParser):
    """Every tag and attribute of a page, and its text."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.text = [], [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def _cycle_finding(path=f"app/{HOSTILE}.py", message=f"cycle {HOSTILE}", kind_of_type=HOSTILE):
    evidence = {
        "kind": "cycle", "path": path, "line": 2, "objects": 2, "cycles": 1, "chain": f"{kind_of_type}.me -> {kind_of_type}",
        "summary": f"2 objects ({kind_of_type}), freed only by the cycle collector",
        "steps": [{"type": kind_of_type, "edge": ".me", "site": [path, 2]}],
    }
    return Finding(path=path, line=2, col=9, code="GCL203", message=message, severity=Severity.WARNING, status=CONFIRMED, evidence=(evidence,))


def _page(findings, sources=None, outputs=()):
    return html_report.render_html(findings, SourceLines(sources or {}), outputs, files=1, version="0.1.0")


def _assert_inert(page):
    parsed = _Page(page)
    assert "script" not in parsed.tags
    # Nothing is fetched from outside, nothing runs on an event.
    assert not [(k, v) for k, v in parsed.attributes if k in ("href", "src") and not (v or "").startswith("data:image/svg+xml;base64,")]
    assert not [k for k, _ in parsed.attributes if k.startswith("on")]
    assert {"link", "iframe", "object", "embed"}.isdisjoint(parsed.tags)
    return parsed


def test_a_script_in_a_path_message_type_or_output_is_shown_as_text():
    finding = _cycle_finding()
    source = {finding.path: f"x = 1\n        self.me = self  # {HOSTILE}\n"}
    output = TargetOutput(label=f"{HOSTILE}.py", said="ran to its end", output=f"printed {HOSTILE}\n\x1b[31mred\x1b[0m\n")
    page = _page([finding], source, [output])
    parsed = _assert_inert(page)
    text = "".join(parsed.text)
    assert text.count(HOSTILE) >= 6  # path, message, source line, summary, the picture, the output, its label
    assert f"printed {HOSTILE}" in text and "\\x1b[31mred" in text and "\x1b" not in page
    assert html.escape(HOSTILE) in page


def test_the_page_forbids_scripts_and_outside_assets_itself():
    page = _page([_cycle_finding()])
    assert "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">" in page


def test_the_picture_is_inline_svg_and_well_formed(monkeypatch):
    monkeypatch.setattr(html_report, "dot_svg", lambda text: None)  # as without Graphviz
    page = _page([_cycle_finding(kind_of_type="Node")], {f"app/{HOSTILE}.py": "x\n        self.me = self\n"})
    start, end = page.index("<svg"), page.index("</svg>") + len("</svg>")
    svg = ElementTree.fromstring(page[start:end])
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "Node" in texts and ".me" in texts
    # The member the finding's line points at is drawn in red.
    assert [r.get("stroke") for r in svg.iter("{http://www.w3.org/2000/svg}rect")] == ["#c00000"]
    assert "└── .me -&gt; back to Node #1" in page  # the tree as text beside it


def test_with_graphviz_the_picture_is_its_svg_as_an_image(monkeypatch):
    monkeypatch.setattr(html_report, "dot_svg", lambda text: '<svg xmlns="http://www.w3.org/2000/svg"><text>drawn by dot</text></svg>')
    page = _page([_cycle_finding()])
    _assert_inert(page)
    assert "<svg" not in page
    import base64

    data = page.split('src="data:image/svg+xml;base64,')[1].split('"')[0]
    assert base64.b64decode(data).decode() == '<svg xmlns="http://www.w3.org/2000/svg"><text>drawn by dot</text></svg>'


def test_a_long_output_keeps_its_end(monkeypatch):
    monkeypatch.setattr(html_report, "MAX_OUTPUT_CHARS", 10)
    page = _page([], outputs=[TargetOutput("t.py", "ran to its end", "0123456789abcdefghij")])
    assert "[the first 10 characters are left out]\nabcdefghij" in page and "0123" not in page


def test_a_page_without_findings_says_so():
    page = _page([])
    _assert_inert(page)
    assert "No findings." in page and "0 findings in 1 file checked by gclint 0.1.0." in page


@pytest.mark.parametrize("status", [None, "not reproduced", "not executed"])
def test_findings_without_evidence_have_no_picture(status):
    finding = Finding(path="a.py", line=1, col=1, code="GCL203", message="m", severity=Severity.INFO, status=status)
    page = _page([finding])
    assert "<svg" not in page and "GCL203" in page and "sev-info" in page


def test_gclint_check_dynamic_format_html_end_to_end(tmp_path):
    """A target named and printing a script: the page shows both as text."""
    target = tmp_path / f"{HOSTILE.replace('/', '_')}.py"
    target.write_text(
        "class Node:\n"
        "    def __init__(self):\n"
        "        self.me = self  # expect: GCL203\n"
        "\n\n"
        "def main():\n"
        f"    print({HOSTILE!r})\n"
        "    Node()\n"
    )
    report = tmp_path / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--no-config", "--no-cache", "--select", "GCL", "--dynamic", "--format", "html", "--output-file", str(report), str(target)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,  # a hang guard
    )
    assert done.returncode == 1, done.stderr
    page = report.read_text()
    parsed = _assert_inert(page)
    text = "".join(parsed.text)
    assert "GCL203" in text and "confirmed" in text
    assert f"{target.name}:3:" in text  # the path, escaped and shown
    assert f"{HOSTILE}\n" in text  # what the target printed
    assert "└── .me -> back to Node #1" in text
