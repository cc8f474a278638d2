"""Two separate cycles, the second holding the first by a one-way edge:
grouped by weak connection they would read as one blob."""


class Parent:
    def __init__(self):
        self.child = Child(self)


class Child:
    def __init__(self, parent):
        self.parent = parent


class Registry:
    def __init__(self):
        self.me = self
        self.items = []


def make_two():
    family = Parent()
    registry = Registry()
    registry.items.append(family)


def main():
    make_two()
