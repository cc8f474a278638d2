"""Says why, then exits with status 3 (as a failing test runner does).
One stream only: the order of lines across stdout and stderr is the order
gclint happened to read them in."""


def main():
    print("collected 2 items")
    print("=== 1 failed, 1 passed in 0.1s ===")
    raise SystemExit(3)
