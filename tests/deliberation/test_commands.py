"""The management commands: import_members (thin, over the import service) and seed_demo."""

from __future__ import annotations

import io
import sys
import types
from importlib.machinery import ModuleSpec

import pytest
from django.contrib.auth import authenticate as _authenticate
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import translation

from deliberation import demo
from deliberation.management.commands import seed_demo
from deliberation.models import Member


def authenticate(**credentials):
    """Log in as the login form does: with its request (the lockout backend needs one)."""
    from django.test import RequestFactory

    return _authenticate(RequestFactory().post("/anmelden/"), **credentials)


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    """seed_demo hashes and checks six passwords per run; the real hasher takes ~0.3 s each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def command(*args, **kwargs) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


# --- import_members -----------------------------------------------------------------------


def test_import_members_prints_a_summary_and_invites_new_members(
    tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / "members.csv"
    path.write_text("email;display_name\nanna@example.org;Anna\n", encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        out, err = command("import_members", str(path))
    # (the "invitation(s) sent" line needs real commits; the import service's tests count them)
    assert "1 created, 0 updated, 0 unchanged, 0 failed." in out
    assert err == ""
    assert len(mail.outbox) == 1


def test_import_members_fails_with_the_bad_lines_on_stderr(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("email,display_name\nanna@example.org,Anna\nbroken,B\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_members", str(path), "--no-invite", stdout=out, stderr=err)
    assert raised.value.returncode == 1
    assert "line 3 (broken): 'broken' is not a valid e-mail address." in err.getvalue()
    assert "1 created, 0 updated, 0 unchanged, 1 failed." in out.getvalue()
    assert Member.objects.filter(email="anna@example.org").exists()
    assert mail.outbox == []


def test_import_members_refuses_a_missing_file_with_a_message(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        command("import_members", str(tmp_path / "nope.csv"))


def test_import_members_refuses_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes("email;display_name\nä@example.org;Ä\n".encode("cp1252"))
    with pytest.raises(CommandError, match="not UTF-8"):
        command("import_members", str(path))


# --- seed_demo ----------------------------------------------------------------------------


@pytest.fixture
def no_app_hooks(monkeypatch):
    """Keep other apps' demo content out of the tests of the core's demo logins."""
    monkeypatch.setattr(seed_demo, "DEMO_APPS", ())


def test_seed_demo_creates_a_login_for_every_role_and_prints_them(no_app_hooks):
    out, _err = command("seed_demo")
    assert Member.objects.count() == len(demo.DEMO_PEOPLE)
    assert demo.DEMO_PASSWORD in out
    for email in demo.DEMO_EMAILS.values():
        assert email in out
        member = authenticate(username=email, password=demo.DEMO_PASSWORD)
        assert member is not None, email

    guest = demo.demo_member(demo.GUEST)
    assert (guest.is_guest, guest.badge) == (True, "Initiative")
    assert demo.demo_member(demo.COMMITTEE).is_committee
    staff = demo.demo_member(demo.STAFF)
    assert staff.is_staff and staff.is_superuser
    for role in (demo.MEMBER, demo.MEMBER_2, demo.MODERATOR):
        member = demo.demo_member(role)
        assert not (member.is_staff or member.is_committee or member.is_guest), role
    assert mail.outbox == []


def test_seed_demo_run_twice_creates_nothing_new_and_prints_the_logins_again(no_app_hooks):
    command("seed_demo")
    ids = sorted(Member.objects.values_list("pk", flat=True))
    out, _err = command("seed_demo")
    assert sorted(Member.objects.values_list("pk", flat=True)) == ids
    assert "(created)" not in out
    assert out.count("(exists)") == len(demo.DEMO_PEOPLE)
    assert demo.DEMO_EMAILS[demo.STAFF] in out


def test_seed_demo_puts_a_changed_demo_login_back_into_its_role(no_app_hooks):
    command("seed_demo")
    kim = demo.demo_member(demo.COMMITTEE)
    kim.set_password("something-else-entirely")
    kim.save()
    kim.groups.clear()
    command("seed_demo")
    assert demo.demo_member(demo.COMMITTEE).is_committee
    assert authenticate(username=kim.email, password=demo.DEMO_PASSWORD) is not None


def test_seed_demo_calls_each_apps_demo_hook_after_the_members_exist(monkeypatch):
    calls: list[tuple[str, bool]] = []

    def fake_hook(label: str) -> types.ModuleType:
        module = types.ModuleType(f"{label}.demo")
        module.__spec__ = ModuleSpec(f"{label}.demo", None)

        def seed(*, stdout):
            exists = Member.objects.filter(email=demo.DEMO_EMAILS[demo.MODERATOR]).exists()
            calls.append((label, exists))
            stdout.write(f"{label} seeded")

        module.seed = seed
        return module

    monkeypatch.setattr(seed_demo, "DEMO_APPS", ("forums", "moderation", "consultations"))
    monkeypatch.setitem(sys.modules, "forums.demo", fake_hook("forums"))
    monkeypatch.setitem(sys.modules, "consultations.demo", fake_hook("consultations"))
    monkeypatch.setattr(
        seed_demo.importlib.util,
        "find_spec",
        lambda name: sys.modules[name].__spec__ if name != "moderation.demo" else None,
    )
    out, _err = command("seed_demo")
    assert calls == [("forums", True), ("consultations", True)]
    assert "forums seeded" in out
    assert "consultations seeded" in out


def test_seed_demo_refuses_to_run_in_production(settings, no_app_hooks):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refuses to run in production"):
        command("seed_demo")
    assert not Member.objects.exists()


def test_seed_demo_says_which_demo_login_has_the_english_interface(no_app_hooks):
    out, _err = command("seed_demo")
    lines = {line.split()[0]: line for line in out.splitlines() if "@demo.example.org" in line}
    assert lines[demo.MEMBER_2].endswith("interface in English")  # Ben
    assert lines[demo.MEMBER].endswith("interface in German")  # Anna
    assert sum(line.endswith("interface in English") for line in lines.values()) == 1


def test_seed_demo_fills_the_footers_pages_with_marked_demo_text(no_app_hooks, client):
    command("seed_demo")
    body = client.get("/barrierefreiheit/").content.decode()
    assert "Demo-Text." in body and "Schlichtungsverfahren" in body
