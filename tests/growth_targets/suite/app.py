"""The code under test: a renderer with an unbounded memo cache, an event bus
whose listeners are never removed, a recorder that keeps every failure, and
a template cache that fills once."""
import itertools

_RENDERED = {}
_REQUESTS = itertools.count()
_TEMPLATES = {}


def render():
    request_id = next(_REQUESTS)
    _RENDERED[request_id] = "<p>" + "x" * 2000 + "</p>" + str(request_id)  # grows: a new key every call
    return _RENDERED[request_id]


def template(name):
    if name not in _TEMPLATES:
        _TEMPLATES[name] = "<div class=%s>" % name + "-" * 4000  # fills once
    return _TEMPLATES[name]


class Bus:
    listeners = []

    @classmethod
    def subscribe(cls, listener):
        cls.listeners.append(listener)


class Client:
    def __init__(self):
        self.inbox = []
        Bus.subscribe(self.inbox.append)  # never unsubscribed


FAILURES = []


def load(text):
    try:
        return int(text)
    except ValueError as error:
        FAILURES.append(error)  # kept with its traceback and frames
        return None
