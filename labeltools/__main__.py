"""``python -m labeltools``: the same as the ``labeltools`` command."""

from labeltools.cli import app

if __name__ == "__main__":  # pragma: no cover - exercised through subprocess tests
    app(prog_name="labeltools")
