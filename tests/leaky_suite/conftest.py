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
# and must not be blamed for it.
BEFORE_EXPLICIT_COLLECT = "test_clean_class_defined_locally"


def pytest_runtest_logfinish(nodeid):
    if nodeid.endswith(BEFORE_EXPLICIT_COLLECT):
        from helpers import BetweenTestsJunk

        gc.disable()  # noqa: GCL404 (re-enabled before the next test starts)
        BetweenTestsJunk()


def pytest_runtest_logstart(nodeid):
    if nodeid.endswith("test_clean_explicit_collect"):
        gc.enable()
