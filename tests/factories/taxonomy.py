import factory
from factory.django import DjangoModelFactory

from apps.taxonomy.models import TagAlias, TagDimension, TagSet, TagValue
from apps.taxonomy.normalise import tagset_hash


class TagDimensionFactory(DjangoModelFactory[TagDimension]):
    class Meta:
        model = TagDimension
        django_get_or_create = ("organization", "key")

    organization = factory.SubFactory("tests.factories.tenancy.OrganizationFactory")
    key = factory.Sequence(lambda n: f"dimension_{n}")
    label = factory.LazyAttribute(lambda o: o.key.replace("_", " ").title())
    required = False
    position = factory.Sequence(lambda n: 10 * (n + 1))


class TagValueFactory(DjangoModelFactory[TagValue]):
    class Meta:
        model = TagValue

    dimension = factory.SubFactory(TagDimensionFactory)
    organization = factory.LazyAttribute(lambda o: o.dimension.organization)
    value = factory.Sequence(lambda n: f"value-{n}")


class TagAliasFactory(DjangoModelFactory[TagAlias]):
    class Meta:
        model = TagAlias

    value = factory.SubFactory(TagValueFactory)
    dimension = factory.LazyAttribute(lambda o: o.value.dimension)
    organization = factory.LazyAttribute(lambda o: o.value.organization)
    alias = factory.Sequence(lambda n: f"alias-{n}")


class TagSetFactory(DjangoModelFactory[TagSet]):
    class Meta:
        model = TagSet

    organization = factory.SubFactory("tests.factories.tenancy.OrganizationFactory")
    tags = factory.Sequence(lambda n: {"team": "search", "feature": f"feature-{n}"})
    hash = factory.LazyAttribute(lambda o: tagset_hash(o.tags))
