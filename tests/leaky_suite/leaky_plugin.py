"""Fixtures and hooks of the leaky suite (loaded by pytest.ini, -p leaky_plugin)."""
import gc

import pytest

from helpers import STOP


@pytest.fixture(scope="session", autouse=True)
def release_threads():
    yield
    STOP.set()


@pytest.fixture
def gc_state():
    """Whether automatic collection was on inside the test."""
    return gc.isenabled()


# Garbage made between two tests (as pytest's own bookkeeping makes it), kept
# uncollected until the next test starts: the next test collects explicitly
# and must be neither blamed for it nor shown it in its own gc.garbage.
# {test before: test that must not see it}
JUNK_BEFORE = {
    "test_clean_class_defined_locally": "test_clean_explicit_collect",
    "test_clean_explicit_collect": "test_clean_own_saveall_check",
}


def pytest_runtest_logfinish(nodeid):
    if nodeid.split("::")[-1] in JUNK_BEFORE:
        from helpers import BetweenTestsJunk

        gc.disable()  # noqa: GCL404 (re-enabled before the next test starts)
        BetweenTestsJunk()


def pytest_runtest_logstart(nodeid):
    if nodeid.split("::")[-1] in JUNK_BEFORE.values():
        gc.enable()
