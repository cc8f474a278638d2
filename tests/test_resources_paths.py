"""Resource analysis questions answered directly, and what depends on the file being a test."""
from textwrap import dedent

import libcst as cst
import pytest

from gclint.analysis.cleanup import partner_names
from gclint.analysis.resources import FACTORY_TRIGGERS, factory_table, factory_triggers, risky
from gclint.config import Settings, is_test_path
from gclint.engine import lint_source
from gclint.rules.resources import ProcessNotWaited, ResourceNotClosed, ResourceUsedInline


def _codes(source, path="app.py", prefix="GCL3"):
    every_rule = Settings(select=("GCL",))
    return [(f.line, f.code) for f in lint_source(dedent(source), path, every_rule) if f.code.startswith(prefix)]


def test_every_factory_of_the_table_is_a_trigger_of_the_rules_that_track_it():
    table = factory_table()
    for name, kind in table.items():
        last = name.rsplit(".", 1)[-1]
        assert last in FACTORY_TRIGGERS, name
        if kind == "process":
            assert last in ProcessNotWaited.TRIGGERS
        if kind in ResourceUsedInline._KINDS:
            assert last in ResourceUsedInline.TRIGGERS, name
    assert ResourceNotClosed.TRIGGERS == FACTORY_TRIGGERS


def test_a_factory_added_to_the_table_becomes_a_trigger():
    table = {**factory_table(), "shelve.DbfilenameShelf": "file"}
    assert "DbfilenameShelf" in factory_triggers(table)
    assert "DbfilenameShelf" not in factory_triggers(table, frozenset({"process"}))


@pytest.mark.parametrize("source, triggered", [
    ("def reopen(opener):\n    return opener.opened\n", False),  # `open` only inside longer names
    ("import socketserver\n\nPOOLS = 'ThreadPoolExecutors'\n", False),
    ("f = open(p)\n", True),
    ("fd = os.open(p, 0)\n", True),
    ("data = Path(p).open().read()\n", True),
    ("from io import open as io_open\n", True),
    ("s = mod.socket(\n)\n", True),
    ("x = [open]\n", True),
    ("é_open = 1\nopen\n", True),
], ids=["longer-names", "prefixes", "call", "attribute", "method", "import", "before-a-bracket", "in-a-list", "after-unicode-name"])
def test_the_resource_rules_are_triggered_by_a_factory_named_as_a_whole_name(source, triggered):
    # A file that holds a factory's name only inside longer names (reopen,
    # opener, socketserver) cannot call it; it is not parsed for these rules.
    for rule in (ResourceNotClosed, ResourceUsedInline, ProcessNotWaited):
        expected = triggered and rule is not ProcessNotWaited
        assert rule.triggered_by(source) is expected, rule.code


def _statement(source):
    return cst.parse_module(dedent(source)).body[0]


@pytest.mark.parametrize(
    "source, may_leave",
    [
        pytest.param("x = s.fileno()\n", False, id="fileno-cannot-raise"),
        pytest.param("data = s.recv(10)\n", True, id="a-call-may-raise"),
        pytest.param("try:\n    s.connect(a)\nexcept OSError:\n    pass\n", False, id="swallowed-by-handler"),
        pytest.param("try:\n    s.connect(a)\nexcept OSError:\n    raise\n", True, id="handler-re-raises"),
        pytest.param("while True:\n    if done:\n        break\n", True, id="a-loop-may-raise"),
    ],
)
def test_which_statements_may_leave_the_block(source, may_leave):
    assert risky(_statement(source)) is may_leave


def test_a_break_of_an_inner_loop_stays_inside_when_only_jumps_count():
    from gclint.analysis.resources import Risks

    loop = _statement("while True:\n    buf = s.recv(1)\n    if buf:\n        break\n")
    assert risky(loop, Risks(exceptions=False)) is False
    assert risky(_statement("if x:\n    return 1\n"), Risks(exceptions=False)) is True


@pytest.mark.parametrize(
    "name, partners",
    [
        ("start_trace", ("stop_trace",)),
        ("_begin", ("_end",)),
        ("setUp", ("teardown",)),
        ("enterQuiet", ("exitquiet",)),
        ("work", ()),
    ],
)
def test_partner_names_pair_verbs(name, partners):
    assert partner_names(name) == partners


CLOSE_ONLY_ON_SUCCESS = """\
    import socket

    def test_server_closes(address):
        sock = socket.socket()
        sock.connect(address)
        sock.close()
"""

EARLY_RETURN_IN_TEST = """\
    import socket

    def test_skip_without_server(address):
        sock = socket.socket()
        if address is None:
            return
        sock.close()
"""


def test_in_a_test_an_exception_before_the_close_is_a_failed_test_not_a_leak():
    assert _codes(CLOSE_ONLY_ON_SUCCESS, "tests/test_server.py") == []
    assert _codes(CLOSE_ONLY_ON_SUCCESS, "server.py") == [(4, "GCL303")]


def test_in_a_test_even_an_early_return_is_not_reported():
    # The socket goes when the test returns; on 14 real projects none of 45
    # GCL301/303 findings in tests, test support or demos was worth acting on.
    assert _codes(EARLY_RETURN_IN_TEST, "tests/test_server.py") == []
    assert _codes(EARLY_RETURN_IN_TEST, "server.py") == [(4, "GCL303")]


def test_a_class_defined_inside_a_test_is_not_asked_for_a_close_method():
    source = """\
        from concurrent.futures import ThreadPoolExecutor

        def test_run_on_executor():
            class Object:
                def __init__(self):
                    self.executor = ThreadPoolExecutor(1)
            assert Object()
    """
    assert _codes(source, "tests/test_executor.py") == []
    assert _codes(source, "executor.py") == [(6, "GCL305")]


