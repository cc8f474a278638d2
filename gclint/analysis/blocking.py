"""Calls and `with` items that take a lock, join, sleep, wait or block on I/O."""
from __future__ import annotations

import re
from typing import Callable, FrozenSet, Optional

import libcst as cst

from gclint.analysis.bindings import argument
from gclint.names import dotted

LOCK_NAME = re.compile(r"(^|_)(r?lock|mutex|cond|condition|cv|sem|semaphore)$|lock$", re.I)
LOCK_TYPES = frozenset(
    f"{module}.{kind}"
    for module in ("threading", "multiprocessing", "_thread")
    for kind in ("Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "allocate_lock")
)
_BLOCKING_CALLS = frozenset(
    """time.sleep socket.create_connection urllib.request.urlopen subprocess.run
    subprocess.call subprocess.check_call subprocess.check_output os.wait os.waitpid
    concurrent.futures.wait select.select requests.get requests.post requests.put
    requests.delete requests.head requests.patch requests.request httpx.get httpx.post""".split()
)
_BLOCKING_METHODS = frozenset("recv recv_into recvfrom sendall accept communicate".split())


_BLOCKING_LAST_NAMES = frozenset(n.rsplit(".", 1)[1] for n in _BLOCKING_CALLS)


def blocking_call(call: cst.Call, resolve: Callable[[cst.BaseExpression], Optional[str]]) -> Optional[str]:
    """What the call does that blocks, or None. `resolve` gives a qualified
    name; it is asked only when the spelling could be a blocking function."""
    func = call.func
    last = func.attr.value if type(func) is cst.Attribute else func.value if type(func) is cst.Name else None
    if last is None:
        return None
    name = resolve(func) if last in _BLOCKING_LAST_NAMES else None
    if name in _BLOCKING_CALLS:
        return f"calls {name}()"
    if type(func) is not cst.Attribute:
        return None
    what = blocking_method(call, last, func.value)
    # asyncio.wait() and friends only build a coroutine.
    if what and (name or resolve(func) or "").startswith("asyncio."):
        return None
    return what


def blocking_method(call: Optional[cst.Call], method: str, receiver: cst.BaseExpression) -> Optional[str]:
    """`call` is None for a method handed over uncalled (`finalize(self, t.join)`)."""
    if method == "acquire":
        blocking = argument(call, 0, "blocking") if call is not None else None
        return None if dotted(blocking) == "False" or _is_zero(blocking) else "acquires a lock"
    if method == "join" and _looks_like_thread_join(call, receiver):
        return "joins a thread or process"
    if method in ("wait", "wait_for"):
        return "waits on an event, condition or process"
    if method == "result" and _is_future(receiver):
        return "waits for a future's result"
    if method in _BLOCKING_METHODS:
        return f"does blocking I/O (.{method}())"
    return None


def _is_zero(node: Optional[cst.BaseExpression]) -> bool:
    return isinstance(node, cst.Integer) and node.value == "0"


def _looks_like_thread_join(call: Optional[cst.Call], receiver: cst.BaseExpression) -> bool:
    if isinstance(receiver, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return False
    if call is None or not call.args:
        return True
    first = call.args[0]
    return first.keyword is not None and first.keyword.value == "timeout" or isinstance(first.value, (cst.Integer, cst.Float))


def _is_future(receiver: cst.BaseExpression) -> bool:
    name = dotted(receiver) or ""
    return bool(re.search(r"(fut|future|promise)$", name.split(".")[-1], re.I))


def is_lock(expr: cst.BaseExpression, is_assigned_lock: Callable[[str], bool]) -> bool:
    """A lock by its name (`_lock`, `mutex`, `_cond`) or by an assignment
    from a lock constructor that `is_assigned_lock` knows of."""
    name = dotted(expr)
    if name is None:
        return False
    return bool(LOCK_NAME.search(name.split(".")[-1])) or is_assigned_lock(name)


def lock_attributes(stores, resolve_call: Callable[[cst.Call], Optional[str]]) -> FrozenSet[str]:
    """Attribute names assigned from a lock constructor among `stores`."""
    return frozenset(
        s.attribute for s in stores if isinstance(s.values[0], cst.Call) and resolve_call(s.values[0]) in LOCK_TYPES
    )
