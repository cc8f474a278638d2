"""A hostile repository: committed caches, special files, links, deep nesting.

Each test reproduces an attack from issue 10 and checks that it changes
nothing: the findings are the real ones, nothing is written outside the
tree, nothing hangs or eats memory (timeouts here only guard against a hang).
"""
import json
import multiprocessing
import os
import signal
import subprocess
import sys

import pytest

from gclint import lint_source
from gclint.cache import Cache, default_directory
from gclint.config import ConfigError, Settings, load_settings
from gclint.rule import known_codes
from gclint.runner import discover, lint_files

BAD = "import gc\n\ndef f():\n    gc.collect(0)\n"
HANG_GUARD = 300  # seconds; a normal run takes a few


def gclint(*args, cwd=None, env=None):
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--no-config", "--format", "json", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=HANG_GUARD,
    )
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else []), done.stderr


def found(findings):
    return sorted((os.path.basename(f["path"]), f["code"], f["line"]) for f in findings)


def snapshot(root):
    return sorted(os.path.relpath(os.path.join(d, n), root) for d, _, names in os.walk(root) for n in names)


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text(BAD)
    (root / "b.py").write_text("x = 1\n")
    return root


@pytest.fixture
def user_cache(tmp_path, monkeypatch):
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    return xdg


# --- the cache -------------------------------------------------------------------


def test_the_default_cache_is_outside_the_tree_keyed_by_project(repo, user_cache, tmp_path):
    before = snapshot(repo)
    code, findings, _ = gclint(repo, cwd=repo, env={**os.environ})
    assert code == 1 and found(findings) == [("a.py", "GCL401", 4)]
    assert snapshot(repo) == before  # nothing written into the checked tree
    assert default_directory(str(repo)).startswith(str(user_cache / "gclint"))
    other = tmp_path / "other"
    other.mkdir()
    assert default_directory(str(other)) != default_directory(str(repo))
    assert any(p.endswith(".json") for p in snapshot(user_cache))


def test_a_committed_cache_changes_nothing(repo, user_cache):
    # What an attacker commits: the old default location, full of entries
    # that hide a.py's finding and inject one with terminal escapes.
    committed = repo / ".gclint_cache"
    cache = Cache(str(committed), "whatever")
    forged = {"path": str(repo / "b.py"), "line": 1, "col": 1, "code": "GCL401", "message": "\x1b[2J owned", "severity": "error"}
    for name, data in (("a.py", BAD.encode()), ("b.py", b"x = 1\n")):
        key = cache.key(str(repo / name), data)
        (committed / key[:2]).mkdir(parents=True, exist_ok=True)
        (committed / key[:2] / f"{key}.json").write_text(json.dumps({"key": key, "path": str(repo / name), "findings": [forged] if name == "b.py" else []}))
    before = snapshot(repo)
    code, findings, err = gclint(repo, cwd=repo)
    assert found(findings) == [("a.py", "GCL401", 4)]
    assert "\x1b" not in err and snapshot(repo) == before


def _run_with(cache, repo):
    files = [str(repo / "a.py"), str(repo / "b.py")]
    return lint_files(files, Settings(), jobs=1, cache=cache).findings


