"""The one error hierarchy of FlowTime runs.

Domain code (engine, templates, artifacts, telemetry) raises these; the DRF exception handler renders
them as problem+json, and management commands print ``code: detail`` and exit 1. This module imports
no Django so the pure domain packages can use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowtime_site.shapes import ProblemErrorItem

# Human titles for problem+json, one per code of spec 05 §7 (and the CLI-only codes of spec 04).
TITLES: dict[str, str] = {
    "invalid_request": "Invalid request",
    "invalid_parameter": "Invalid query parameter",
    "not_authenticated": "Authentication required",
    "permission_denied": "Permission denied",
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
    "run_not_found": "Run not found",
    "template_not_found": "Template not found",
    "series_not_found": "Series not found",
    "run_exists": "Run already exists",
    "run_invalid": "Run directory is invalid",
    "provenance_mismatch": "Provenance hashes disagree",
    "request_too_large": "Request body too large",
    "window_too_large": "State window too large",
    "unsupported_media_type": "Unsupported media type",
    "template_invalid": "Invalid template",
    "parameter_invalid": "Invalid template parameters",
    "parameter_unknown": "Unknown template parameters",
    "placeholder_unknown": "Unknown template placeholder",
    "binding_invalid": "Invalid telemetry binding",
    "model_invalid": "Invalid model",
    "capture_not_found": "Capture not found",
    "capture_invalid": "Invalid capture",
    "capture_hash_mismatch": "Capture file hash mismatch",
    "capture_exists": "Capture already exists",
    "capture_name_collision": "Capture file names collide",
    "run_artifact_invalid": "Run artifact invalid",
    "path_forbidden": "Path forbidden",
    "mode_validation_failed": "Mode validation failed",
    "run_cancelled": "Run cancelled",
    "prune_refused": "Prune refused",
    "internal_error": "Internal server error",
    "service_unavailable": "Service unavailable",
    "idempotency_key_reused": "Idempotency key reused",
    "idempotency_key_in_progress": "Idempotency key in progress",
}


@dataclass(frozen=True)
class Issue:
    """One problem found while validating: a code, where it is, and what is wrong."""

    code: str
    path: str
    message: str
    reason: str | None = None
    position: int | None = None
    nodes: tuple[str, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "path": self.path, "message": self.message}
        if self.reason is not None:
            out["reason"] = self.reason
        if self.position is not None:
            out["position"] = self.position
        if self.nodes is not None:
            out["nodes"] = list(self.nodes)
        return out

    def as_error_item(self) -> ProblemErrorItem:
        """The API's ``errors[]`` item (spec 01 §3, spec 05 §7)."""
        item: ProblemErrorItem = {
            "field": self.path,
            "code": self.reason or self.code,
            "message": self.message,
        }
        if self.position is not None:
            item["position"] = self.position
        if self.nodes is not None:
            item["nodes"] = list(self.nodes)
        return item


class FlowtimeError(Exception):
    """Base of every expected failure: a stable ``code``, an HTTP ``status`` and a ``detail``.

    A plain exception class (not a dataclass): hashable like any exception, and picklable for every
    subclass whatever its ``__init__`` signature (process pools send errors back to the parent).
    """

    def __init__(
        self,
        detail: str,
        code: str = "internal_error",
        status: int = 500,
        errors: Sequence[Issue] = (),
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.status = status
        self.errors: tuple[Issue, ...] = tuple(errors)

    @property
    def title(self) -> str:
        return TITLES.get(self.code, self.code.replace("_", " ").capitalize())

    def __str__(self) -> str:
        return self.detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status}, detail={self.detail!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's default would call ``cls(*self.args)``, which fails for subclasses whose
        # __init__ takes other arguments (CaptureError(code, detail)); rebuild from the state instead.
        return (_restore_error, (type(self), dict(self.__dict__)))


def _restore_error(cls: type[FlowtimeError], state: dict[str, Any]) -> FlowtimeError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("detail", ""))
    error.__dict__.update(state)
    return error


def error_lines(error: FlowtimeError) -> list[str]:
    """What a command prints for a failure: ``code: detail``, then each issue on its own line."""
    lines = [f"{error.code}: {error.detail}"]
    for issue in error.errors:
        item = issue.as_error_item()
        lines.append(f"  - {item['field']}: {item['code']}: {item['message']}")
    return lines


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class InvalidRequest(FlowtimeError):
    def __init__(self, detail: str, *, errors: Sequence[Issue] = ()) -> None:
        super().__init__(detail, "invalid_request", 400, tuple(errors))


class InvalidParameter(FlowtimeError):
    """A bad query parameter; ``errors[0].field`` names it."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(detail, "invalid_parameter", 400, (Issue("invalid_parameter", name, detail),))


class RunNotFound(FlowtimeError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"Run '{run_id}' was not found.", "run_not_found", 404)


class PruneRefused(FlowtimeError):
    """``reindex_runs --prune`` over a data root without runs while the index has rows (CLI only)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, "prune_refused", 409)


class SeriesNotFound(FlowtimeError):
    def __init__(self, series_id: str) -> None:
        super().__init__(f"Series '{series_id}' was not found in this run.", "series_not_found", 404)


