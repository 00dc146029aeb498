"""Errors that services raise and the API turns into RFC 9457 problem+json answers."""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}


def not_found(what: str, ident: str) -> ServiceError:
    # The same answer whether the thing does not exist or belongs to someone else: no leak.
    return ServiceError(404, "Not Found", f"no {what} with id {ident!r}")


def forbidden(detail: str) -> ServiceError:
    return ServiceError(403, "Forbidden", detail)


def conflict(detail: str) -> ServiceError:
    return ServiceError(409, "Conflict", detail)


def invalid(detail: str) -> ServiceError:
    return ServiceError(422, "Unprocessable Content", detail)
