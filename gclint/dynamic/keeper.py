"""A target's keeper: ends the target's whole process tree if gclint ends first.

    python keeper.py FD TOKEN

Started by gclint (gclint.dynamic.child) just before each probe, in a
session of its own, with nothing to do but read FD, the read end of a pipe
whose only write end gclint holds. gclint writes the probe's pid into it,
and "done" once it has cleaned up after the run itself. If the pipe closes
without "done" (gclint was SIGKILLed, killed for memory, crashed), the keeper
SIGKILLs the probe's process group and every process that carries the run's
token in its environment (double-forked, setsid daemons included), and exits.

A process, not a thread in the probe: the target would see a thread
(os.fork() warns in a threaded process on 3.12+), and a thread cannot run
while the target holds the GIL in one long C call.
"""
import os
import signal
import sys

TOKEN_VARIABLE = "GCLINT_DYNAMIC_RUN"


def read_until_eof(fd):
    """What was written to the pipe, once its write end has closed."""
    data = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except InterruptedError:
            continue
        except OSError:
            return data
        if not chunk:
            return data
        data = (data + chunk)[:256]


def carrying_token(token):
    """Pids whose environment holds the token: /proc where there is one."""
    entry = ("%s=%s" % (TOKEN_VARIABLE, token)).encode()
    try:
        names = [n for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return _carrying_token_psutil(token)
    found = []
    for name in names:
        try:
            with open("/proc/%s/environ" % name, "rb") as source:
                if entry in source.read().split(b"\0"):
                    found.append(int(name))
        except OSError:
            continue
    return found


def _carrying_token_psutil(token):
    import psutil

    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(TOKEN_VARIABLE) == token:
                found.append(process.pid)
        except (psutil.Error, OSError):
            continue
    return found


def end_tree(token, probe):
    if probe:
        try:
            os.killpg(probe, signal.SIGKILL)  # the probe leads its own session and group
        except OSError:
            pass
    me = os.getpid()
    for pid in carrying_token(token):
        if pid != me:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def main(argv):
    fd, token = int(argv[0]), argv[1]
    lines = read_until_eof(fd).split(b"\n")
    if b"done" in lines:
        return 0  # gclint cleaned up itself
    end_tree(token, int(lines[0]) if lines[0].isdigit() else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
