import app


def test_render_grows():
    assert app.render().startswith("<p>")


def test_listener_never_removed():
    client = app.Client()
    assert client.inbox == []


def test_failures_are_stored():
    assert app.load("not a number " * 50) is None


def test_template_cache_fills_once():
    assert app.template("header").startswith("<div")


def test_clean_arithmetic():
    assert sum(range(100)) == 4950


class Pair:
    def __init__(self):
        self.other = None


def test_makes_cycles_the_collector_frees():
    for _ in range(3000):
        first, second = Pair(), Pair()
        first.other, second.other = second, first
