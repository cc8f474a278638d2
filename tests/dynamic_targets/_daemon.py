"""Shared by the containment targets: start a daemon the classic way."""
import os
import time


def start_daemon():
    """Double fork and setsid: the daemon leaves the target's process group
    and session, and its parent exits at once, so it is nobody's child.
    Returns the daemon's pid."""
    reader, writer = os.pipe()
    if os.fork() == 0:
        os.setsid()
        pid = os.fork()
        if pid == 0:
            os.close(reader)
            os.close(writer)
            time.sleep(120)
            os._exit(0)
        os.write(writer, str(pid).encode())
        os._exit(0)
    os.close(writer)
    daemon = int(os.read(reader, 32))
    os.close(reader)
    os.wait()
    return daemon


def note_pids(*pids):
    """Tell the test which processes to watch (it names the file)."""
    path = os.environ.get("GCLINT_TEST_PIDFILE")
    if path:
        with open(path + ".tmp", "w") as out:
            out.write(" ".join(map(str, pids)))
        os.replace(path + ".tmp", path)
