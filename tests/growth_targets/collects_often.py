"""Makes many short-lived reference cycles: automatic collections run during every call."""


class Node:
    def __init__(self):
        self.partner = None


def pair():
    first, second = Node(), Node()
    first.partner, second.partner = second, first


def main():
    for _ in range(5000):
        pair()
