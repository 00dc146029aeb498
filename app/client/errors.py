"""What can go wrong talking to the engine, in words an operator can read."""

from __future__ import annotations


class EngineError(Exception):
    """The engine answered with an error (RFC 9457 problem) or could not be reached.

    ``status`` is the HTTP status (0 when the engine was not reached), ``title`` and ``detail`` come
    from the problem document.
    """

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{status} {title}: {detail}" if status else f"{title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail

    @property
    def message(self) -> str:
        """One line for the operator."""
        return self.detail or self.title


class EngineUnreachable(EngineError):
    """No answer from the engine (connection refused, timeout, reset)."""

    def __init__(self, detail: str) -> None:
        super().__init__(0, "Engine unreachable", detail)


class NotAuthenticated(EngineError):
    """401: wrong user or password, or the session expired."""
