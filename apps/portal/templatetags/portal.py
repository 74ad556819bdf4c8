from django import template

register = template.Library()


@register.filter
def can(membership, perm: str) -> bool:
    """``{% if current_membership|can:"org.manage_settings" %}``: the role table decides, not the template."""
    return membership is not None and membership.has_perm(perm)
