"""The kinds of job, registered by the apps that own the work (``register_job_kind`` from
``AppConfig.ready()``), so the worker's one task runs every kind without this floor importing the apps above.

A kind's runner is ``runner(job, progress) -> dict``. It runs inside the job's organisation scope, with no
transaction open; it must be safe to run again (a task is acknowledged late, so a worker killed mid-job has
the job redelivered, and a failed job can be retried): writing its result in one transaction, after
checking whether an earlier attempt already did. ``progress(done, total, message="")`` records how far it is
(commit between phases: inside a transaction it is not seen, and is skipped). It returns what it made (ids,
figures); the key "url", if any, is where the job's page sends people to look at the result. A refusal a
person can act on is a ``django.core.exceptions.ValidationError``: the job fails with its message."""

from collections.abc import Callable
from dataclasses import dataclass

Progress = Callable[..., None]
Runner = Callable[["object", Progress], dict]


@dataclass(frozen=True)
class JobKind:
    kind: str
    runner: Runner
    label: str  # "Reconciliation run": the jobs list's column
    perm: str  # who may see (and retry) a job of this kind in the portal (apps.tenancy.roles.Perm)
    scope: str  # the API token scope that reads it (apps.tenancy.roles.TokenScope)
    retryable: bool = True


_kinds: dict[str, JobKind] = {}


def register_job_kind(kind: str, runner: Runner, *, label: str, perm: str, scope: str, retryable: bool = True) -> None:
    """Register (or replace) the kind ``kind``."""
    _kinds[kind] = JobKind(kind=kind, runner=runner, label=label, perm=perm, scope=scope, retryable=retryable)


def job_kind(kind: str) -> JobKind:
    try:
        return _kinds[kind]
    except KeyError:
        raise LookupError(f"No app registered the job kind {kind!r}.") from None


def job_kinds() -> list[JobKind]:
    return list(_kinds.values())


def kinds_for(has_perm) -> list[str]:
    """The kinds whose jobs someone with ``has_perm`` (a membership's ``has_perm``) may see."""
    return [kind.kind for kind in _kinds.values() if has_perm(kind.perm)]
