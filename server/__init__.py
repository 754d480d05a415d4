"""hallq: the queue-number and lobby kiosk system for government service halls."""

__version__ = "0.1.0"
