"""Starts a daemon, then never returns: only gclint's end can stop it."""
import os
import time

from _daemon import note_pids, start_daemon


def main():
    note_pids(os.getpid(), start_daemon())
    while True:
        time.sleep(0.1)
