"""Imports its sibling relatively: only works imported as package_target.inner.tool."""
from .helpers import Pair


def main():
    Pair()
