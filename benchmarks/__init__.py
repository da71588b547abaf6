"""Benchmarks that print figures beside their anchors and targets; never tests, never fail on a figure.

Run every section: ``.venv/bin/python -m benchmarks``; one or more: ``-m benchmarks history fleet``.
Each section is a module here with ``SECTION`` (its name), ``NEEDS_LAB`` and
``measure(bench: Bench) -> list[Figure]``; ``__main__`` runs them and prints one table.
"""
