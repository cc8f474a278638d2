"""Weak forms: references and containers that never keep their object alive."""
from __future__ import annotations

from typing import Optional

# Calls whose result refers to its first argument weakly.
WEAK_REFERENCES = frozenset({"weakref.ref", "weakref.proxy", "_weakref.ref", "_weakref.proxy", "weakref.WeakMethod"})
# The ones that take a callback as second argument (held strongly).
WITH_CALLBACK = frozenset({"weakref.ref", "weakref.proxy", "_weakref.ref", "_weakref.proxy", "weakref.WeakMethod"})
WEAK_CONTAINERS = frozenset({"weakref.WeakSet", "weakref.WeakValueDictionary", "weakref.WeakKeyDictionary", "_weakrefset.WeakSet"})


def is_weak_factory(name: Optional[str]) -> bool:
    """A weak reference or a weak container (`weakref.Weak*`)."""
    return bool(name) and (name in WEAK_REFERENCES or name in WEAK_CONTAINERS or name.startswith("weakref.Weak"))
