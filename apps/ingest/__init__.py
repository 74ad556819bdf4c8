"""The floor under usage and invoices (they are siblings and may not import each other): what every kind of
ingest job shares. Not a Django app (no models); usage and invoices register their job kinds here."""
