"""Writes 50 MB to standard output."""
import sys


def main():
    chunk = "x" * (1024 * 1024)
    for _ in range(50):
        sys.stdout.write(chunk)
