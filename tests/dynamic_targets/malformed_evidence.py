"""Overwrites its own evidence: the probe's file is written at exit, so the
target replaces the probe's writer with one that mangles the items."""
import json
import sys


def main():
    handle = open(__file__, encoding="utf-8")  # one real ResourceWarning, kept among the bad items
    handle.readline()
    del handle
    probe = sys.modules["__main__"]
    real_write = probe.Recorder.write

    def mangled(rec):
        real_write(rec)
        path = rec.config["evidence"]
        with open(path) as source:
            data = json.load(source)
        good = data["evidence"]
        data["evidence"] = good + [
            {"kind": "cycle", "path": __file__},  # no line: this was the KeyError
            {"kind": "cycle", "path": "/etc/passwd", "line": 1, "objects": 2, "cycles": 1},
            {"kind": "resource-warning", "path": good[0]["path"] if good else "", "line": 10 ** 9, "message": "x"},
            {"kind": "gc-call", "path": good[0]["path"] if good else "", "line": 1, "calls": "many", "reclaimed": 0, "seconds": 0.0},
            "not an object",
            {"kind": "no-such-kind", "line": 1},
        ]
        data["lines"] = {"/etc/passwd": [1], __file__: "not a list"}
        with open(path, "w") as out:
            json.dump(data, out)

    probe.Recorder.write = mangled
