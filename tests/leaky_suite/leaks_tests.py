"""One test per kind of evidence, and clean tests beside them."""
import asyncio
import gc
import threading

import pytest

from helpers import STOP, Node, build_family, make_family


def test_parent_child_cycle(gc_state):
    assert gc_state and gc.isenabled()
    assert build_family() == 1


def test_unclosed_file(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("x")
    handle = open(path)
    assert handle.read() == "x"


class RaisingFinalizer:
    def __del__(self):
        raise RuntimeError("cleanup failed")


def test_raising_finalizer():
    RaisingFinalizer()


def test_thread_left_running():
    threading.Thread(target=STOP.wait, daemon=True).start()


def test_exception_kept_in_frame():
    try:
        raise ValueError("kept")
    except ValueError as error:
        kept = error
    assert kept.args == ("kept",)


async def forever():
    await asyncio.Event().wait()


def test_task_left_pending():
    loop = asyncio.new_event_loop()
    task = loop.create_task(forever())
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
    test_task_left_pending.task = task  # kept alive: pending, never awaited


def test_cycle_dropped_after_an_explicit_collect():
    """Made before the test's own full collection, garbage only after it."""
    family = make_family()
    assert gc.collect() >= 0
    del family


class Pair:
    def __init__(self):
        self.other = None


def test_cycle_of_two_instances():
    """Nothing but two instances (3.11's tracemalloc does not know either)."""
    first, second = Pair(), Pair()
    first.other, second.other = second, first


def test_collected_cycles_are_gone_from_the_heap():
    """A suite's own leak check, as werkzeug's Rule test: after gc.collect(), the
    cycles it made are not in gc.get_objects(), though gclint keeps them as evidence."""
    gc.collect()
    before = sum(isinstance(obj, Node) for obj in gc.get_objects())
    for _ in range(3):
        build_family()
    gc.collect()
    assert sum(isinstance(obj, Node) for obj in gc.get_objects()) == before


@pytest.mark.gclint_allow("cycle")
def test_allowed_cycle():
    assert build_family() == 1


# -- clean --------------------------------------------------------------------


def test_clean_arithmetic(gc_state):
    assert gc_state and gc.isenabled()
    assert sum(range(10)) == 45


def test_clean_pytest_raises():
    with pytest.raises(ZeroDivisionError) as excinfo:
        1 / 0
    assert excinfo.type is ZeroDivisionError


def test_clean_closed_file(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("x")
    with open(path) as handle:
        assert handle.read() == "x"


def test_clean_joined_thread():
    worker = threading.Thread(target=sum, args=([1, 2],))
    worker.start()
    worker.join()


def test_clean_thread_ending_with_the_test():
    """Its last step races the test's end: joined within the grace, not left running."""
    go = threading.Event()
    threading.Thread(target=go.wait).start()
    go.set()


def test_clean_class_defined_locally():
    class Local:
        pass

    assert Local().__class__.__name__ == "Local"


def test_clean_explicit_collect():
    assert gc.collect() >= 0


def test_clean_own_saveall_check():
    """A suite's own cycle check (tornado's circlerefs test does this)."""
    gc.disable()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        assert sum(range(10)) == 45
        gc.collect()
        assert gc.garbage == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


class Survivor:
    pass


SURVIVOR = Survivor()
HOLDER = [SURVIVOR]


def test_clean_heap_walks_see_the_whole_heap():
    """Objects from before the test are in gc.get_objects() and gc.get_referrers(), as without gclint."""
    assert any(obj is SURVIVOR for obj in gc.get_objects())
    assert any(holder is HOLDER for holder in gc.get_referrers(SURVIVOR))


@pytest.mark.parametrize("n", [1, 2])
def test_clean_parametrized(n):
    assert n in (1, 2)
