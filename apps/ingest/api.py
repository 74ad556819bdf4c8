"""The API of every ingest job kind: the ``retry`` action, for the job viewsets of usage and invoices."""

from django.core.exceptions import ValidationError
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.ingest.jobs import job_retry


class JobRetryMixin:
    """``POST <job>/retry/``: queue a failed or interrupted job again (202 with the job), or 409 saying why
    not. The viewset documents it for its kind with ``extend_schema_view(retry=extend_schema(...))``."""

    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        try:
            job = job_retry(job=self.get_object(), actor=request.user)
        except ValidationError as exc:
            return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)
