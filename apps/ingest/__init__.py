"""The floor under usage and invoices (they are siblings and may not import each other): what every kind of
ingest shares, whatever the file's format. ``rows`` (row errors and value readers), ``payloads`` (keeping,
opening and prescanning the received file), ``jobs`` (heartbeats and the stale-job sweeper) and ``command``
(the body of the ``ingest_*`` and retry commands). Not a Django app (no models); usage and invoices register
their job kinds here."""
