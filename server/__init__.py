"""hallq: the queue-number and lobby kiosk system for government service halls."""

__version__ = "0.2.0"  # the one place the version is written (pyproject.toml reads it)
