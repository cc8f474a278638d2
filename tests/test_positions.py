"""gclint's targeted positions agree with libcst's PositionProvider."""
import glob
import random
import sysconfig

import libcst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from gclint.positions import spans
from gclint.tree import descendants

STDLIB = sysconfig.get_paths()["stdlib"]
FILES = sorted(glob.glob(STDLIB + "/*.py"))[::12]


@pytest.mark.parametrize("path", FILES, ids=[p.rsplit("/", 1)[-1] for p in FILES])
def test_spans_equal_position_provider(path):
    module = libcst.parse_module(open(path, "rb").read())
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
