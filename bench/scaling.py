"""How gclint's cost grows with one dimension of a file, one at a time.

    python bench/scaling.py [--sizes 250,500,1000,2000] [--only NAME] [--repeat 3]

Each dimension is a generator of a synthetic module of size n (functions
per file, statements per function, `open()` calls per function, ...). For
every size the script times libcst's parse and gclint's whole
`lint_source` (all rules selected) in this process, in CPU seconds, takes
the minimum of `--repeat` runs, and fits the growth exponent k of
`time ~ n**k` by least squares on the log-log points: k close to 1 is
linear, 2 is quadratic. The parse's own exponent is printed beside it: where
the parse itself grows faster than linearly (long chains), gclint cannot do
better than the parse; the ratio to the parse at each size then says
whether gclint's own work grows faster than the parse does. The exponent, not the seconds, is the figure to
compare between machines. The last column names the gclint file and
function with the most own time at the largest size (cProfile): where a
super-linear dimension spends it.
"""
from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import time
from typing import Callable, Dict, List, Sequence, Tuple

import libcst

from gclint.config import Settings
from gclint.engine import lint_source


def _function(body: Sequence[str], name: str = "f", params: str = "") -> str:
    return f"def {name}({params}):\n" + "".join(f"    {line}\n" for line in body)


def functions_per_file(n: int) -> str:
    return "\n".join(_function(["x = open('p')", "x.close()"], f"f{i}") for i in range(n))


def statements_per_function(n: int) -> str:
    return _function([f"v{i} = v{i - 1} + 1" if i else "v0 = 0" for i in range(n)])


def opens_per_function(n: int) -> str:
    return _function([f"f{i} = open('p{i}')" for i in range(n)] + [f"f{i}.close()" for i in range(n)])


def opens_reusing_one_name(n: int) -> str:
    return _function(["f = open('p')\n    f.read()\n    f.close()"] * n)


def try_blocks_per_function(n: int) -> str:
    block = "try:\n        f = open('p')\n    except OSError:\n        pass\n    else:\n        f.close()"
    return _function([block] * n)


def excepts_kept_in_a_list(n: int) -> str:
    block = "try:\n        work()\n    except ValueError as e:\n        errors.append(e)"
    return _function(["errors = []", *([block] * n), "return errors"])


def names_in_one_scope(n: int) -> str:
    return "\n".join(f"name{i} = [name{i - 1 if i else 0}]" for i in range(n)) + "\n"


def methods_storing_bound_methods(n: int) -> str:
    methods = [f"    def m{i}(self):\n        self.h{i} = self.m{i}\n" for i in range(n)]
    return "class C:\n" + "".join(methods)


def files_opened_on_self(n: int) -> str:
    stores = "".join(f"        self.f{i} = open('p{i}')\n" for i in range(n))
    return "class C:\n    def __init__(self):\n" + stores


def atexit_registrations(n: int) -> str:
    calls = "".join(f"        atexit.register(self.m{i % 10})\n" for i in range(n))
    return "import atexit\nclass C:\n    def __init__(self):\n" + calls


def nesting_depth(n: int) -> str:
    # Nested ifs, as deep as the parser allows without refusing the file.
    depth = min(n, 90)
    lines = [f"{'    ' * i}if x{i}:" for i in range(depth)]
    return "\n".join(lines) + "\n" + "    " * depth + "pass\n" + functions_per_file(n)


# libcst's parse of one chain grows faster than linearly with its length
# (about n**2.3 past a few hundred links): chains stop at _CHAIN links and
# longer sizes repeat the statement, so the parse stays affordable.
_CHAIN = 800


def long_plus_chain(n: int) -> str:
    links = min(n, _CHAIN)
    return _function(["total = " + " + ".join(f"a{i}" for i in range(links))] * max(1, n // links))


def long_method_chain(n: int) -> str:
    links = min(n, _CHAIN)
    chain = "".join(f".m{i}()" for i in range(links))
    return _function([f"result = self.start{chain}"] * max(1, n // links), "method", "self")


def attributes_per_class(n: int) -> str:
    stores = "".join(f"        self.a{i} = [self]\n" for i in range(n))
    clears = "".join(f"        self.a{i} = None\n" for i in range(n))
    return "class C:\n    def __init__(self):\n" + stores + "    def close(self):\n" + clears


DIMENSIONS: Dict[str, Callable[[int], str]] = {
    f.__name__: f
    for f in (
        functions_per_file, statements_per_function, opens_per_function, opens_reusing_one_name,
        try_blocks_per_function, excepts_kept_in_a_list, names_in_one_scope,
        methods_storing_bound_methods, files_opened_on_self, atexit_registrations,
        nesting_depth, long_plus_chain, long_method_chain, attributes_per_class,
    )
}


def _best(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        action()
        times.append(time.process_time() - start)
    return min(times)


def growth(points: Sequence[Tuple[int, float]]) -> float:
    """Least-squares slope of log(time) against log(size)."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(max(t, 1e-6)) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    num = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    den = sum((x - mx) ** 2 for x in xs)
    return num / den if den else float("nan")


def measure(name: str, sizes: Sequence[int], repeat: int) -> List[str]:
    settings = Settings(select=("GCL",))
    make = DIMENSIONS[name]
    lint_points, parse_points, rows = [], [], []
    for n in sizes:
        source = make(n)
        parse = _best(lambda: libcst.parse_module(source), repeat)
        lint = _best(lambda: lint_source(source, "scaling.py", settings), repeat)
        lint_points.append((n, lint))
        parse_points.append((n, parse))
        rows.append(f"{n}: {lint:.3f}s ({lint / parse:.1f}x parse)")
    fitted = f"{growth(lint_points):.2f} | {growth(parse_points):.2f}"
    return [f"| {name} | " + " · ".join(rows) + f" | {fitted} | {hottest(make(sizes[-1]), settings)} |"]


def hottest(source: str, settings: Settings) -> str:
    """The gclint function with the most own time linting `source`, and its file."""
    profiler = cProfile.Profile()
    profiler.runcall(lint_source, source, "scaling.py", settings)
    stats = pstats.Stats(profiler).stats
    total = sum(entry[2] for entry in stats.values()) or 1.0
    ours = [(own, filename, function) for (filename, _, function), (_, _, own, _, _) in stats.items() if _PACKAGE in filename]
    if not ours:
        return "-"
    own, filename, function = max(ours)
    return f"{filename.split(_PACKAGE, 1)[1]}:{function} ({100 * own / total:.0f}%)"


_PACKAGE = "/gclint/"


def main(argv: Sequence[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="250,500,1000,2000")
    parser.add_argument("--only", action="append", choices=sorted(DIMENSIONS))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    # The first lint pays for imports and rule set-up; keep it out of the table.
    lint_source(functions_per_file(10), "warm-up.py", Settings(select=("GCL",)))
    print("| dimension | gclint CPU time per size | growth k (time ~ n**k) | the parse's own k | most own time at the largest size |")
    print("|---|---|---|---|---|")
    for name in args.only or DIMENSIONS:
        for row in measure(name, sizes, args.repeat):
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
