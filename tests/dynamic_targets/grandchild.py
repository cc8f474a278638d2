"""Starts a process that outlives it."""
import subprocess
import sys


def main():
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
