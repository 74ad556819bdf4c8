"""The floor under usage and invoices (they are siblings and may not import each other): what every kind of
ingest shares, whatever the file's format. ``models`` (the abstract job model, its statuses and channels),
``rows`` (row errors and value readers), ``payloads`` (receiving, keeping, opening and prescanning the file),
``jobs`` (a job's life: queued on its kind's task, marked running, finished, retried, its heartbeats and the
stale-job sweeper), ``api`` (the retry action) and ``command`` (the body of the ``ingest_*`` and retry
commands). Not a Django app (its one model is abstract); usage and invoices register their job kinds here."""
