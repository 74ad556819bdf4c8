from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

from apps.accounts.models import ApiClient, hash_token

TEST_PASSWORD = "correct-horse-battery-1"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = "Test"
    last_name = factory.LazyAttribute(lambda o: o.username.title())
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ApiClientFactory(DjangoModelFactory[ApiClient]):
    """Builds a client with a known token: ``raw_token`` is set on the instance after creation."""

    class Meta:
        model = ApiClient
        exclude = ("raw_token",)

    organization = factory.SubFactory("tests.factories.tenancy.OrganizationFactory")
    name = factory.Sequence(lambda n: f"client-{n}")
    key_prefix = factory.Sequence(lambda n: f"{n:012x}")
    raw_token = factory.LazyAttribute(lambda o: f"cbk_{o.key_prefix}_secret-for-{o.name}")
    token_hash = factory.LazyAttribute(lambda o: hash_token(o.raw_token))
    scopes = factory.LazyFunction(list)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        instance = super()._create(model_class, *args, **kwargs)
        instance.raw_token = f"cbk_{instance.key_prefix}_secret-for-{instance.name}"
        return instance
