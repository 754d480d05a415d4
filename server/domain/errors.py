"""The one small hierarchy of domain errors; the API maps each class to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """A command the hall refuses. `code` is a stable machine name, `detail` a sentence."""

    status = 400

    def __init__(self, code: str, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The command is well formed but the hall's state does not allow it now."""

    status = 409


class Forbidden(DomainError):
    status = 403


class Invalid(DomainError):
    status = 422
