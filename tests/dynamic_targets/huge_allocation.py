"""Asks for 8 GB at once."""


def main():
    return bytearray(8 * 1024 ** 3)
