"""The heartbeat and the stale-job sweeper moved to ``apps.ingest.jobs`` (the floor under usage and invoices).
This name stays only for ``apps/invoices/services/ingest.py``, which still imports ``job_heartbeat`` from here
until the ingest kit moves that import; nothing else should."""

from apps.ingest.jobs import job_heartbeat

__all__ = ["job_heartbeat"]
