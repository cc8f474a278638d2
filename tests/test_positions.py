"""gclint's targeted positions agree with libcst's PositionProvider."""
import glob
import random
import sysconfig
from pathlib import Path

import libcst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from gclint.positions import spans
from gclint.tree import descendants

STDLIB = sysconfig.get_paths()["stdlib"]
FILES = sorted(glob.glob(STDLIB + "/*.py"))[::12]


@pytest.mark.parametrize("path", FILES, ids=[p.rsplit("/", 1)[-1] for p in FILES])
def test_spans_equal_position_provider(path):
    module = libcst.parse_module(Path(path).read_bytes())
    nodes = list(descendants(module))
    sample = random.Random(path).sample(nodes, min(len(nodes), 300))
    ours = spans(module, sample)
    theirs = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    for node in sample:
        expected = theirs[node]
        assert ours[id(node)] == ((expected.start.line, expected.start.column), (expected.end.line, expected.end.column))


def test_spans_survive_nesting_deeper_than_the_recursion_limit():
    module = libcst.parse_module("x = " + "(" * 1200 + "1" + ")" * 1200 + "\ny = 2\n")
    last = module.body[-1]
    assert spans(module, [last]) == {id(last): ((2, 0), (2, 5))}


def test_spans_survive_a_recursion_limit_they_cannot_raise():
    """On 3.12 a 1,000-term sum exhausts the fixed C recursion limit during
    code generation; a low recursion limit reproduces that on any version."""
    import sys
    import threading

    module = libcst.parse_module("import gc\nx = " + "+".join(["a"] * 1000) + "\ngc.collect(0)\n")
    last = module.body[-1]
    outcome = {}

    def run():
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(400)
        try:
            outcome["spans"] = spans(module, [last, module.body[1]])
        finally:
            sys.setrecursionlimit(old)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert outcome["spans"][id(last)] == ((3, 0), (3, 13))
    assert outcome["spans"][id(module.body[1])] == ((2, 0), (2, 4 + 1999))


@pytest.mark.parametrize("path", FILES[:6], ids=[p.rsplit("/", 1)[-1] for p in FILES[:6]])
def test_spans_generated_across_threads_equal_the_direct_ones(path, monkeypatch):
    from gclint import positions

    module = libcst.parse_module(Path(path).read_bytes())
    nodes = list(descendants(module))
    sample = random.Random(path).sample(nodes, min(len(nodes), 50))
    direct = positions._spans(module, sample, positions._SpanRecorder)
    monkeypatch.setattr(positions, "_HOP_EVERY", 3)  # hop at nearly every level
    with positions._hopping_codegen():
        hopped = positions._spans(module, sample, positions._HoppingRecorder)
    assert hopped == direct