@pytest.mark.parametrize(
    "path, is_test",
    [
        ("pkg/tests.py", True),
        ("pkg/test.py", True),
        ("tests/helpers.py", True),
        ("test_x.py", True),
        ("numpy/testing/utils.py", False),
        ("sqlalchemy/testing/fixtures.py", False),
        ("pkg/testsuite.py", False),
    ],
)
def test_test_file_detection(path, is_test):
    assert is_test_path(path) is is_test


def test_a_project_factory_returned_by_a_helper_is_a_factory_too():
    source = """\
        from mypkg.db import connect

        def open_db():
            return connect()

        def count():
            con = open_db()
            return con.execute('select 1')
    """
    settings = Settings(extend_resource_factories=("mypkg.db.connect",))
    found = [(f.line, f.code) for f in lint_source(dedent(source), "x.py", settings) if f.code.startswith("GCL3")]
    assert found == [(7, "GCL301")]


def test_tests_are_not_checked_even_where_resources_pile_up():
    single = """\
        import socket

        def test_connects(address):
            sock = socket.socket()
            sock.connect(address)
    """
    per_test = """\
        import unittest

        class Relay(unittest.TestCase):
            def setUp(self):
                for name in ('a', 'b'):
                    f = open(name, 'w')
                    f.write(name)
    """
    assert _codes(single, "tests/test_relay.py") == []
    assert _codes(single, "relay.py") == [(4, "GCL301")]
    assert _codes(per_test, "tests/test_relay.py") == []
    assert _codes(per_test, "relay.py") == [(6, "GCL301")]


def test_a_programs_top_level_resources_live_as_long_as_the_program():
    library = "log = open('app.log', 'a')\nlog.write('imported')\n"
    script = library + "while True:\n    log.write('tick')\n"
    assert _codes(library) == [(1, "GCL301")]
    assert _codes(script) == []
    assert _codes(library + "if __name__ == '__main__':\n    pass\n") == []


PROGRAM = """\
    import socket, sys

    def send(address):
        s = socket.socket()
        s.connect(address)
        s.sendall(b'x')

    def main():
        probe = socket.socket()
        probe.connect(('127.0.0.1', 9))
        for address in sys.argv[1:]:
            extra = socket.socket()
            extra.connect((address, 9))
        send(('127.0.0.1', 9))

    if __name__ == '__main__':
        main()
"""


def test_a_function_a_program_runs_once_is_reported_only_where_it_piles_up():
    # main() runs once: its probe lives as long as the program; the socket it
    # makes per argument piles up; send() may be called again by main's callers.
    assert _codes(PROGRAM) == [(4, "GCL301"), (12, "GCL301")]
    library = PROGRAM.replace("    if __name__ == '__main__':\n        main()\n", "")
    assert _codes(library) == [(4, "GCL301"), (9, "GCL301"), (12, "GCL301")]


_LOOKUP = """\
    import socket

    def lookup(addr):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1)
        s.sendto(b'ping', addr)
        data = s.recvfrom(1024)[0]
        s.close()
        return data
"""


@pytest.mark.parametrize("path", ["examples/app/network.py", "demos/forward.py", "docs/benchmarks/timer.py"])
def test_sample_code_is_judged_like_a_test(path):
    # A demo that crashes on a timeout has already failed: only jumps count.
    assert _codes(_LOOKUP, path=path) == []


def test_the_same_code_in_a_library_is_flagged():
    assert _codes(_LOOKUP, path="src/app/network.py") == [(4, "GCL303")]


def test_a_jump_that_abandons_a_socket_in_sample_code_is_not_reported():
    source = """\
        import socket

        def handler(addr):
            sock = socket.socket()
            try:
                sock.connect(addr)
            except OSError:
                return
            sock.sendall(b'hi')
            sock.close()
    """
    assert _codes(source, path="demos/forward.py") == []
    assert _codes(source, path="forward.py") == [(4, "GCL303")]


def test_a_class_in_sample_code_may_keep_its_file_open():
    source = """\
        class Report:
            def __init__(self, path):
                self.out = open(path, 'w')

            def write(self, line):
                self.out.write(line)
    """
    assert _codes(source, path="benchmarks/report.py") == []
    assert _codes(source, path="report.py") == [(3, "GCL305")]


def test_a_testing_package_is_judged_like_a_test():
    # Test support runs under a test runner: a failed read has failed a test.
    assert _codes(_LOOKUP, path="lib/project/testing/profiling.py") == []
    assert _codes(_LOOKUP, path="lib/project/testing.py") == [(4, "GCL303")]


def test_a_close_of_the_next_file_bound_to_the_name_does_not_close_the_first():
    source = """\
        def copy(a, b):
            f = open(a)
            data = f.read()
            f.close()
            f = open(b, 'w')
            f.write(data)
    """
    # The first is closed only on success; the second is never closed.
    assert _codes(source) == [(2, "GCL303"), (5, "GCL301")]


def test_a_name_reset_in_an_except_still_carries_the_resource_on_the_normal_path():
    source = """\
        import socket

        def dial(addr):
            sock = socket.socket()
            try:
                sock.connect(addr)
            except OSError:
                sock.close()
                sock = None
            return sock
    """
    assert _codes(source) == []


def test_a_name_rebound_under_an_if_still_reaches_the_close_after_it():
    source = """\
        def first_line(path, fallback):
            f = open(path)
            try:
                if fallback:
                    f.close()
                    f = open(fallback)
                return f.readline()
            finally:
                f.close()
    """
    assert _codes(source) == []
