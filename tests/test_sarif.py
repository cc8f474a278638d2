"""`--format sarif` validates against the SARIF 2.1.0 schema (OASIS, shipped in tests/data)."""
import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from conftest import FIXTURES, ROOT

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
    # Full help per rule, and a link to its page in the repository.
    rule = next(r for r in rules if r["id"] == "GCL401")
    assert "## Use instead" in rule["help"]["markdown"] and "## References" in rule["help"]["markdown"]
    for r in rules:
        assert r["helpUri"].startswith("https://") and r["helpUri"].endswith(f"/docs/rules/{r['id']}.md")
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
