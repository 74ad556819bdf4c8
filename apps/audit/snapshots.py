"""What an audit event records of a value, a model and an actor. Pure: no table is read, so no organisation
is needed (``services.audit_record`` is the write, scoped to its organisation)."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


def normalise_for_audit(value):
    """What the database will hand back for a JSON value: Decimals, dates and UUIDs as strings."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def model_snapshot(instance: models.Model, fields) -> dict:
    return normalise_for_audit({name: getattr(instance, name) for name in fields})


def actor_label_for(actor) -> str:
    if actor is None:
        return "system"
    label = getattr(actor, "audit_label", None)
    if label:
        return label
    return actor.get_username()
