"""Who asked for a job, kept with it so the worker acts as them: a person (the job's ``created_by``) or an API
client, which acts as itself with its own role (its id in the job's params, under ``api_client``). A client
revoked or expired between the request and the worker is refused: the job fails, nothing is done for it."""

from apps.jobs.errors import JobRefused

from .authentication import ApiPrincipal
from .models import ApiClient

REVOKED = "The API client that asked for this job is revoked or expired."


def job_actor_params(actor) -> dict:
    """The params that name ``actor`` when it is an API client ({} for a person: the job keeps its user)."""
    if isinstance(actor, ApiPrincipal):
        return {"api_client": actor.client.pk}
    return {}


def job_actor(job):
    """The actor a job's runner works as: the API client that asked, else the person (None: the system)."""
    client_id = job.params.get("api_client")
    if client_id:
        client = (
            ApiClient.objects.select_related("organization", "created_by")
            .filter(organization=job.organization_id, pk=client_id)
            .first()
        )
        if client is None or not client.is_active:
            raise JobRefused(REVOKED)
        return ApiPrincipal(client)
    return job.created_by
