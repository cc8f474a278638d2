"""The findings cache: hits give the same answer, anything doubtful misses."""
import json
import subprocess
import sys

import pytest

from gclint.cache import Cache
from gclint.config import Settings
from gclint.runner import lint_files

BAD = "import gc\n\ndef f():\n    gc.collect(0)\n"


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "a.py").write_text(BAD)
    (tmp_path / "b.py").write_text("x = 1\n")
    return tmp_path


def _run(tree, cache, settings=Settings()):
    files = sorted(str(p) for p in tree.glob("*.py"))
    return lint_files(files, settings, jobs=1, cache=cache).findings


def _entries(directory):
    """The findings entries (module summaries are entries too: keys start with "s")."""
    return sorted(p for p in directory.rglob("*.json") if not p.name.startswith("s"))


def test_second_run_is_served_from_the_cache(tree, tmp_path, monkeypatch):
    cache = Cache(str(tmp_path / "cache"), "s")
    first = _run(tree, cache)
    assert len(_entries(tmp_path / "cache")) == 2

    def must_not_lint(*args, **kwargs):
        raise AssertionError("linted although cached")

    monkeypatch.setattr("gclint.runner.lint_source", must_not_lint)
    assert _run(tree, cache) == first


def test_changed_content_or_settings_miss(tree, tmp_path):
    cache = Cache(str(tmp_path / "cache"), "s")
    _run(tree, cache)
    (tree / "a.py").write_text(BAD.replace("collect(0)", "collect(1)"))
    assert "gc.collect(1)" in _run(tree, cache)[0].message
    other = Cache(str(tmp_path / "cache"), "other settings")
    b = str(tree / "b.py")
    assert other.get(other.key(b, b"x = 1\n"), b, b"x = 1\n") is None


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda text: "{not json", id="corrupt"),
        pytest.param(lambda text: text.replace('"key": "', '"key": "x'), id="foreign-key"),
        pytest.param(lambda text: json.dumps({"key": json.loads(text)["key"], "findings": [{"line": "?"}]}), id="bad-fields"),
        pytest.param(lambda text: "", id="empty"),
    ],
)
def test_a_damaged_entry_is_ignored_and_rewritten(tree, tmp_path, damage):
    cache = Cache(str(tmp_path / "cache"), "s")
    first = _run(tree, cache)
    for entry in _entries(tmp_path / "cache"):
        entry.write_text(damage(entry.read_text()))
    assert _run(tree, cache) == first
    for entry in _entries(tmp_path / "cache"):
        assert json.loads(entry.read_text())["key"] == entry.stem


def test_cli_no_cache_writes_nothing_and_cache_dir_is_honoured(tree):
    base = [sys.executable, "-m", "gclint", "check", "--no-config", str(tree)]
    subprocess.run([*base, "--no-cache"], cwd=tree, capture_output=True)
    assert not (tree / ".gclint_cache").exists()
    subprocess.run([*base, "--cache-dir", str(tree / "c")], cwd=tree, capture_output=True)
    assert len(_entries(tree / "c")) == 2 and (tree / "c" / ".gitignore").exists()
    again = subprocess.run([*base, "--cache-dir", str(tree / "c"), "--format", "json"], capture_output=True, text=True)
    assert [f["code"] for f in json.loads(again.stdout)] == ["GCL401"]
