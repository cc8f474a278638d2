"""A package whose module is a dynamic-mode target (run with --dynamic)."""
