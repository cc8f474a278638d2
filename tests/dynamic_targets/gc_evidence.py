"""A target that leaves one piece of every kind of evidence the probe records."""
import gc

registry = []


class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


class Phoenix:
    def __del__(self):
        registry.append(self)


class SlotPhoenix:
    __slots__ = ("value",)

    def __del__(self):
        registry.append(self)


class Quiet:
    def __del__(self):
        self.closed = True


class SlotQuiet:
    __slots__ = ()

    def __del__(self):
        pass


class Failing:
    def __del__(self):
        raise ValueError("cleanup failed")


class Bare:
    """No __init__: on 3.11 nothing says where its instances were made."""


def pair_up():
    first, second = Bare(), Bare()
    first.other, second.other = second, first


def build_tree():
    root = Node()
    Node(root)
    Node(root)


def leak_file():
    handle = open(__file__, encoding="utf-8")
    return handle.readline()


def main():
    build_tree()
    pair_up()
    Phoenix()
    SlotPhoenix()
    Quiet()
    SlotQuiet()
    Failing()
    leak_file()
    for _ in range(12):
        gc.collect()


if __name__ == "__main__":
    main()
