"""Benchmarks. Each one writes its own marked section of docs/benchmarks.md.

Run one with `.venv/bin/python -m bench.<name>`; see bench/README.md.
"""
