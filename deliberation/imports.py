"""Import members from the state office's CSV list (``manage.py import_members`` is a thin shell).

The file has a header row naming its columns: ``email`` and ``display_name`` are required;
``full_name``, ``district`` (name or short name), ``language`` (de/en), ``kind`` (member/guest)
and ``affiliation`` (initiative/fraktion/expert) are optional. UTF-8 with or without BOM; the
delimiter is ``;`` or ``,``, whichever the header uses.

Rules (each chosen so that a re-run of the same or a newer list is safe):

* A member is matched by e-mail address, case-insensitively; a match is updated, never duplicated.
* The display name and the language are the member's own (their profile): the list sets them for
  new members only, so a re-run never undoes a name or language a member chose. The office data
  (full name, district association, kind, badge) is updated from the list.
* An empty optional cell leaves the stored value alone (a partial list never wipes data); new
  members get language ``de`` and kind ``member`` when those cells are empty.
* Each row is written in its own transaction: a bad row changes nothing and is reported with its
  line number and reason; the other rows still import.
* Kind and badge may be given by value (``guest``, ``fraktion``) or by label in German or English.
* Only newly created members are invited (after their row commits); existing members are not
  mailed again; anyone can ask for a fresh link on the login page.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from deliberation import services
from deliberation.forms import DISPLAY_NAME_MIN
from deliberation.models import District, Member

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("email", "display_name")
#: Columns only a new member takes from the list: afterwards the member's profile decides them.
MEMBERS_OWN = frozenset({"display_name", "language"})
OPTIONAL_COLUMNS = ("full_name", "district", "language", "kind", "affiliation")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, header); no row was imported."""


class RowError(ValueError):
    """One row cannot be imported; the message says why, in words for the office."""


@dataclass
class RowFailure:
    line: int
    email: str
    reason: str

    def __str__(self) -> str:
        where = _("line %(line)d") % {"line": self.line}
        who = f" ({self.email})" if self.email else ""
        return f"{where}{who}: {self.reason}"


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[RowFailure] = field(default_factory=list)
    invited: list[str] = field(default_factory=list)
    invitation_failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.invitation_failed

    def summary(self) -> str:
        return _(
            "%(created)d created, %(updated)d updated, %(unchanged)d unchanged, %(failed)d failed."
        ) % {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "failed": len(self.failed),
        }


def members_import_csv(*, file: IO[bytes], invite: bool = True) -> ImportReport:
    """Create or update members from a CSV file (see the module docstring for the rules).

    Call outside any transaction: each row commits on its own, and invitations leave only after
    their row has committed. Raises :class:`ImportFileError` if the file cannot be read at all.
    """
    text = _decode(file.read())
    report = ImportReport()
    rows = _rows(text)
    _header_line, header = next(rows, (0, None))
    if header is None:
        raise ImportFileError(_("The file is empty."))
    columns = _columns(header)
    districts = _DistrictLookup()
    seen: dict[str, int] = {}  # e-mail address -> line it first appeared on

    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, also ";;;;" left by spreadsheets
        email = ""
        try:
            if len(cells) != len(columns):
                raise RowError(
                    _("the row has %(cells)d cells, the header has %(columns)d.")
                    % {"cells": len(cells), "columns": len(columns)}
                )
            raw = {name: value.strip() for name, value in zip(columns, cells, strict=True)}
            email = raw["email"]
            values = _clean_row(raw, districts=districts)
            email = values["email"]
            if email in seen:
                raise RowError(
                    _("this e-mail address already appears on line %(line)d.")
                    % {"line": seen[email]}
                )
            seen[email] = line
            _import_row(values, report=report, invite=invite)
        except RowError as error:
            report.failed.append(RowFailure(line=line, email=email, reason=str(error)))
        except DatabaseError as error:
            logger.warning("import_members: line %d not saved: %s", line, error)
            report.failed.append(
                RowFailure(line=line, email=email, reason=_("could not be saved: %s") % error)
            )
    return report


# --- reading ---------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportFileError(
            _("The file is not UTF-8 (line %(line)d). Save it as CSV UTF-8 and try again.")
            % {"line": line}
        ) from None


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, cells) for every row, with the delimiter of the header."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous = 0
    for cells in reader:
        yield previous + 1, cells
        previous = reader.line_num


