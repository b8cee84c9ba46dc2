"""One exception base, typed subclasses; cli.py maps each to the process status.

Exit codes: 0 ok, 1 gate failed, 2 usage/config/data, 3 registry/infrastructure, 4 internal
error (an exception none of these explains: a bug to report, not an outage). Every outcome that
is not a success is raised, a failed gate included (`GateFailed`); cli.py turns the exception into
one line on stderr and its exit code. Library code raises these and never prints or exits.
"""

from __future__ import annotations

__all__ = [
    "EXIT_GATE_FAILED",
    "EXIT_INTERNAL",
    "EXIT_REGISTRY",
    "EXIT_USAGE",
    "ArtifactError",
    "ConfigError",
    "ConflictError",
    "DataError",
    "GateFailed",
    "MlgateError",
    "NotFoundError",
    "RegistryError",
    "UsageError",
    "first_line",
]

EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_REGISTRY = 3
EXIT_INTERNAL = 4


class MlgateError(Exception):
    """Base of every error mlgate reports to a user."""


class UsageError(MlgateError):
    """A command was called with arguments that cannot work."""


class ConfigError(MlgateError):
    """params.yaml is missing, unreadable or invalid."""


class DataError(MlgateError):
    """The dataset is missing or does not match the expected schema."""


class NotFoundError(MlgateError):
    """A model, version, alias, stage or metric that the user named does not exist."""


class GateFailed(MlgateError):
    """The gate judged the challenger (or a release's candidate): it failed. Its evidence was
    printed before this is raised; the message says which version and which checks."""


class RegistryError(MlgateError):
    """The tracking server or registry is unreachable or refused a request."""


class ConflictError(RegistryError):
    """The registry changed under us (e.g. @champion moved while we were promoting)."""


class ArtifactError(RegistryError):
    """A version's stored model is missing or cannot be loaded (the server itself answered)."""


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception's message, for a one-line error; its type when empty."""
    text = str(getattr(exc, "message", None) or exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:limit]
