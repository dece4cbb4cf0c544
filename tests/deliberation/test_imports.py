"""Importing members from the state office's CSV list."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.utils import translation

from deliberation.imports import ImportFileError, members_import_csv
from deliberation.models import District, Member

pytestmark = pytest.mark.django_db

HEADER = "email;display_name;full_name;district;language;kind;affiliation\n"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Import ``text`` (str or bytes) and run the invitations that wait for each row's commit."""

    def _run(text: str | bytes, **kwargs):
        data = text.encode() if isinstance(text, str) else text
        with django_capture_on_commit_callbacks(execute=True):
            return members_import_csv(file=io.BytesIO(data), **kwargs)

    return _run


def reasons(report) -> dict[int, str]:
    return {failure.line: failure.reason for failure in report.failed}


def test_good_rows_create_members_with_every_field(run):
    report = run(
        HEADER
        + "anna@example.org;Anna;Anna Schulz;Neukölln;en;member;\n"
        + "ini@example.org;Mieteninitiative;;;;guest;initiative\n"
    )
    assert report.created == ["anna@example.org", "ini@example.org"]
    assert report.failed == []
    anna = Member.objects.get(email="anna@example.org")
    assert (anna.display_name, anna.full_name, anna.district.slug, anna.language, anna.kind) == (
        "Anna",
        "Anna Schulz",
        "neukolln",
        "en",
        "member",
    )
    assert not anna.has_usable_password()
    guest = Member.objects.get(email="ini@example.org")
    assert (guest.kind, guest.badge, guest.language, guest.district) == (
        "guest",
        "Initiative",
        "de",
        None,
    )


def test_new_members_are_invited_in_their_language_and_existing_ones_are_not(run, alice):
    report = run(
        "email,display_name,language\nanna@example.org,Anna,en\nalice@example.org,Alice,de\n"
    )
    assert report.invited == ["anna@example.org"]
    assert [message.to for message in mail.outbox] == [["anna@example.org"]]
    assert mail.outbox[0].subject == "Welcome to Mitmachen"
    assert "/passwort/setzen/" in mail.outbox[0].body


def test_no_invite_sends_no_mail(run):
    report = run("email,display_name\nanna@example.org,Anna\n", invite=False)
    assert report.created == ["anna@example.org"]
    assert mail.outbox == []


def test_a_comma_file_with_a_byte_order_mark_and_windows_line_ends_is_read(run):
    text = "\ufeffEmail,Display Name,District\r\nanna@example.org,Anna,friedrichshain-kreuzberg\r\n"
    report = run(text.encode("utf-8"))
    assert report.created == ["anna@example.org"]
    assert Member.objects.get(email="anna@example.org").district.name == "Friedrichshain-Kreuzberg"


def test_an_existing_address_is_updated_not_duplicated_whatever_its_case(run, alice):
    report = run(HEADER + "ALICE@Example.org;Alice S.;Alice Smith;Mitte;en;guest;\n")
    assert report.updated == ["alice@example.org"]
    assert Member.objects.filter(email__iexact="alice@example.org").count() == 1
    alice.refresh_from_db()
    # The office's data is updated; her display name and language are hers (her profile).
    assert (alice.full_name, alice.district.slug, alice.kind) == ("Alice Smith", "mitte", "guest")
    assert (alice.display_name, alice.language) == ("Alice", "de")


def test_a_rerun_never_undoes_the_name_and_language_a_member_chose(run, alice):
    from deliberation import services

    run(HEADER + "anna@example.org;Anna;Anna Schulz;Pankow;de;;\n")
    anna = Member.objects.get(email="anna@example.org")
    services.member_update_profile(
        member=anna, display_name="Anna aus Pankow", language="en", district=anna.district
    )
    report = run(HEADER + "anna@example.org;Anna;Anna Schulz;Pankow;de;;\n")
    assert report.unchanged == ["anna@example.org"]
    anna.refresh_from_db()
    assert (anna.display_name, anna.language) == ("Anna aus Pankow", "en")


def test_empty_optional_cells_leave_stored_values_alone(run, alice):
    alice.full_name = "Alice Smith"
    alice.save(update_fields=["full_name"])
    district = alice.district
    report = run(HEADER + "alice@example.org;Alice;;;;;\n")
    assert report.unchanged == ["alice@example.org"]
    alice.refresh_from_db()
    assert (alice.full_name, alice.district, alice.language) == ("Alice Smith", district, "de")


