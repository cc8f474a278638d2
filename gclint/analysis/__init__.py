"""Facts about a file that several rules need, one definition each, computed once per file."""
