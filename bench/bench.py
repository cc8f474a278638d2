"""Benchmark gclint against the libcst parse floor and the peers, on a real corpus.

    python bench/bench.py [CORPUS] [--repeat 3] [--peers-venv DIR]

CORPUS defaults to the running interpreter's standard library without its
tests (copied to a temporary directory so every tool sees the same files).
Each command is timed as a whole process, several times; the table reports
medians and ratios to the parse floor measured in the same run, so figures
from a noisy shared machine stay comparable. Peers (flake8-bugbear, the
pylint subset, ruff's two rules) run from their own virtual environment,
created on first use, so that no flake8 run pays for another plugin.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
PEERS = ("flake8", "flake8-bugbear", "pylint", "ruff", "libcst")
_SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "__pycache__"}

PARSE_ONLY = """
import sys, libcst
from concurrent.futures import ProcessPoolExecutor

def parse(path):
    try:
        libcst.parse_module(open(path, "rb").read())
    except Exception:
        pass

files = [line.strip() for line in open(sys.argv[1])]
jobs = int(sys.argv[2])
if jobs == 1:
    for f in files:
        parse(f)
else:
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(parse, sorted(files, key=lambda f: -len(open(f, "rb").read())), chunksize=4))
"""


def corpus_files(source: Path) -> List[Path]:
    """The corpus: every .py file under `source` but tests and site-packages."""
    files = []
    for directory, subdirs, names in os.walk(source):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS)
        files.extend(Path(directory) / n for n in sorted(names) if n.endswith(".py") and not n.startswith("test_"))
    return files


def copy_corpus(source: Path, target: Path) -> List[Path]:
    files = []
    for src in corpus_files(source):
        dst = target / src.relative_to(source)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        files.append(dst)
    return files


def timed(command: Sequence[str], repeat: int) -> Tuple[Optional[float], int]:
    """Median wall seconds, and the peak RSS (MiB) of the largest process.

    Each run happens in a fresh helper process so that RUSAGE_CHILDREN
    reports that run's own peak and not an earlier one's.
    """
    times, peaks = [], []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", _TIME_ONE, *command], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"  ! {' '.join(command[:4])}... failed: {done.stderr[-300:]!r}", file=sys.stderr)
            return None, 0
        seconds, peak_kib = done.stdout.split()
        times.append(float(seconds))
        peaks.append(int(peak_kib) // 1024)
    return statistics.median(times), max(peaks)


_TIME_ONE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
seconds = time.perf_counter() - start
if done.returncode not in (0, 1):
    sys.exit(f"exited {done.returncode}: {done.stderr[-300:]!r}")
print(seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peers_venv(directory: Path) -> Path:
    python = directory / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS], check=True)
    return python


def versions(python: Path) -> str:
    code = "import importlib.metadata as m; print(', '.join(f'{p} {m.version(p)}' for p in %r))" % (PEERS,)
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True).stdout.strip()


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--peers-venv", default=str(HERE / ".venv-peers"))
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="gclint-bench-"))
    corpus = work / "corpus"
    files = copy_corpus(Path(args.corpus), corpus)
    lines = sum(len(f.read_bytes().splitlines()) for f in files)
    listing = work / "files.txt"
    listing.write_text("\n".join(map(str, files)))
    cache = work / "cache"
    # Every file analysed, as the parse floor parses every file (the default
    # max-file-size would skip pydoc_data/topics.py, 739 KiB).
    config = work / "pyproject.toml"
    config.write_text("[tool.gclint]\nmax-file-size = 4096\n")
    gclint = [sys.executable, "-m", "gclint", "check", "--config", str(config), "--exit-zero", "-q", str(corpus)]
    n = str(args.jobs)

    rows: List[Tuple[str, Optional[float], int, str]] = []

    def measure(label: str, command: Sequence[str], floor: str) -> None:
        seconds, peak = timed(command, args.repeat)
        rows.append((label, seconds, peak, floor))
        shown = "failed" if seconds is None else f"{seconds:.2f} s, peak {peak} MiB"
        print(f"  {label}: {shown}", file=sys.stderr)

    print(f"corpus: {len(files)} files, {lines} lines; {args.repeat} runs each", file=sys.stderr)
    measure("libcst parse only, 1 process (floor)", [sys.executable, "-c", PARSE_ONLY, str(listing), "1"], "")
    measure(f"libcst parse only, {n} processes (floor)", [sys.executable, "-c", PARSE_ONLY, str(listing), n], "")
    measure("gclint check, cold, 1 job", [*gclint, "--no-cache", "--jobs", "1"], "1")
    measure(f"gclint check, cold, {n} jobs", [*gclint, "--no-cache", "--jobs", n], n)
    subprocess.run([*gclint, "--cache-dir", str(cache), "--jobs", n], stdout=subprocess.DEVNULL)
    measure(f"gclint check, warm (cache full), {n} jobs", [*gclint, "--cache-dir", str(cache), "--jobs", n], n)
    measure(f"flake8 --select GCL (gclint's flake8 door), {n} jobs",
            [sys.executable, "-m", "flake8", "--select", "GCL", "--exit-zero", "--jobs", n, str(corpus)], n)
    peer_versions = ""
    if not args.no_peers:
        python = peers_venv(Path(args.peers_venv))
        peer_versions = versions(python)
        bin_dir = python.parent
        measure(f"flake8 --select B (bugbear), {n} jobs",
                [str(python), "-m", "flake8", "--select", "B", "--exit-zero", "--jobs", n, str(corpus)], n)
        measure(f"pylint consider-using-with + method-cache-max-size-none, {n} jobs",
                [str(python), "-m", "pylint", "--disable=all", "--enable=consider-using-with,method-cache-max-size-none",
                 "--exit-zero", f"--jobs={n}", "--recursive=y", str(corpus)], n)
        measure("ruff check --select SIM115,B019 --no-cache",
                [str(bin_dir / "ruff"), "check", "--select", "SIM115,B019", "--no-cache", "--exit-zero", "--quiet", str(corpus)], n)
    print(render(rows, len(files), lines, args, peer_versions))
    shutil.rmtree(work, ignore_errors=True)
    return 0


def render(rows, files: int, lines: int, args, peer_versions: str) -> str:
    floors: Dict[str, float] = {}
    for label, seconds, _, _ in rows[:2]:
        floors["1" if "1 process" in label else str(args.jobs)] = seconds or float("nan")
    out = [
        f"Corpus: {args.corpus} without tests ({files} files, {lines:,} lines). "
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}. "
        f"Median of {args.repeat} whole-process runs.",
        "",
        "| work | median wall | × parse (same cores) | peak RSS of one process |",
        "|---|---|---|---|",
    ]
    for label, seconds, peak, floor in rows:
        ratio = "1.00 (floor)" if not floor else ("-" if seconds is None else f"{seconds / floors[floor]:.2f}")
        wall = "failed" if seconds is None else f"{seconds:.2f} s"
        out.append(f"| {label} | {wall} | {ratio} | {peak} MiB |")
    if peer_versions:
        out += ["", f"Peers: {peer_versions}."]
    return "\n".join(out)


if __name__ == "__main__":
    raise SystemExit(main())
