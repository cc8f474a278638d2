"""A cache keyed by a fixed set of names: it fills on the first call, then stops."""
_TEMPLATES = {}
NAMES = ("header", "body", "footer")


def template(name):
    if name not in _TEMPLATES:
        _TEMPLATES[name] = "<div class=%s>" % name + "-" * 4000
    return _TEMPLATES[name]


def main():
    for name in NAMES:
        template(name)
