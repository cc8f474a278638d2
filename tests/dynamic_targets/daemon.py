"""Leaves a daemonised grandchild (double fork + setsid) behind."""
from _daemon import note_pids, start_daemon


def main():
    note_pids(start_daemon())
