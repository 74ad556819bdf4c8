from django import template

register = template.Library()


@register.filter
def can(membership, perm: str) -> bool:
    """``{% if current_membership|can:"org.manage_settings" %}``: the role table decides, not the template."""
    return membership is not None and membership.has_perm(perm)


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()
