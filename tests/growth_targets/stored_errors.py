"""Failures are kept for a report that is never sent: every exception, with its
traceback and the frames it holds, stays alive."""


class Recorder:
    failures = []  # a class attribute: one list for the whole process

    def record(self, error):
        type(self).failures.append(error)


def parse(text):
    return int(text)


def main():
    recorder = Recorder()
    payload = "not a number " * 100
    try:
        parse(payload)
    except ValueError as error:  # the exception made by int() in parse()
        recorder.record(error)
