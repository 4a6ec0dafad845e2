"""The error tree. Use cases raise these; `shared.http.errors` maps them to responses, once."""

from __future__ import annotations


class AppError(Exception):
    """Base of every error a caller is meant to see. `code` is the wire `error` field."""

    code = "error"
    # The gateway's clients read the kind of a failure from `X-Comfy-Error-Type` (service_unavailable, ...).
    error_type: str | None = None
    # Headers the answer carries beside the body (the figures of a limit that refused the call).
    extra_headers: dict[str, str] = {}

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidInput(AppError):
    code = "invalid_input"


class Unprocessable(InvalidInput):
    """Well-formed input a model's schema refuses; `details` lists each failure (`loc`, `msg`, `type`)."""

    code = "unprocessable"

    def __init__(self, message: str, *, details: list[dict[str, object]], code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.details = details


class Unauthenticated(AppError):
    code = "unauthenticated"


class Forbidden(AppError):
    code = "forbidden"


class NotFound(AppError):
    code = "not_found"


class Conflict(AppError):
    code = "conflict"
    retry_after: int | None = None  # set when waiting helps (an idempotent call still in flight)


class MethodNotAllowed(AppError):
    """The path exists, for other methods (`allowed`, sent as `Allow`)."""

    code = "method_not_allowed"

    def __init__(self, message: str, *, allowed: list[str], code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.allowed = sorted(set(allowed))


class PaymentRequired(AppError):
    code = "payment_required"


class RateLimited(AppError):
    code = "rate_limited"

    def __init__(
        self, message: str, *, retry_after: int, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
        if headers:
            self.extra_headers = dict(headers)


class Unavailable(AppError):
    code = "unavailable"

    def __init__(self, message: str, *, retry_after: int = 5, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class BadGateway(AppError):
    """A partner behind the gateway failed in a way its caller cannot act on (a reset, a non-JSON error page)."""

    code = "partner_error"


class GatewayTimeout(AppError):
    """A partner behind the gateway did not answer in time."""

    code = "partner_timeout"


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached (a lost connection, a failover): worth retrying shortly."""

    def __init__(self, message: str = "The database is unavailable; try again shortly.") -> None:
        super().__init__(message, retry_after=5)


class DatabaseNotReady(Unavailable):
    """The database has no tables (a SQLite file never migrated, or missing): retrying will not help, migrating will."""

    def __init__(self) -> None:
        super().__init__(
            "The database has not been set up: its tables are missing. Run `make migrate` (or `python -m "
            "shared.db.migrate upgrade` with the same DATA_DIR and DATABASE_URL), then try again.",
            code="database_not_ready",
        )


class BlobStoreUnavailable(Unavailable):
    """The blob store, or the service that signs its URLs, cannot be reached: the BlobStore adapters turn their
    vendor's failures into this, so use cases stay vendor-free."""

    def __init__(
        self,
        message: str = "The upload storage is unavailable; try again shortly.",
        *,
        retry_after: int = 5,
        code: str | None = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after, code=code)


class ArchiveMismatch(Exception):
    """Bytes about to be released are not the bytes that were judged (their SHA-256 differs), or another archive is
    already released under that name: never served, never retried blindly."""


class DeadlineExceeded(GatewayTimeout):
    """We stopped waiting for a job the partner is still running (a same-key retry collects it)."""

    code = "deadline_exceeded"
    error_type = "deadline_exceeded"

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
