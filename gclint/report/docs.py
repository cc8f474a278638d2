"""docs/rules/: one page per code, generated from the rule classes.

`python -m gclint.report.docs` rewrites the pages; tests/test_docs.py fails
when one is stale, so a rule's documentation is edited in its class only.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from gclint.model import RULE_DOCS_PATH, RuleInfo
from gclint.rule import all_rules, extra_codes

GENERATED = "<!-- generated from the rule classes by `python -m gclint.report.docs`; edit the class, not this file -->"


def rule_infos() -> List[RuleInfo]:
    """Every code gclint can report: the engine's, dynamic mode's, the rules'."""
    return [*extra_codes().values(), *(r.info() for r in all_rules())]


def pages() -> Dict[str, str]:
    """File name -> text of every page under docs/rules/."""
    infos = rule_infos()
    texts = {f"{info.code}.md": f"{GENERATED}\n\n{info.markdown()}" for info in infos}
    texts["README.md"] = index(infos)
    return texts


def index(infos: Sequence[RuleInfo]) -> str:
    rows = [
        GENERATED, "", "# gclint rules", "",
        "| code | name | severity | default | why (measured) | what it finds |", "|---|---|---|---|---|---|",
    ]
    for i in infos:
        summary = i.summary.replace("|", r"\|")
        on = "on" if i.default else "off"
        rows.append(f"| [{i.code}]({i.code}.md) | {i.name} | {i.severity.value} | {on} | {i.why_default or ''} | {summary} |")
    return "\n".join(rows) + "\n"


def write(directory: Path) -> List[str]:
    """Write every page, remove pages of codes that no longer exist; the
    names of the files that changed."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = pages()
    changed = []
    for name, text in wanted.items():
        target = directory / name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8", newline="\n")
            changed.append(name)
    for stale in sorted(directory.glob("GCL*.md")):
        if stale.name not in wanted:
            stale.unlink()
            changed.append(stale.name)
    return changed


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    directory = Path(args[0] if args else RULE_DOCS_PATH)
    changed = write(directory)
    print(f"{len(changed)} of {len(pages())} pages in {directory} changed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
