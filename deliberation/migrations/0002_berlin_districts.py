from django.db import migrations
from django.utils.text import slugify

BERLIN_DISTRICTS = [
    "Charlottenburg-Wilmersdorf",
    "Friedrichshain-Kreuzberg",
    "Lichtenberg",
    "Marzahn-Hellersdorf",
    "Mitte",
    "Neukölln",
    "Pankow",
    "Reinickendorf",
    "Spandau",
    "Steglitz-Zehlendorf",
    "Tempelhof-Schöneberg",
    "Treptow-Köpenick",
]


def create_districts(apps, schema_editor):
    District = apps.get_model("deliberation", "District")
    for name in BERLIN_DISTRICTS:
        District.objects.get_or_create(slug=slugify(name), defaults={"name": name})


def committee_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.get_or_create(name="Programmkommission")


class Migration(migrations.Migration):
    dependencies = [
        ("deliberation", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(create_districts, migrations.RunPython.noop),
        migrations.RunPython(committee_group, migrations.RunPython.noop),
    ]
