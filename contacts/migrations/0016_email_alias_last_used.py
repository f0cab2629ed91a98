"""When a users import last found a person by an email alias (contacts.merge: such a use
blocks the unmerge of the merge that made the alias)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("contacts", "0015_trigram")]

    operations = [
        migrations.AddField(
            model_name="emailalias",
            name="last_used_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
