"""The version, in one place: pyproject.toml reads it from here at build time.

(Not importlib.metadata: that costs ~30 ms of start-up on every command.)
"""

__version__ = "0.1.0"
