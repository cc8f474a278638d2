"""Code under test: a tree whose children point back at their parent."""
import threading

# Set when the session ends (conftest.py): the thread a test leaves running waits on it.
STOP = threading.Event()


class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


def make_family():
    root = Node()
    Node(root)
    return root


def build_family():
    return len(make_family().children)


class BetweenTestsJunk:
    """Cyclic garbage made outside every test (see conftest.py): no test's."""

    def __init__(self):
        self.me = self




class NeverBuilt:
    """No test makes one: the static finding on its cycle is never executed."""

    def __init__(self):
        self.me = self