def _columns(header: list[str]) -> list[str]:
    columns = [name.strip().lower().replace(" ", "_").replace("-", "_") for name in header]
    unknown = [name for name in columns if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    twice = sorted({name for name in columns if columns.count(name) > 1})
    problems = []
    if missing:
        problems.append(_("missing column(s): %s") % ", ".join(missing))
    if unknown:
        problems.append(_("unknown column(s): %s") % ", ".join(unknown))
    if twice:
        problems.append(_("column(s) given twice: %s") % ", ".join(twice))
    if problems:
        allowed = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
        raise ImportFileError(
            _("The header row cannot be used (%(problems)s). Allowed columns: %(allowed)s.")
            % {"problems": "; ".join(problems), "allowed": allowed}
        )
    return columns


class _DistrictLookup:
    """Districts by name or short name, case-insensitively, read once per import."""

    def __init__(self) -> None:
        self.by_key: dict[str, District] = {}
        for district in District.objects.all():
            self.by_key[district.name.casefold()] = district
            self.by_key[district.slug.casefold()] = district

    def get(self, value: str) -> District:
        try:
            return self.by_key[value.casefold()]
        except KeyError:
            raise RowError(_("unknown district association %r.") % value) from None


def _clean_row(raw: dict[str, str], *, districts: _DistrictLookup) -> dict[str, Any]:
    """Validate one row; return only the fields it gives (empty optional cells are left out)."""
    if any("\x00" in value for value in raw.values()):
        raise RowError(_("the row contains a NUL character."))
    email = raw["email"].lower()
    if not email:
        raise RowError(_("the e-mail address is missing."))
    try:
        validate_email(email)
    except ValidationError:
        raise RowError(_("%r is not a valid e-mail address.") % raw["email"]) from None
    if len(email) > Member._meta.get_field("email").max_length:
        raise RowError(_("the e-mail address is too long."))

    display_name = " ".join(raw["display_name"].split())
    if not display_name:
        raise RowError(_("the display name is missing."))
    max_name = Member._meta.get_field("display_name").max_length
    if not DISPLAY_NAME_MIN <= len(display_name) <= max_name:
        raise RowError(
            _("the display name must have %(min)d to %(max)d characters.")
            % {"min": DISPLAY_NAME_MIN, "max": max_name}
        )
    values: dict[str, Any] = {"email": email, "display_name": display_name}

    if raw.get("full_name"):
        full_name = " ".join(raw["full_name"].split())
        if len(full_name) > Member._meta.get_field("full_name").max_length:
            raise RowError(_("the full name is too long."))
        values["full_name"] = full_name
    if raw.get("district"):
        values["district"] = districts.get(raw["district"])
    if raw.get("language"):
        language = raw["language"].lower()
        if language not in {code for code, _name in settings.LANGUAGES}:
            raise RowError(
                _("unknown language %(value)r (use one of: %(codes)s).")
                % {"value": raw["language"], "codes": ", ".join(c for c, _n in settings.LANGUAGES)}
            )
        values["language"] = language
    if raw.get("kind"):
        values["kind"] = _choice(
            raw["kind"], Member.Kind, unknown=_("unknown kind %(value)r (use one of: %(codes)s).")
        )
    if raw.get("affiliation"):
        values["affiliation"] = _choice(
            raw["affiliation"],
            Member.Affiliation,
            unknown=_("unknown badge %(value)r (use one of: %(codes)s)."),
        )
    return values


def _choice(value: str, choices: Any, *, unknown: str) -> str:
    """Accept a choice by its value or its label in any site language, case-insensitively."""
    known: dict[str, str] = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for code, label in choices.choices:
                if code:
                    known[code.casefold()] = code
                    known[str(label).casefold()] = code
    try:
        return known[value.casefold()]
    except KeyError:
        codes = ", ".join(code for code, _label in choices.choices if code)
        raise RowError(unknown % {"value": value, "codes": codes}) from None


# --- writing ---------------------------------------------------------------------------------


def _import_row(values: dict[str, Any], *, report: ImportReport, invite: bool) -> None:
    email = values["email"]
    try:
        with transaction.atomic():
            member = (
                Member.objects.select_for_update()
                .filter(email__iexact=email)
                .order_by("pk")
                .first()
            )
            if member is None:
                _check_display_name_free(values["display_name"], member=None)
                member = services.member_create(invite=False, **values)
                report.created.append(email)
                if invite:
                    transaction.on_commit(lambda: _invite(member, report=report))
                return
            changes = {
                name: value
                for name, value in values.items()
                if name != "email" and name not in MEMBERS_OWN
            }
            changed = services.member_update(member=member, changes=changes)
    except IntegrityError:
        # Another writer took the display name or the address between our check and our save.
        raise RowError(_("the display name or the e-mail address was just taken.")) from None
    (report.updated if changed else report.unchanged).append(email)


def _check_display_name_free(display_name: str, *, member: Member | None) -> None:
    others = Member.objects.filter(display_name__iexact=display_name)
    if member is not None:
        others = others.filter(~Q(pk=member.pk))
    if others.exists():
        raise RowError(_("the display name %r is already taken by another member.") % display_name)


def _invite(member: Member, *, report: ImportReport) -> None:
    try:
        services.member_send_invitation(member=member)
    except Exception:
        # One unreachable mail server must not stop the import: report it and carry on.
        logger.exception("import_members: invitation to %s failed", member.email)
        report.invitation_failed.append(member.email)
    else:
        report.invited.append(member.email)
