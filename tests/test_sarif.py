"""`--format sarif` validates against the SARIF 2.1.0 schema (OASIS, shipped in tests/data)."""
import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from conftest import FIXTURES, ROOT
from gclint import cli
from gclint.model import installed_rule_docs_base, rule_docs_base

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


def test_sarif_output_is_valid_and_complete():
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--format", "sarif", str(FIXTURES)], capture_output=True, text=True
    )
    log = json.loads(done.stdout)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} >= {"GCL001", "GCL401"}
    assert all(r["help"]["markdown"] and r["shortDescription"]["text"] for r in rules)
    # Full help per rule: the whole page, since there is no published one to link to.
    rule = next(r for r in rules if r["id"] == "GCL401")
    assert "## Use instead" in rule["help"]["markdown"] and "## References" in rule["help"]["markdown"]
    assert rule["help"]["markdown"] == (ROOT / "docs" / "rules" / "GCL401.md").read_text().split("\n\n", 1)[1]
    base = installed_rule_docs_base()
    for r in rules:
        assert r.get("helpUri") == (f"{base}/{r['id']}.md" if base else None)
        assert (ROOT / "docs" / "rules" / f"{r['id']}.md").is_file()
    result = next(r for r in run["results"] if r["ruleId"] == "GCL401")
    assert rules[result["ruleIndex"]]["id"] == "GCL401"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (22, 16)
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert not uri.startswith("/") and uri.endswith("fixtures/gc/young_collect.py")


def _sarif(*args, cwd=None):
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--no-cache", "--format", "sarif", *args], cwd=cwd, capture_output=True, text=True
    )
    log = json.loads(done.stdout)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    return log["runs"][0]


def test_every_result_has_a_fingerprint_that_survives_lines_moving(tmp_path):
    app = tmp_path / "app.py"
    body = "import gc\n\ndef f():\n    gc.collect(0)\n\ndef g():\n    gc.collect(0)\n"
    app.write_text(body)
    before = _sarif("app.py", cwd=tmp_path)["results"]
    app.write_text("# moved down\n\n\n" + body)
    after = _sarif("app.py", cwd=tmp_path)["results"]
    prints = [r["partialFingerprints"]["gclint/v1"] for r in before]
    assert len(set(prints)) == 2  # two identical lines still get two fingerprints
    assert [r["partialFingerprints"]["gclint/v1"] for r in after] == prints
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after] == [7, 10]


def test_fixtures_results_all_have_fingerprints():
    run = _sarif(str(FIXTURES))
    assert run["results"] and all(r["partialFingerprints"]["gclint/v1"] for r in run["results"])


def test_files_not_analysed_are_notifications_not_results(tmp_path):
    (tmp_path / "broken.py").write_text("def f(:\n")
    (tmp_path / "bad.py").write_text("import gc\ngc.collect(0)\n")
    run = _sarif(".", cwd=tmp_path)
    assert [r["ruleId"] for r in run["results"]] == ["GCL401"]
    (invocation,) = run["invocations"]
    (note,) = invocation["toolExecutionNotifications"]
    assert note["descriptor"]["id"] == "GCL001" and note["level"] == "error"
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.py"
    assert invocation["executionSuccessful"] is True


def test_the_rule_docs_base_comes_only_from_a_labelled_https_project_url():
    assert rule_docs_base(None) is None
    assert rule_docs_base(["Homepage, https://example.org", "Repository, https://example.org/src"]) is None
    assert rule_docs_base(["rule documentation,  https://example.org/gclint/rules/ "]) == "https://example.org/gclint/rules"
    # A page link must be one a browser opens safely.
    assert rule_docs_base(["Rule documentation, http://example.org/rules"]) is None
    assert rule_docs_base(["Rule documentation, javascript:alert(1)"]) is None


class _Metadata:
    def __init__(self, urls):
        self.urls = urls

    def get_all(self, key):
        return self.urls if key == "Project-URL" else None


def _sarif_in_process(tmp_path, monkeypatch, urls):
    from importlib import metadata

    monkeypatch.setattr(metadata, "metadata", lambda name: _Metadata(urls))
    (tmp_path / "app.py").write_text("import gc\ngc.collect(0)\n")
    out = tmp_path / "out.sarif"
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--no-cache", "--format", "sarif", "--output-file", str(out), "app.py"]) == 1
    log = json.loads(out.read_text())
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    return log["runs"][0]["tool"]["driver"]["rules"]


def test_no_published_pages_no_help_uri_but_the_whole_help(tmp_path, monkeypatch):
    rules = _sarif_in_process(tmp_path, monkeypatch, ["Homepage, https://example.org"])
    assert rules and all("helpUri" not in r for r in rules)
    assert all(r["help"]["markdown"].startswith(f"# {r['id']} ") for r in rules)


def test_published_pages_give_each_rule_its_help_uri(tmp_path, monkeypatch):
    rules = _sarif_in_process(tmp_path, monkeypatch, ["Rule documentation, https://example.org/gclint/docs/rules/"])
    assert {r["id"]: r["helpUri"] for r in rules}["GCL401"] == "https://example.org/gclint/docs/rules/GCL401.md"
    assert all(r["helpUri"] == f"https://example.org/gclint/docs/rules/{r['id']}.md" for r in rules)