class TemplateNotFound(FlowtimeError):
    """422 when a request names it (POST /v1/runs); the template detail route passes status=404.

    ``known`` (the catalog's ids) adds a "did you mean" for a near miss; the detail always says where
    the catalog is listed.
    """

    def __init__(self, template_id: str, *, status: int = 422, known: Iterable[str] = ()) -> None:
        import difflib

        detail = f"Template '{template_id}' was not found."
        by_folded = {name.lower(): name for name in known}
        close = difflib.get_close_matches(template_id.lower(), list(by_folded), n=1, cutoff=0.75)
        if close:
            detail += f" Did you mean '{by_folded[close[0]]}'?"
        detail += " GET /v1/templates lists the catalog."
        super().__init__(detail, "template_not_found", status)


class RunExists(FlowtimeError):
    def __init__(self, run_id: str, detail: str | None = None) -> None:
        super().__init__(detail or f"Run '{run_id}' already exists.", "run_exists", 409)


class RunInvalid(FlowtimeError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, "run_invalid", 409)


class ProvenanceMismatch(FlowtimeError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, "provenance_mismatch", 409)


class WindowTooLarge(FlowtimeError):
    def __init__(self, requested: int, maximum: int) -> None:
        super().__init__(
            f"Requested bin range {requested} exceeds maximum supported window size of {maximum}.",
            "window_too_large",
            413,
        )


class PathForbidden(FlowtimeError):
    def __init__(self, detail: str, *, field: str = "path") -> None:
        super().__init__(detail, "path_forbidden", 422, (Issue("path_forbidden", field, detail),))


class CaptureError(FlowtimeError):
    """capture_not_found, capture_invalid, capture_hash_mismatch, capture_exists, … (spec 04).

    ``capture_exists`` is a conflict with what is on disk, so it answers 409 like ``run_exists``.
    """

    def __init__(self, code: str, detail: str, *, errors: Iterable[Issue] = ()) -> None:
        super().__init__(detail, code, 409 if code == "capture_exists" else 422, tuple(errors))


class CaptureNotFound(FlowtimeError):
    """A capture named in a route (``/v1/captures/{captureId}``) that does not exist: 404."""

    def __init__(self, capture_id: str) -> None:
        super().__init__(f"Capture '{capture_id}' was not found.", "capture_not_found", 404)


class ModeValidationFailed(FlowtimeError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, "mode_validation_failed", 422)


class ServiceUnavailable(FlowtimeError):
    """A health check failed (spec 07 §3.2): the database or the data directory."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, "service_unavailable", 503)


class RunCancelled(FlowtimeError):
    def __init__(self, detail: str = "Run creation was cancelled; nothing was written.") -> None:
        super().__init__(detail, "run_cancelled", 499)


class IdempotencyKeyReused(FlowtimeError):
    """The same ``Idempotency-Key`` came back with a different request."""

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request; use a new key.",
            "idempotency_key_reused",
            422,
        )


class IdempotencyKeyInProgress(FlowtimeError):
    """The request holding this key is still running after the wait; the client retries later."""

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still being processed; retry later.",
            "idempotency_key_in_progress",
            409,
        )


# Issue codes produced by the engine validator (spec 02 §10); the API groups them as model_invalid.
ENGINE_CODES = frozenset(
    {
        "model_invalid",
        "grid_invalid",
        "values_length_mismatch",
        "pmf_invalid",
        "expr_syntax",
        "function_unknown",
        "function_arity",
        "shift_lag_invalid",
        "node_unknown",
        "graph_cycle",
        "rng_invalid",
        "source_invalid",
        "source_not_found",
        "csv_invalid",
    }
)


class ModelError(FlowtimeError):
    """The engine rejected a model; every issue is in ``errors`` with its own code."""

    def __init__(self, issues: Sequence[Issue], detail: str | None = None) -> None:
        issues = tuple(issues)
        if detail is None:
            detail = issues[0].message if len(issues) == 1 else f"The model has {len(issues)} problems."
        super().__init__(detail, "model_invalid", 422, issues)


class TemplateError(FlowtimeError):
    """A template or request problem (spec 01 §3): all issues of one phase, raised together.

    The problem code is the first issue's code, except that engine codes are grouped under
    ``model_invalid`` as spec 05 §7 asks.
    """

    def __init__(self, issues: Sequence[Issue], detail: str | None = None) -> None:
        issues = tuple(issues)
        if not issues:
            raise ValueError("TemplateError needs at least one issue")
        first = issues[0].code
        code = "model_invalid" if first in ENGINE_CODES else first
        if detail is None:
            if code in {"parameter_invalid", "parameter_unknown"}:
                detail = f"{_plural(len(issues), 'parameter')} {'is' if len(issues) == 1 else 'are'} invalid."
                if code == "parameter_unknown" and len(issues) == 1:
                    detail = issues[0].message
            elif len(issues) == 1:
                detail = issues[0].message
            else:
                detail = f"{len(issues)} problems were found."
        super().__init__(detail, code, 422, issues)
