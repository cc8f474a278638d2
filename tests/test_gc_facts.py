"""The facts GCL401's documentation states, checked on every installed CPython."""
import glob
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

EXPERIMENT = ROOT / "experiments" / "gc_collect_generations.py"


def _interpreters():
    found = {sys.executable}
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for minor in range(9, 14):
        found.update(glob.glob(os.path.join(root, "versions", f"3.{minor}.*", "bin", "python")))
    return sorted(found)


@pytest.mark.parametrize("python", _interpreters())
def test_only_a_full_collection_frees_a_promoted_cycle(python):
    done = subprocess.run([python, str(EXPERIMENT)], capture_output=True, text=True, timeout=60)
    facts = json.loads(done.stdout)
    assert facts["gen0_freed_promoted_cycle"] is False
    assert facts["gen1_freed_promoted_cycle"] is False
    assert facts["full_freed_promoted_cycle"] is True
    assert facts["no_argument_means_generation_2"] is True
