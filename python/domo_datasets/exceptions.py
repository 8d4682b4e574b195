"""Errors raised by domo-datasets.

Every failure that reaches Domo (or fails to) is a :class:`DomoError`. Subclasses say what
went wrong and also derive from the builtin that fits, so ``except LookupError`` or
``except PermissionError`` work as a Python user expects. Bad arguments are plain
:class:`ValueError`/:class:`TypeError`, raised before any request is sent.

No exception ever carries a token: ``url`` is the request URL (tokens are never put in
URLs) and ``body`` is what Domo answered, cut to a few kilobytes.
"""

from __future__ import annotations

import builtins

__all__ = [
    "AnswerTooLargeError",
    "AuthError",
    "BadRequestError",
    "CommitOutcomeUnknownError",
    "ConflictError",
    "DomoError",
    "ForbiddenError",
    "NotFoundError",
    "RateLimitError",
    "RowCapWarning",
    "ServerError",
    "TimeoutError",
    "TransportError",
    "UnexpectedResponseError",
]


class DomoError(Exception):
    """Base class of every error from the Domo API or the way to it.

    Attributes:
        message: Human-readable description (Domo's ``message`` when it sent one).
        status: HTTP status code, or ``None`` when no response arrived.
        status_reason: Domo's ``statusReason`` (e.g. ``"Bad Request"``), if any.
        toe: Domo's request trace id; quote it to Domo support.
        method: HTTP method of the failed request.
        url: URL of the failed request (never contains credentials).
        body: The response body as text, truncated, if any.
    """

    message: str
    status: int | None
    status_reason: str | None
    toe: str | None
    method: str | None
    url: str | None
    body: str | None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        status_reason: str | None = None,
        toe: str | None = None,
        method: str | None = None,
        url: str | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.status_reason = status_reason
        self.toe = toe
        self.method = method
        self.url = url
        self.body = body

    def __str__(self) -> str:
        parts = [self.message]
        if self.method and self.url:
            parts.append(f"({self.method} {self.url}")
            parts[-1] += f" -> {self.status})" if self.status is not None else ")"
        if self.toe:
            parts.append(f"[toe {self.toe}]")
        return " ".join(parts)


class BadRequestError(DomoError, ValueError):
    """Domo refused the request as malformed (HTTP 400), e.g. invalid SQL or CSV."""


class AuthError(DomoError, PermissionError):
    """Missing, wrong or expired credentials (HTTP 401, or a failed login)."""


class ForbiddenError(DomoError, PermissionError):
    """Authenticated, but not allowed to do this (HTTP 403)."""


class NotFoundError(DomoError, LookupError):
    """The dataset, stream or upload does not exist (HTTP 404)."""


class ConflictError(DomoError):
    """The request conflicts with the resource's state (HTTP 409), e.g. a second commit."""


class RateLimitError(DomoError):
    """Domo's rate limit was hit (HTTP 429, or 403 "API Rate limit reached") and retries ran out."""


class ServerError(DomoError):
    """Domo failed (HTTP 5xx) and retries, where allowed, ran out."""


class TransportError(DomoError, ConnectionError):
    """No usable HTTP response: connection refused or reset, TLS failure, body cut short."""


class TimeoutError(TransportError, builtins.TimeoutError):
    """Connecting or reading took longer than the configured timeout or ``deadline``."""


class CommitOutcomeUnknownError(TransportError):
    """The connection was lost after an upload's commit was sent, before Domo answered.

    Domo may or may not have applied the commit, so it is never sent again. Before
    uploading the same data again, look for a data version of the upload (its id is in
    ``url`` and in the message) in :meth:`Dataset.data_versions`.
    """


class UnexpectedResponseError(DomoError):
    """Domo answered with something that is not the expected data.

    For example an HTML maintenance page, a 200 "Domo - Blocked" page, or JSON of the
    wrong shape.
    """


class AnswerTooLargeError(UnexpectedResponseError):
    """An answer is larger than the client accepts, so reading it stopped.

    A query answer (or any answer read whole) that decompresses to more than the client's
    ``max_answer_bytes``, or an export record longer than ``max_record_bytes`` (a record
    that never ends, such as one with an unclosed quote). Raise the setting if the answer
    is expected to be that large.
    """


class RowCapWarning(UserWarning):
    """A query answer has exactly as many rows as Domo answers to one query (1,000,000).

    Domo cuts the rest of a larger answer without an error, so such an answer may be
    incomplete. ``Dataset.query_pages`` (or :func:`domo_datasets.scan`) reads every row.
    Against the local emulator the cap is the one it was given
    (``LocalDomo.set_answer_row_cap``), which it announces with each answer.
    """
