"""The tenant scoping of the Django admin: which organisations' rows and choices a staff user sees.

Admin requests run with scopes disabled (see the middleware), so the restriction to the
organisations a staff user administers is applied here: the rows listed and reachable by id, and
every choice a form, list filter, autocomplete or raw-id lookup offers. On a change page the
choices are those of the row's own organisation; on an add page those of the organisations the
user administers (the model refuses a mix, see ``TenantModel.clean``).

Apps register their models through ``apps.audit.admin_kit.TenantAdmin``, which adds the audit record of
every change made in the admin to this scoping (audit sits above tenancy, so the recording lives there).
``TenantScopedAdmin`` alone does not audit: it is the base of that class, not for registering models.
"""

from functools import partial

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ObjectDoesNotExist, ValidationError
from django.db import models
from django.forms import ModelForm

from .keys import TenantManyToManyField
from .models import Membership, Organization, TenantModel, m2m_cross_organization_error
from .roles import Perm
from .selectors import organizations_where_user_may


def admin_organization_ids(request) -> list[int] | None:
    """None means every organisation (superusers)."""
    if request.user.is_superuser:
        return None
    return [org.pk for org in organizations_where_user_may(user=request.user, perm=Perm.MANAGE_SETTINGS)]


# "No organisation given": the caller has no object at hand, so the user's own organisations apply.
_USER_ORGANIZATIONS = object()


def _is_user_model(model) -> bool:
    return model is not None and model._meta.label == settings.AUTH_USER_MODEL


def _is_tenant_related(model) -> bool:
    return model is Organization or _is_user_model(model) or (model is not None and issubclass(model, TenantModel))


def restrict_choices(queryset: models.QuerySet, organization_ids: list[int] | None) -> models.QuerySet:
    """``queryset`` (organisations, tenant-owned rows or users) limited to ``organization_ids``; users are
    limited to the members of those organisations. None means no limit (a superuser's add page)."""
    if organization_ids is None:
        return queryset
    model = queryset.model
    if model is Organization:
        return queryset.filter(pk__in=organization_ids)
    if _is_user_model(model):
        members = Membership._base_manager.filter(organization_id__in=organization_ids).values("user_id")
        return queryset.filter(pk__in=members)
    return queryset.filter(organization_id__in=organization_ids)


class TenantRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id input that names the chosen row only when it is among the allowed choices: the stock
    widget looks the id up unscoped, so a posted id of another organisation would show that row's name."""

    def __init__(self, rel, admin_site, attrs=None, using=None, *, queryset):
        super().__init__(rel, admin_site, attrs, using)
        self.queryset = queryset

    def label_and_url_for_value(self, value):
        try:
            self.queryset.get(**{self.rel.get_related_field().name: value})
        except (ValueError, TypeError, ObjectDoesNotExist, ValidationError):
            return "", ""
        return super().label_and_url_for_value(value)


class TenantAdminForm(ModelForm):
    def _update_errors(self, errors):
        # The model names the field that points at another organisation; when that field is read-only
        # here (not on the form) the message is shown above the form instead of failing with a 500.
        if hasattr(errors, "error_dict") and any(
            name != NON_FIELD_ERRORS and name not in self.fields for name in errors.error_dict
        ):
            folded: dict[str, list] = {}
            for name, messages in errors.error_dict.items():
                folded.setdefault(name if name in self.fields else NON_FIELD_ERRORS, []).extend(messages)
            errors = ValidationError(folded)
        super()._update_errors(errors)

    def _post_clean(self):
        # Many-to-many links are saved after the row (save_m2m), where the model's guard would only raise
        # a 500: check them here, against the organisation the row is saved in.
        super()._post_clean()
        organization_id = self.instance.organization_id
        if organization_id is None:
            return
        for field in self.instance._meta.many_to_many:
            chosen = self.cleaned_data.get(field.name)
            tenant_owned = _is_user_model(field.related_model) or issubclass(field.related_model, TenantModel)
            if field.name in self.errors or not chosen or not tenant_owned:
                continue
            message = m2m_cross_organization_error(
                field, organization_id=organization_id, pks=[row.pk for row in chosen]
            )
            if message:
                self.add_error(field.name, message)


