"""Reliability tests: the crash-safety harness (``python -m tests.reliability.crash``).

A child process runs a bank workload on a SQLite file and logs every acknowledged command to a
side file; the parent kills it with SIGKILL at random moments, restarts it on the same files, and
checks after each kill that nothing acknowledged was lost and nothing was half-written.
"""
