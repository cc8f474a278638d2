"""A target that checks that classes it drops are freed (as a suite's own
leak tests do): the probe must hold no strong reference to a class."""
import gc
import weakref


def _plain():
    class Plain:
        def __init__(self):
            self.value = 1

    return Plain


def _with_finalizer():
    class Finalized:
        def __del__(self):
            super().__init__()  # a __class__ cell: the finalizer refers to its class

    return Finalized


def _dropped(make):
    cls = make()
    instance = cls()
    ref = weakref.ref(cls)
    del cls, instance
    return ref


def main():
    refs = [_dropped(_plain), _dropped(_with_finalizer)]
    gc.collect()
    alive = [ref().__name__ for ref in refs if ref() is not None]
    if alive:
        raise AssertionError("classes kept alive: " + ", ".join(alive))
