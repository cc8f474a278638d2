"""Any file: each gives a clear result and the others are still checked."""
import json
import os
import subprocess
import sys

import pytest

CALL = b"gc.collect(0)"

CASES = {
    # name: (content, expected (code, line) findings)
    "empty.py": (b"", []),
    "comments.py": (b"# only\n# comments\n", []),
    "junk.py": (bytes(range(256)) * 8, [("GCL001", 2)]),
    "nul.py": (b"import gc\nx = 1\x00\n" + CALL + b"\n", [("GCL001", 2)]),
    "bad_utf8.py": (b"import gc\ns = '\xff'\n", [("GCL001", 2)]),
    "latin1.py": ("# -*- coding: latin-1 -*-\nimport gc\ns = 'caf\xe9'\ngc.collect(0)\n".encode("latin-1"), [("GCL401", 4)]),
    "bom.py": (b"\xef\xbb\xbfimport gc\n" + CALL + b"\n", [("GCL401", 2)]),
    "crlf.py": (b"import gc\r\n\r\n" + CALL + b"\r\n", [("GCL401", 3)]),
    "lone_cr.py": (b"import gc\r\r" + CALL + b"\r", [("GCL401", 3)]),
    "tabs.py": (b"import gc\nif True:\n\t" + CALL + b"\n", [("GCL401", 3)]),
    "huge_line.py": (b"import gc; x = [" + b"1, " * 1_800_000 + b"]; " + CALL + b"\n", [("GCL001", 1)]),
    # Deeper than any CPython allows (200), and past what crashes libcst.
    "deep.py": (b"import gc\nx = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n" + CALL + b"\n", [("GCL001", 2)]),
    "long_sum.py": (b"import gc\nx = " + b"+".join([b"a"] * 1000) + b"\n" + CALL + b"\n", [("GCL401", 3)]),
    "literal.py": (b"import gc\nDATA = [" + b", ".join(b"%d" % i for i in range(60_000)) + b"]\n" + CALL + b"\n", [("GCL401", 3)]),
    "match.py": (b"import gc\nmatch x:\n    case [a, *rest]:\n        " + CALL + b"\n", [("GCL401", 4)]),
    "pep695.py": (b"import gc\ntype A[T] = list[T]\ndef f[T](x: T) -> T:\n    " + CALL + b"\n    return x\n", [("GCL401", 4)]),
    "pep701.py": (b"import gc\nn = 'x'\ns = f\"{f\"{n!r}\"}\"\n" + CALL + b"\n", [("GCL401", 4)]),
    "broken_link.py": (None, [("GCL001", 1)]),
}


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    root = tmp_path_factory.mktemp("hard")
    for name, (content, _) in CASES.items():
        if content is not None:
            (root / name).write_bytes(content)
    os.symlink(root / "nowhere.py", root / "broken_link.py")
    (root / "dir.py").mkdir()
    os.symlink(root, root / "dir.py" / "loop")
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--no-config", "--no-cache", "--format", "json", str(root), str(root / "missing.py")],
        capture_output=True, text=True, timeout=1800,  # a hang guard only
    )
    by_file = {}
    for finding in json.loads(done.stdout):
        by_file.setdefault(os.path.basename(finding["path"]), []).append((finding["code"], finding["line"]))
    return done, by_file


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_file_gives_a_clear_result(checked, name):
    _, by_file = checked
    assert sorted(by_file.get(name, [])) == CASES[name][1]


def test_the_run_reports_the_missing_path_and_no_traceback(checked):
    done, by_file = checked
    assert done.returncode == 2
    assert "missing.py: no such file or directory" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert set(by_file) <= set(CASES)


def test_gcl001_names_the_reason(checked):
    done, _ = checked
    messages = {os.path.basename(f["path"]): f["message"] for f in json.loads(done.stdout) if f["code"] == "GCL001"}
    assert "over max-file-size" in messages["huge_line.py"]
    assert "cannot read" in messages["broken_link.py"]
    assert "cannot decode" in messages["bad_utf8.py"]


def test_same_input_gives_byte_identical_json_across_job_counts(tmp_path):
    from conftest import FIXTURES

    outputs = {
        subprocess.run(
            [sys.executable, "-m", "gclint", "check", "--no-cache", "--format", "json", "--jobs", str(jobs), str(FIXTURES)],
            capture_output=True,
        ).stdout
        for jobs in (1, 2, 1, 2)
    }
    assert len(outputs) == 1
