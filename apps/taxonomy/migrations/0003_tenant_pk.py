"""Issue 22, first wave: the taxonomy tables keyed (organization_id, id).

The relations between them (and a value's cost centre) become TenantForeignKey, whose single-column constraints
go; every table gets PRIMARY KEY (organization_id, id). The usage cube's single-column foreign key to
taxonomy_tagset(id) is kept until usage is converted (so this runs after it exists). The composite foreign keys
are the second wave (0004_tenant_fk).
"""

import django.db.models.deletion
from django.db import migrations

import apps.tenancy.keys


class Migration(migrations.Migration):
    dependencies = [
        ("taxonomy", "0002_dimension_granularity"),
        ("owners", "0003_tenant_pk"),
        ("tenancy", "0004_tenant_pk"),
        # the single-column foreign keys to taxonomy tables exist before their keys change under them
        ("usage", "0005_cube_sums_in_range"),
    ]

    operations = [
        migrations.AlterField(
            model_name="tagalias",
            name="dimension",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="aliases", to="taxonomy.tagdimension"
            ),
        ),
        migrations.AlterField(
            model_name="tagalias",
            name="value",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="aliases", to="taxonomy.tagvalue"
            ),
        ),
        migrations.AlterField(
            model_name="tagvalue",
            name="dimension",
            field=apps.tenancy.keys.TenantForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="values", to="taxonomy.tagdimension"
            ),
        ),
        migrations.AlterField(
            model_name="tagvalue",
            name="owner",
            field=apps.tenancy.keys.TenantForeignKey(
                blank=True,
                help_text="The cost centre this value belongs to (used by tag-map allocation).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="tag_values",
                to="owners.budgetowner",
            ),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="tagdimension",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="taxonomy_tagdimension_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="tagvalue",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="taxonomy_tagvalue_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="tagalias",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="taxonomy_tagalias_tenant_pk"),
        ),
        apps.tenancy.keys.AddTenantConstraint(
            model_name="tagset",
            constraint=apps.tenancy.keys.TenantPrimaryKey(name="taxonomy_tagset_tenant_pk"),
        ),
    ]