FORGERIES = {
    "other-file": lambda f, repo: {**f, "path": str(repo / "b.py")},
    "line-past-the-end": lambda f, repo: {**f, "line": 99},
    "line-zero": lambda f, repo: {**f, "line": 0},
    "line-bool": lambda f, repo: {**f, "line": True},
    "end-before-start": lambda f, repo: {**f, "end_line": 1},
    "unknown-code": lambda f, repo: {**f, "code": "GCL999"},
    "escape-in-message": lambda f, repo: {**f, "message": "fine\x1b]8;;http://x\x07"},
    "newline-in-message": lambda f, repo: {**f, "message": "a\nrepo/b.py:1:1 GCL401 forged"},
    "bad-severity": lambda f, repo: {**f, "severity": "fatal"},
    "dynamic-status": lambda f, repo: {**f, "status": "confirmed"},
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_forged_entry_is_a_miss_and_is_rewritten(repo, tmp_path, forgery):
    directory = tmp_path / "cache"
    cache = Cache(str(directory), "s")
    real = _run_with(cache, repo)
    key = cache.key(str(repo / "a.py"), BAD.encode())
    entry = directory / key[:2] / f"{key}.json"
    data = json.loads(entry.read_text())
    data["findings"] = [FORGERIES[forgery](f, repo) for f in data["findings"]]
    entry.write_text(json.dumps(data))
    assert _run_with(cache, repo) == real
    assert json.loads(entry.read_text())["findings"] == [f.as_dict() for f in real if f.path.endswith("a.py")]


def test_a_cache_entry_that_is_a_fifo_or_dev_zero_neither_hangs_nor_eats_memory(repo, tmp_path):
    directory = tmp_path / "cache"
    cache = Cache(str(directory), "s")
    real = _run_with(cache, repo)
    for name, data in (("a.py", BAD.encode()), ("b.py", b"x = 1\n")):
        key = cache.key(str(repo / name), data)
        entry = directory / key[:2] / f"{key}.json"
        entry.unlink()
        if name == "a.py":
            os.mkfifo(entry)
        else:
            os.symlink("/dev/zero", entry)
    assert _run_with(cache, repo) == real


def test_a_cache_directory_that_is_a_link_writes_nothing_outside(repo, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, repo / "cachelink")
    os.symlink(outside, repo / "parentlink")
    for cache_dir in (repo / "cachelink", repo / "parentlink" / "sub" / "cache"):
        code, findings, _ = gclint("--cache-dir", cache_dir, repo / "a.py", repo / "b.py", cwd=repo)
        assert found(findings) == [("a.py", "GCL401", 4)]
        assert snapshot(outside) == [] and not (outside / "sub").exists()


# --- discovery and reading -------------------------------------------------------


@pytest.fixture
def hostile(repo, tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_text("import gc\ngc.collect(0)  # the secret line\n")
    os.mkfifo(repo / "fifo.py")
    os.symlink("/dev/zero", repo / "zero.py")
    os.symlink(secret, repo / "outside.py")
    os.symlink(repo / "a.py", repo / "inside_link.py")
    return repo


def test_discovery_skips_special_files_and_links_leaving_the_tree(hostile):
    code, findings, err = gclint(hostile, cwd=hostile)
    # a.py once (not again through inside_link.py); nothing from the rest.
    assert found(findings) == [("a.py", "GCL401", 4)]
    assert "secret" not in err and code == 1


def test_a_fifo_or_device_named_explicitly_is_a_quick_gcl001(hostile):
    code, findings, err = gclint(hostile / "fifo.py", "/dev/zero", hostile / "b.py", cwd=hostile)
    messages = {os.path.basename(f["path"]): f["message"] for f in findings}
    assert found(findings) == [("fifo.py", "GCL001", 1), ("zero", "GCL001", 1)]
    assert "a FIFO" in messages["fifo.py"] and "character device" in messages["zero"]
    assert "Traceback" not in err


def test_an_explicit_link_out_of_the_project_is_not_read(hostile):
    code, findings, err = gclint(hostile / "outside.py", hostile / "inside_link.py", cwd=hostile)
    assert found(findings) == [("inside_link.py", "GCL401", 4)]
    assert "outside.py: not checked: a symbolic link to a file outside the project" in err
    assert "secret" not in err and code == 2


def test_reads_are_capped_at_max_file_size(repo, monkeypatch):
    (repo / "big.py").write_bytes(b"x = 1\n" * 400_000)
    settings = Settings(max_file_size=64)
    reads = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    (finding,) = lint_files([str(repo / "big.py")], settings).findings
    assert finding.code == "GCL001" and "over max-file-size" in finding.message
    assert sum(reads) <= 64 * 1024 + 1  # st_size already says too big: nothing read


def test_the_same_file_in_two_spellings_is_checked_once(repo, monkeypatch):
    monkeypatch.chdir(repo)
    files, errors = discover(["a.py", "./a.py", str(repo / "a.py"), "."], Settings())
    assert [os.path.realpath(f) for f in files].count(str((repo / "a.py").resolve())) == 1
    assert not errors


def test_an_unreadable_directory_is_an_error_not_silence(repo, monkeypatch):
    (repo / "locked").mkdir()
    (repo / "locked" / "c.py").write_text(BAD)
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.basename(str(path)) == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    files, errors = discover([str(repo)], Settings())
    assert errors == [f"{repo / 'locked'}: cannot read directory: Permission denied"]
    assert sorted(os.path.basename(f) for f in files) == ["a.py", "b.py"]


def test_excludes_match_relative_to_the_walk_and_never_an_explicit_path(tmp_path, monkeypatch):
    lib = tmp_path / "Lib"
    for directory in ("venv", "build/x", "pkg/build", "env_here", ".venv", "dist"):
        (lib / directory).mkdir(parents=True)
        (lib / directory / "m.py").write_text(BAD)
    (lib / "env_here" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    monkeypatch.chdir(lib)
    checked = lambda *paths: sorted(os.path.relpath(f, lib) for f in discover(list(paths), Settings())[0])
    # The stdlib's venv package and a nested build package are code; the
    # walk's own top-level build/ and dist/, a .venv and a real environment are not.
    assert checked(".") == ["pkg/build/m.py", "venv/m.py"]
    # Named on the command line: checked whatever the excludes say.
    assert checked("build/x") == ["build/x/m.py"]
    assert checked("env_here", "dist") == ["dist/m.py", "env_here/m.py"]


# --- deep nesting ----------------------------------------------------------------

DEEP_FILES = {
    "brackets.py": ("import gc\nx = " + "(" * 5000 + "1" + ")" * 5000 + "\ngc.collect(0)\n", ([("GCL001", 2)],)),
    "sum.py": ("import gc\nx = " + "+".join(["a"] * 1000) + "\ngc.collect(0)\n", ([("GCL401", 3)],)),
    # Python itself may refuse it (GCL001) or libcst cannot take it (GCL003).
    "chain.py": ("import gc\nx = " + "-" * 6000 + "a\ngc.collect(0)\n", ([("GCL001", 1)], [("GCL003", 1)])),
    "ok.py": (BAD, ([("GCL401", 4)],)),
    "ok2.py": ("import gc\ngc.set_debug(gc.DEBUG_SAVEALL)\n", None),
}


@pytest.fixture(scope="module")
def deep_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("deep")
    for name, (source, _) in DEEP_FILES.items():
        (root / name).write_text(source)
    return root


@pytest.mark.parametrize("jobs", [1, 2])
def test_deep_nesting_costs_only_its_own_file(deep_tree, jobs):
    code, findings, err = gclint("--no-cache", "--jobs", jobs, deep_tree)
    by_file = {}
    for f in findings:
        by_file.setdefault(os.path.basename(f["path"]), []).append((f["code"], f["line"]))
    for name, (_, expected) in DEEP_FILES.items():
        if expected is not None:
            assert by_file.get(name) in expected, name
    assert by_file.get("ok2.py"), "the other files' findings are all reported"
    assert "Traceback" not in err and "internal error" not in err and code == 1


_REAL_LINT_FILE = lint_files.__globals__["lint_file"]


def _crashing_lint_file(path, settings, cache=None):
    if path.endswith("crash.py"):
        os.kill(os.getpid(), signal.SIGSEGV)  # what libcst's parser did
    return _REAL_LINT_FILE(path, settings, cache)


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="the crash is injected into forked workers")
def test_a_worker_that_dies_costs_only_its_file(repo, monkeypatch):
    import gclint.runner as runner

    (repo / "crash.py").write_text("x = 1\n")
    for i in range(6):
        (repo / f"m{i}.py").write_text(BAD)
    monkeypatch.setattr(runner, "lint_file", _crashing_lint_file)
    files = sorted(str(p) for p in repo.glob("*.py"))
    result = lint_files(files, Settings(), jobs=2)
    codes = sorted((os.path.basename(f.path), f.code) for f in result.findings)
    assert codes == sorted([("a.py", "GCL401"), ("crash.py", "GCL001")] + [(f"m{i}.py", "GCL401") for i in range(6)])
    assert len(result.errors) == 1 and "worker process died" in result.errors[0]


# --- the engine and the configuration --------------------------------------------


@pytest.mark.parametrize("cookie", ["undefined", "punycode", "rot13", "hex"])
def test_a_coding_cookie_python_cannot_use_is_gcl001(cookie):
    (finding,) = lint_source(f"# coding: {cookie}\nimport gc\ngc.collect(0)\n".encode(), "c.py")
    assert finding.code == "GCL001" and "cannot decode" in finding.message


@pytest.mark.parametrize("separator", ["\f", "\u2028", "\x85", "\v", "\x1c"])
def test_noqa_finds_its_line_after_characters_str_splitlines_breaks_at(separator):
    source = f"import gc\ns = '{separator}'\ngc.collect(0)  # noqa: GCL401\ngc.collect(1)\n"
    assert [(f.code, f.line) for f in lint_source(source, "n.py")] == [("GCL401", 4)]


SYNTAX_CASES = {
    "syntax-error": "def f(:\n",
    "t-string-concat": "import gc\nx = 1\ny = t'a' t'b'\n",
    "brackets": "x = " + "(" * 300 + ")" * 300 + "\n",
    "newer-grammar": "type A[T] = list[T]\n",
    "fine": "x = 1\n",
}


@pytest.mark.parametrize("name", sorted(SYNTAX_CASES))
def test_gcl001_does_not_depend_on_which_rules_run(name):
    source = SYNTAX_CASES[name]
    everything = [f.code for f in lint_source(source, "s.py") if f.code == "GCL001"]
    no_rule = [f.code for f in lint_source(source, "s.py", Settings(select=("GCL001",)))]
    assert everything == no_rule


def test_a_t_string_libcst_fails_on_gets_a_real_position():
    (finding,) = lint_source("import gc\nx = 1\ny = t'a' t'b'\n", "t.py")
    assert finding.code in ("GCL001", "GCL003")
    assert (finding.line, finding.col) != (1, 1)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"[tool.gclint]\nselect = ['\xff']\n", id="invalid-utf8"),
        pytest.param(b"x = " + b"[" * 50_000 + b"]" * 50_000 + b"\n", id="deep-arrays"),
        pytest.param(b"[tool.gclint\n", id="bad-toml"),
    ],
)
def test_a_broken_pyproject_is_a_config_error(tmp_path, content):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_bytes(content)
    with pytest.raises(ConfigError, match="pyproject.toml: cannot read"):
        load_settings(pyproject, known_codes())
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=HANG_GUARD
    )
    assert done.returncode == 2 and "cannot read" in done.stderr and "Traceback" not in done.stderr


