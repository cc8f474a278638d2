"""Calls and `with` items that take a lock, join, sleep, wait or block on I/O."""
from __future__ import annotations

import re
from typing import Callable, FrozenSet, Iterable, Optional

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


_THREAD_BASE = re.compile(r"(Thread|Process)$")


def is_thread_class(bases: Iterable[str]) -> bool:
    """A class whose bases (as written) include a thread or process class."""
    return any(_THREAD_BASE.search(b) for b in bases)


def self_holding_attributes(stores, me: str) -> FrozenSet[str]:
    """Attributes of `me` assigned an object built with `me` or a bound
    method of it among the arguments: `self._thread = Thread(target=self.run)`,
    `self.thread = Proxy(self)`. When such an object is a thread, its running
    thread keeps the instance alive."""
    return frozenset(
        s.attribute
        for s in stores
        if type(s.holder) is cst.Name and s.holder.value == me and type(s.values[0]) is cst.Call
        and any(_names(a.value, me) for a in s.values[0].args)
    )


def _names(value: cst.BaseExpression, me: str) -> bool:
    """`me` itself or `me.attr` (a bound method, a field)."""
    if type(value) is cst.Attribute:
        value = value.value
    return type(value) is cst.Name and value.value == me


def joins_thread_holding(call: cst.Call, me: str, is_thread: bool, holders: FrozenSet[str]) -> bool:
    """`self.join()` in a thread class, or `self._thread.join()` where the
    thread was built from self: a running thread is referenced by the
    threading module until it ends, and it keeps the instance alive, so a
    finalizer of the instance can only run after the thread ended, and the
    join returns at once."""
    func = call.func
    if type(func) is not cst.Attribute or func.attr.value != "join":
        return False
    receiver = dotted(func.value)
    if receiver == me:
        return is_thread
    owner, _, attr = (receiver or "").rpartition(".")
    return owner == me and attr in holders


def lock_attributes(stores, resolve_call: Callable[[cst.Call], Optional[str]]) -> FrozenSet[str]:
    """Attribute names assigned from a lock constructor among `stores`."""
    return frozenset(
        s.attribute for s in stores if isinstance(s.values[0], cst.Call) and resolve_call(s.values[0]) in LOCK_TYPES
    )
