"""Makes a reference cycle, then never returns: stopped for its timeout."""
import time


class Loop:
    def __init__(self):
        self.me = self


def main():
    Loop()
    while True:
        time.sleep(0.05)
