"""Dynamic mode: run code under gc inspection and confirm static findings.

Executes the code it checks, always in a child process.
"""
