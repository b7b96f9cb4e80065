"""Runnable programs a user copies from; ``python -m examples.bank`` is the main demo."""
