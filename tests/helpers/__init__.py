"""Test helpers shared by test files: ``tests/`` is put on ``sys.path`` by ``conftest.py``."""