def test_bad_rows_are_reported_by_line_and_the_rest_still_imports(run, alice, bob):
    report = run(
        HEADER
        + "ok1@example.org;First;;;;;\n"  # line 2
        + "not-an-address;Broken;;;;;\n"  # 3
        + "noname@example.org;;;;;;\n"  # 4
        + "taken@example.org;BOB;;;;;\n"  # 5: display name of bob, other case
        + "district@example.org;Dist;;Atlantis;;;\n"  # 6
        + "lang@example.org;Lang;;;fr;;\n"  # 7
        + "kind@example.org;Kind;;;;admin;\n"  # 8
        + "badge@example.org;Badge;;;;guest;lobby\n"  # 9
        + "OK1@example.org;First again;;;;;\n"  # 10: repeats line 2
        + "short@example.org;Short\n"  # 11: too few cells
        + "\n"  # 12: blank, skipped
        + "ok2@example.org;Second;;;;;\n"  # 13
    )
    assert report.created == ["ok1@example.org", "ok2@example.org"]
    found = reasons(report)
    assert sorted(found) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "not a valid e-mail address" in found[3]
    assert "display name is missing" in found[4]
    assert "already taken" in found[5]
    assert "unknown district association 'Atlantis'" in found[6]
    assert "unknown language 'fr'" in found[7]
    assert "unknown kind 'admin'" in found[8]
    assert "unknown badge 'lobby'" in found[9]
    assert "already appears on line 2" in found[10]
    assert "2 cells, the header has 7" in found[11]
    assert str(report.failed[0]) == f"line 3 (not-an-address): {found[3]}"
    assert report.summary() == "2 created, 0 updated, 0 unchanged, 9 failed."
    assert not report.ok
    # nothing of a failed row was written, and the first of a repeated address is kept
    assert Member.objects.count() == 4  # alice, bob, ok1, ok2
    assert Member.objects.get(email="ok1@example.org").display_name == "First"


def test_a_failed_update_changes_nothing_of_that_member(run, alice):
    report = run(HEADER + "alice@example.org;Alice;Alice Smith;Atlantis;en;;\n")
    assert reasons(report) == {2: "unknown district association 'Atlantis'."}
    alice.refresh_from_db()
    assert (alice.display_name, alice.full_name, alice.language) == ("Alice", "", "de")


def test_a_display_name_of_another_member_in_an_existing_row_is_ignored_not_taken(run, alice, bob):
    report = run(HEADER + "alice@example.org;Bob;Alice Smith;;;;\n")
    assert report.updated == ["alice@example.org"]
    alice.refresh_from_db()
    assert (alice.display_name, alice.full_name) == ("Alice", "Alice Smith")


def test_a_display_name_taken_earlier_in_the_same_file_is_refused(run):
    report = run("email,display_name\na@example.org,Sam\nb@example.org,sam\n")
    assert report.created == ["a@example.org"]
    assert "already taken" in reasons(report)[3]


def test_a_rerun_of_the_same_file_changes_nothing_and_mails_nobody(run):
    text = HEADER + "anna@example.org;Anna;Anna Schulz;Pankow;de;member;\nbad;X;;;;;\n"
    first = run(text)
    assert (len(first.created), len(first.failed)) == (1, 1)
    mail.outbox.clear()
    second = run(text)
    assert (second.created, second.updated, second.unchanged) == ([], [], ["anna@example.org"])
    assert len(second.failed) == 1
    assert Member.objects.filter(email="anna@example.org").count() == 1
    assert mail.outbox == []


def test_line_numbers_count_physical_lines_of_quoted_cells(run):
    report = run('email,display_name,full_name\na@example.org,A1,"two\nlines"\nbad,X,\n')
    assert report.created == ["a@example.org"]
    assert list(reasons(report)) == [4]


def test_a_failing_mail_server_is_reported_and_the_member_still_exists(run, monkeypatch):
    from deliberation import services

    def refuse(**kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(services, "member_send_invitation", refuse)
    report = run("email,display_name\nanna@example.org,Anna\n")
    assert report.created == ["anna@example.org"]
    assert report.invitation_failed == ["anna@example.org"]
    assert not report.ok
    assert Member.objects.filter(email="anna@example.org").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        ("email;display_name\nanna@example.org;Änna\n".encode("latin-1"), "not UTF-8 (line 2)"),
        (b"mail;name\nanna@example.org;Anna\n", "missing column(s): email, display_name"),
        (b"email,display_name,password\n", "unknown column(s): password"),
        (b"email,display_name,email\n", "column(s) given twice: email"),
    ],
)
def test_an_unreadable_file_is_refused_as_a_whole(data, message):
    with pytest.raises(ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        members_import_csv(file=io.BytesIO(data))
    assert not Member.objects.exists()


def test_districts_are_found_by_name_or_short_name_in_any_case(run):
    report = run(
        "email,display_name,district\n"
        "a@example.org,A1,TEMPELHOF-SCHÖNEBERG\n"
        "b@example.org,B1,tempelhof-schoneberg\n"
    )
    assert len(report.created) == 2
    assert set(Member.objects.values_list("district__name", flat=True)) == {
        District.objects.get(slug="tempelhof-schoneberg").name
    }


def test_a_nul_character_is_refused_instead_of_reaching_the_database(run):
    report = run(b"email,display_name\na@example.org,A\x00B\n")
    assert "NUL" in reasons(report)[2]
    assert not Member.objects.exists()


def test_display_names_are_tidied_and_length_checked(run):
    report = run(f"email,display_name\na@example.org,  Anna   Lena \nb@example.org,{'x' * 61}\n")
    assert Member.objects.get(email="a@example.org").display_name == "Anna Lena"
    assert "2 to 60 characters" in reasons(report)[3]


def test_a_guest_row_can_use_the_english_badge_label(run):
    report = run(
        "email,display_name,kind,affiliation\ng@example.org,G1,Guest,Parliamentary group\n"
    )
    assert report.created == ["g@example.org"]
    assert Member.objects.get(email="g@example.org").affiliation == "fraktion"
