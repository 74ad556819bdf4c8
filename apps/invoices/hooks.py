"""What other apps add to the invoice pages. Invoices stands below the apps that feed it from elsewhere (the
provider connectors, which pull cost reports into invoice jobs), so it cannot import them: they register a
panel here from their ``AppConfig.ready()`` and the invoice list shows it.

A panel function takes ``organization`` (keyword) and returns None (nothing to show) or a dict with
``template`` (the template the invoice list includes) and whatever that template reads; it is called once
per page, inside the organisation's scope, and should cost a bounded number of queries."""

from collections.abc import Callable

_panels: dict[str, Callable] = {}


def register_invoice_panel(name: str, panel: Callable) -> None:
    """Called from an app's ``AppConfig.ready()``; registering a name again replaces it."""
    _panels[name] = panel


def invoice_panels(*, organization) -> list[dict]:
    """The panels the invoice list shows for ``organization``, in registration order."""
    shown = []
    for panel in _panels.values():
        found = panel(organization=organization)
        if found:
            shown.append(found)
    return shown
