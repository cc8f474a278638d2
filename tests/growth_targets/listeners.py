"""Every session subscribes a listener to a process-wide bus and never unsubscribes."""


class EventBus:
    def __init__(self):
        self.listeners = []

    def subscribe(self, listener):
        self.listeners.append(listener)

    def publish(self, event):
        for listener in self.listeners:
            listener(event)


BUS = EventBus()


class Session:
    def __init__(self, name):
        self.name = name
        self.seen = []
        BUS.subscribe(self.on_event)  # the listener that is never removed

    def on_event(self, event):
        self.seen.append(event)


def main():
    session = Session("user")
    BUS.publish("login")
    return len(session.seen)
