"""A memo cache keyed by something new on every call: it never stops growing."""
import itertools

_RESULTS = {}
_REQUESTS = itertools.count()


def render(request_id):
    if request_id not in _RESULTS:
        _RESULTS[request_id] = "<p>" + "x" * 2000 + str(request_id) + "</p>"  # the line that grows
    return _RESULTS[request_id]


def main():
    for _ in range(3):
        render(next(_REQUESTS))