def test_flake8_survives_a_broken_pyproject(tmp_path):
    pytest.importorskip("flake8")
    (tmp_path / "pyproject.toml").write_bytes(b"x = " + b"[" * 50_000 + b"]" * 50_000 + b"\n")
    (tmp_path / "m.py").write_text(BAD)
    done = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "GCL", "m.py"], capture_output=True, text=True, cwd=tmp_path, timeout=HANG_GUARD
    )
    # The configuration error is shown as a finding an editor displays, never a traceback.
    assert "Traceback" not in done.stderr and "GCL001" in done.stdout and "configuration error" in done.stdout


def test_internal_errors_reach_run_result_errors(repo, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("engine bug")

    monkeypatch.setattr("gclint.runner.lint_source", broken)
    result = lint_files([str(repo / "a.py")], Settings())
    assert result.findings == [] and "internal error in gclint" in result.errors[0]


def test_a_relative_import_beyond_the_top_package_reads_nothing_outside_the_tree(tmp_path):
    # `from ...outside.secretmod import make_conn` in pkg/m.py climbs above
    # the project: Python refuses it, and gclint read (and parsed) the file
    # it named there, and listed the directory.
    from gclint.project import Layout

    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secretmod.py").write_text("def make_conn(p):\n    return open(p)\n")
    pkg = tmp_path / "proj" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    m = pkg / "m.py"
    m.write_text("from ...outside.secretmod import make_conn\n\n\ndef f(p):\n    r = make_conn(p)\n    r.read()\n")
    layout = Layout(str(tmp_path / "proj"))
    assert layout.resolve(str(m), "...outside.secretmod.make_conn") is None
    assert layout.submodules(str(m), "...outside") == frozenset()
    assert layout.candidates(str(m), "...outside.secretmod.make_conn") == ()
    assert lint_files([str(pkg / "__init__.py"), str(m)], Settings(root=str(tmp_path / "proj"))).findings == []
    # Up to the directory holding the top package, they still resolve.
    assert layout.resolve(str(m), "..pkg.m") == (str(m), ())
