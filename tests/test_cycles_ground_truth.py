"""Ground truth for the GCL2xx rules: run each cycles fixture with automatic
collection off and DEBUG_SAVEALL, and check that a fixture with expectations
leaves cyclic garbage after `main()` and a clean look-alike leaves none."""
import subprocess
import sys

import pytest

from conftest import FIXTURES, expectations

CYCLES = sorted((FIXTURES / "cycles").glob("*.py"))

# Importing can itself leave cyclic garbage: free it with a real collection
# (under DEBUG_SAVEALL a collection would only move it to gc.garbage, and
# the next one would find it again), then count only what main() leaves.
_PROBE = """
import gc, importlib.util, sys
gc.disable()
spec = importlib.util.spec_from_file_location("fixture", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
gc.collect()
gc.set_debug(gc.DEBUG_SAVEALL)
module.main()
gc.collect()
print(len(gc.garbage))
"""


def _garbage_left_by_main(path):
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


@pytest.mark.parametrize(
    "path, leaves_garbage",
    [pytest.param(p, bool(expectations(p)), id=p.name) for p in CYCLES],
)
def test_fixture_leaves_cyclic_garbage_exactly_when_flagged(path, leaves_garbage):
    garbage = _garbage_left_by_main(path)
    assert (garbage > 0) == leaves_garbage, f"{path.name}: {garbage} objects in gc.garbage"


def test_every_cycle_rule_has_a_bad_fixture():
    codes = {code for p in CYCLES for _, code in expectations(p)}
    assert codes == {f"GCL20{n}" for n in range(1, 9)}
