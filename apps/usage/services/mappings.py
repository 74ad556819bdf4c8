from django.core.exceptions import ValidationError
from django.db import transaction

from apps.audit.services import audit_record
from apps.tenancy.models import Organization
from apps.tenancy.scoping import tenant_scoped
from apps.usage.models import SourceMapping


@tenant_scoped
@transaction.atomic
def source_mapping_create(
    *, organization: Organization, actor, kind: str, external_id: str, tags: dict, note: str = ""
) -> SourceMapping:
    if SourceMapping.objects.filter(kind=kind, external_id=external_id).exists():
        raise ValidationError({"external_id": f"{external_id} is already mapped."})
    mapping = SourceMapping(organization=organization, kind=kind, external_id=external_id.strip(), tags=tags, note=note)
    mapping.full_clean(exclude=["organization"])
    mapping.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="usage.source_mapping_created",
        target=mapping,
        after={"kind": kind, "external_id": mapping.external_id, "tags": tags},
    )
    return mapping


@tenant_scoped(via="mapping")
@transaction.atomic
def source_mapping_delete(*, mapping: SourceMapping, actor) -> None:
    before = {"kind": mapping.kind, "external_id": mapping.external_id, "tags": mapping.tags}
    organization, pk = mapping.organization, mapping.pk
    mapping.delete()
    audit_record(
        organization=organization,
        actor=actor,
        action="usage.source_mapping_deleted",
        object_type="usage.sourcemapping",
        object_id=str(pk),
        before=before,
        reason="Applies to usage ingested from now on; usage already ingested keeps its tags.",
    )
