"""The portal's download of a period's journal (/o/<slug>/periods/<YYYY-MM>/journal/download/?layout=…): the
same file as the API's export and the command's (without ``layout``, the generic one). Finance roles and org
admins (PREPARE_PERIOD or MANAGE_LEDGER); the links are in ``journals/_downloads.html``, which the period's
journal page includes."""

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect

from apps.core.calendar import parse_period
from apps.core.csv import CONTENT_TYPE
from apps.tenancy.permissions import org_any_perm_required
from apps.tenancy.roles import Perm

from .exports import NoJournal, journal_export
from .layouts import LAYOUTS, LayoutError

DOWNLOAD_PERMS = (Perm.PREPARE_PERIOD, Perm.MANAGE_LEDGER)

journal_download_required = org_any_perm_required(*DOWNLOAD_PERMS, what="journal downloads")


@journal_download_required
def journal_download(request, org_slug: str, period: str):
    month = parse_period(period)
    layout = request.GET.get("layout") or "generic"
    if layout not in LAYOUTS:
        return HttpResponseBadRequest(f"Choose a layout: ?layout= one of {', '.join(LAYOUTS)}.")
    try:
        export = journal_export(organization=request.organization, period=month, layout=layout)
    except NoJournal as refusal:
        if refusal.status == 404:
            raise Http404(refusal.message) from None
        messages.error(request, f"Nothing to download: {refusal.message}")
        return redirect("periods:detail", org_slug=org_slug, period=period)
    except LayoutError as error:
        messages.error(request, f"The {LAYOUTS[layout].label} file could not be written: {error}")
        return redirect("periods:detail", org_slug=org_slug, period=period)
    response = HttpResponse(export.text, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
