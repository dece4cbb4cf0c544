"""``manage.py import_members members.csv``: create or update members from the office's list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from deliberation.imports import ImportFileError, members_import_csv


class Command(BaseCommand):
    help = (
        "Create or update members from a CSV file (UTF-8, ';' or ','; header row with email, "
        "display_name and optionally full_name, district, language, kind, affiliation). "
        "Display name and language are taken for new members only; afterwards they are the "
        "member's own. New members are mailed a link to set their password unless --no-invite "
        "is given. "
        "Exits with status 1 if any row failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV file")
        parser.add_argument(
            "--no-invite",
            action="store_true",
            help="do not mail new members (they can ask for a link on the login page later)",
        )

    def handle(self, *args: Any, file: Path, no_invite: bool, **options: Any) -> None:
        try:
            with file.open("rb") as stream:
                report = members_import_csv(file=stream, invite=not no_invite)
        except OSError as error:
            message = _("Cannot read %(file)s: %(error)s") % {"file": file, "error": error}
            raise CommandError(message) from None
        except ImportFileError as error:
            raise CommandError(str(error)) from None

        for failure in report.failed:
            self.stderr.write(str(failure))
        for email in report.invitation_failed:
            self.stderr.write(_("invitation to %s could not be sent") % email)
        if report.invited:
            count = len(report.invited)
            self.stdout.write(
                ngettext("%(count)d invitation sent.", "%(count)d invitations sent.", count)
                % {"count": count}
            )
        style = self.style.SUCCESS if report.ok else self.style.ERROR
        self.stdout.write(style(report.summary()))
        if not report.ok:
            raise CommandError(_("Not everything was imported: see the lines above."))
