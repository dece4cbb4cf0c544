from django.db import migrations, models

SLUGS = ["impressum", "datenschutz", "barrierefreiheit", "kontakt"]


def create_pages(apps, schema_editor):
    SitePage = apps.get_model("deliberation", "SitePage")
    for slug in SLUGS:
        SitePage.objects.get_or_create(slug=slug)


class Migration(migrations.Migration):
    dependencies = [
        ("deliberation", "0003_notification"),
    ]

    operations = [
        migrations.CreateModel(
            name="SitePage",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "slug",
                    models.CharField(
                        choices=[
                            ("impressum", "Legal notice"),
                            ("datenschutz", "Privacy policy"),
                            ("barrierefreiheit", "Accessibility statement"),
                            ("kontakt", "Contact"),
                        ],
                        max_length=30,
                        unique=True,
                        verbose_name="page",
                    ),
                ),
                ("title_de", models.CharField(blank=True, max_length=200, verbose_name="title (German)")),
                ("body_de", models.TextField(blank=True, verbose_name="text (German)")),
                ("body_de_html", models.TextField(blank=True, editable=False)),
                ("title_en", models.CharField(blank=True, max_length=200, verbose_name="title (English)")),
                ("body_en", models.TextField(blank=True, verbose_name="text (English)")),
                ("body_en_html", models.TextField(blank=True, editable=False)),
                ("updated_at", models.DateTimeField(blank=True, editable=False, null=True, verbose_name="last changed")),
            ],
            options={
                "verbose_name": "site page",
                "verbose_name_plural": "site pages",
                "ordering": ["id"],
            },
        ),
        migrations.RunPython(create_pages, migrations.RunPython.noop),
    ]
