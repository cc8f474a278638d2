"""Crashes the interpreter by reading address 0."""
import ctypes


def main():
    ctypes.string_at(0)