class TenantScopedAdmin(admin.ModelAdmin):
    """Superusers see everything; a staff user sees the organisations where the role table lets
    them manage settings (org admins). Django's per-model permissions are not used: the role
    table in ``roles.py`` is the one place that decides."""

    list_select_related = ["organization"]
    form = TenantAdminForm

    def _may(self, request, obj=None) -> bool:
        if not request.user.is_active or not request.user.is_staff:
            return False
        org_ids = admin_organization_ids(request)
        if org_ids is None:
            return True
        if obj is None:
            return bool(org_ids)
        return obj.organization_id in org_ids

    def has_module_permission(self, request):
        return self._may(request)

    def has_view_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_add_permission(self, request):
        return self._may(request)

    def has_change_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        org_ids = admin_organization_ids(request)
        return queryset if org_ids is None else queryset.filter(organization_id__in=org_ids)

    # Choices: every foreign key and many-to-many to an organisation, a tenant-owned model or a user.

    def choice_organization_ids(self, request, obj=None) -> list[int] | None:
        """The organisations whose rows a form may offer: the row's own on a change page, else the user's."""
        if obj is not None and obj.pk is not None:
            return [obj.organization_id]
        return admin_organization_ids(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        organization_ids = self.choice_organization_ids(request, obj)
        kwargs.setdefault(
            "formfield_callback",
            partial(self.formfield_for_dbfield, request=request, organization_ids=organization_ids),
        )
        return super().get_form(request, obj, change, **kwargs)

    def formfield_for_dbfield(self, db_field, request, organization_ids=_USER_ORGANIZATIONS, **kwargs):
        if organization_ids is _USER_ORGANIZATIONS:
            organization_ids = admin_organization_ids(request)
        if (
            isinstance(db_field, models.ForeignKey | models.ManyToManyField)
            and _is_tenant_related(db_field.related_model)
            and "queryset" not in kwargs
        ):
            using = kwargs.get("using")
            queryset = self.get_field_queryset(using, db_field, request)
            if queryset is None:
                queryset = db_field.related_model._default_manager.using(using).all()
            kwargs["queryset"] = restrict_choices(queryset, organization_ids)
            if isinstance(db_field, models.ForeignKey) and db_field.name in self.raw_id_fields:
                kwargs.setdefault(
                    "widget",
                    TenantRawIdWidget(db_field.remote_field, self.admin_site, using=using, queryset=kwargs["queryset"]),
                )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Django's admin offers no field for a relation through an explicit model; a tenant relation's link
        # model is explicit only to carry the organisation, which its manager fills: offer it like any other.
        if isinstance(db_field, TenantManyToManyField):
            if "queryset" not in kwargs:
                queryset = self.get_field_queryset(kwargs.get("using"), db_field, request)
                if queryset is not None:
                    kwargs["queryset"] = queryset
            return db_field.formfield(**kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # A row never moves to another organisation: its references and history would point across.
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and "organization" not in fields:
            fields.append("organization")
        return fields

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        organization_ids = admin_organization_ids(request)
        if organization_ids is not None and len(organization_ids) == 1:
            initial.setdefault("organization", organization_ids[0])
        return initial

    def get_list_filter(self, request):
        # The stock related-field filter lists every row of the related table (every organisation, every
        # tenant's cost centres); the related-only filter lists those of the rows this user may see.
        return [self._scoped_list_filter(entry) for entry in super().get_list_filter(request)]

    def _scoped_list_filter(self, entry):
        if not isinstance(entry, str):
            return entry
        try:
            field = get_fields_from_path(self.model, entry)[-1]
        except FieldDoesNotExist:
            return entry
        if field.is_relation and _is_tenant_related(field.related_model):
            return (entry, admin.RelatedOnlyFieldListFilter)
        return entry
