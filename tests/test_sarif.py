"""`--format sarif` validates against the SARIF 2.1.0 schema (OASIS, shipped in tests/data)."""
import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from conftest import FIXTURES

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
    result = next(r for r in run["results"] if r["ruleId"] == "GCL401")
    assert rules[result["ruleIndex"]]["id"] == "GCL401"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (22, 16)
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert not uri.startswith("/") and uri.endswith("fixtures/gc/young_collect.py")
