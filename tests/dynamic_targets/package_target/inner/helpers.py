class Pair:
    def __init__(self):
        self.other = Pair.__new__(Pair)
        self.other.other = self
