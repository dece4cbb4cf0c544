"""The page gallery: every page of the platform, as a visitor, a member and a moderator sees it,
in German and English, at 360 and 1280 px, rendered to PNG by one Chromium.

``make gallery`` (``python -m tests.e2e.gallery``) builds a fresh demo database (migrate,
``seed_demo``) under ``var/gallery/``, starts daphne on it (DEBUG off, so the error pages are
ours), renders every page and writes ``var/gallery/index.html``, a grid of all screenshots. It
exits non-zero when a page answered with an unexpected status or raised a browser error.

The page list is :func:`gallery_shots`: add a page there (a :class:`Shot` with its path, the
persona who opens it and the status expected). A page of an app that is not there yet is left out
by :func:`_exists`. ``tests/e2e/test_gallery.py`` renders each page once in the test suite.

One browser, one context per persona (they run in parallel); each context logs in through the
login form, renders its pages in German, then switches language with the header's switch (a
member's choice is saved, which is why a persona's two languages run one after the other).
"""

from __future__ import annotations

import asyncio
import html
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: How Chromium starts, for the gallery and every browser test (tests/e2e/conftest.py).
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LANGUAGES = ("de", "en")
WIDTHS = (360, 1280)
HEIGHTS = {360: 740, 1280: 900}
#: Who opens a page: a visitor (not logged in) or a demo login's role (deliberation.demo).
VISITOR, MEMBER, MODERATOR, STAFF = "visitor", "member", "moderator", "staff"
PERSONAS = (VISITOR, MEMBER, MODERATOR, STAFF)
TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class Shot:
    """One page of the gallery: ``path`` opened by ``persona``, answering ``status``."""

    name: str
    path: str
    persona: str = VISITOR
    status: int = 200


@dataclass
class Result:
    shot: Shot
    language: str
    status: int | None = None
    files: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        found = list(self.errors)
        if self.status != self.shot.status:
            found.append(f"status {self.status}, expected {self.shot.status}")
        return found


def _exists(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path.split("?", 1)[0])
    except Resolver404:
        return False
    return True


def gallery_shots() -> list[Shot]:
    """Every page worth a look, found in the demo database (call after ``seed_demo``).

    Reads the database: call it where Django may query (not inside a running event loop).
    """
    from django.urls import reverse

    from deliberation.demo import MEMBER as DEMO_MEMBER
    from deliberation.demo import demo_member
    from forums.models import Forum, Post, Thread

    shots = [
        Shot("home", "/"),
        Shot("login", reverse("login")),
        Shot("password-reset", reverse("password_reset")),
        Shot("forums", reverse("forums:index")),
        *(Shot(f"page-{slug}", f"/{slug}/") for slug in ("impressum", "datenschutz")),
        *(Shot(f"page-{slug}", f"/{slug}/") for slug in ("barrierefreiheit", "kontakt")),
        Shot("error-404", "/diese-seite-gibt-es-nicht/", status=404),
        Shot("dashboard", "/", MEMBER),
        Shot("forums", reverse("forums:index"), MEMBER),
        Shot("notifications", reverse("notifications"), MEMBER),
        Shot("profile", reverse("profile"), MEMBER),
        Shot("error-403", reverse("moderation:staff_queue"), MEMBER, status=403),
        Shot("dashboard", "/", MODERATOR),
    ]
    forum = Forum.objects.filter(slug="mieten").first() or Forum.objects.order_by("pk").first()
    if forum is not None:
        thread = Thread.objects.filter(forum=forum).order_by("pk").first()
        shots += [
            Shot("forum", forum.get_absolute_url(), MEMBER),
            Shot("search", reverse("forums:search") + "?q=Miete", MEMBER),
            Shot("new-thread", reverse("forums:thread_create", args=[forum.slug]), MEMBER),
            Shot("moderation-log", reverse("moderation:log", args=[forum.slug]), MEMBER),
            Shot("queue", reverse("moderation:queue", args=[forum.slug]), MODERATOR),
        ]
        if thread is not None:
            shots += [
                Shot("thread", thread.get_absolute_url()),
                Shot("thread", thread.get_absolute_url(), MEMBER),
                Shot("thread", thread.get_absolute_url(), MODERATOR),
                Shot(
                    "thread-moderation", reverse("moderation:thread", args=[thread.pk]), MODERATOR
                ),
            ]
            anna = demo_member(DEMO_MEMBER)
            other = (
                Post.objects.filter(thread__forum=forum, state="published", deleted_at=None)
                .exclude(author=anna)
                .exclude(moderation_cases__status="open")
                .order_by("pk")
                .first()
            )
            if other is not None:
                shots.append(Shot("report", reverse("moderation:report", args=[other.pk]), MEMBER))
        reported = (
            Post.objects.filter(moderation_cases__status="open", thread__forum=forum)
            .order_by("pk")
            .first()
        )
        if reported is not None:
            shots.append(Shot("case", reverse("moderation:post", args=[reported.pk]), MODERATOR))
    shots += _conference_shots()
    shots += _decision_shots()
    # Pages other parts of the platform add; each appears once its address exists.
    shots += [
        Shot("components", "/komponenten/", STAFF),
        Shot("staff-queue", "/moderation/", STAFF),
    ]
    return [shot for shot in shots if shot.status == 404 or _exists(shot.path)]


def _conference_shots() -> list[Shot]:
    """The base conference of the demo: as a registered member, its chair (the demo moderator)
    and staff (organiser), with the registration form, the organisers' page and the tracker."""
    from django.urls import reverse

    from consultations.conferences.models import Commitment, Conference

    shots = [Shot("conferences", reverse("conferences:index"), MEMBER)]
    conference = Conference.objects.order_by("pk").first()
    if conference is not None:
        url = conference.get_absolute_url()
        slug = conference.slug
        shots += [
            Shot("conference", url, MEMBER),
            Shot("conference", url, MODERATOR),
            Shot("conference", url, STAFF),
            Shot(
                "conference-registration", reverse("conferences:registration", args=[slug]), MEMBER
            ),
            Shot(
                "conference-registrations", reverse("conferences:registrations", args=[slug]), STAFF
            ),
            Shot(
                "conference-agenda-new",
                reverse("conferences:agenda_item_create", args=[slug]),
                STAFF,
            ),
        ]
    shots.append(Shot("tracker", reverse("conferences:tracker"), MEMBER))
    commitment = Commitment.objects.order_by("pk").first()
    if commitment is not None:
        shots.append(
            Shot("commitment", reverse("conferences:commitment", args=[commitment.pk]), STAFF)
        )
    return shots


def _decision_shots() -> list[Shot]:
    """The decisions calendar of the demo: list and month as a member, a decision with its
    discussion link and the decided one, and the organisers' forms (the demo moderator)."""
    from django.urls import reverse

    from consultations.decisions.models import Decision

    shots = [
        Shot("decisions", reverse("decisions:index"), MEMBER),
        Shot("decisions-month", reverse("decisions:month_now"), MEMBER),
    ]
    linked = Decision.objects.filter(discussion_id__isnull=False).order_by("date").first()
    decided = Decision.objects.filter(status=Decision.Status.DECIDED).first()
    for decision in (linked, decided):
        if decision is not None:
            shots.append(Shot("decision", decision.get_absolute_url(), MEMBER))
    if linked is not None:
        shots += [
            Shot("decision", linked.get_absolute_url(), MODERATOR),
            Shot("decision-edit", reverse("decisions:edit", args=[linked.pk]), MODERATOR),
        ]
    shots.append(Shot("decision-new", reverse("decisions:create"), STAFF))
    return shots


def file_name(shot: Shot, language: str, width: int) -> str:
    return f"{shot.persona}-{shot.name}-{language}-{width}.png"


async def _login(page: Any, email: str, password: str) -> None:
    await page.goto("/anmelden/")
    await page.fill("input[name=username]", email)
    await page.fill("input[name=password]", password)
    async with page.expect_navigation():
        await page.click("main form button[type=submit]")
    if "/anmelden/" in page.url:
        raise RuntimeError(f"gallery: login of {email} failed")


async def _switch_language(page: Any, language: str) -> None:
    await page.goto("/")
    if await page.get_attribute("html", "lang") == language:
        return
    if await page.locator("[data-menu-button]").is_visible():
        await page.click("[data-menu-button]")
    async with page.expect_navigation():
        await page.click(f".lang-switch button[value={language}]")


async def _render_persona(
    browser: Any,
    *,
    base_url: str,
    persona: str,
    email: str | None,
    password: str,
    shots: Sequence[Shot],
    languages: Sequence[str],
    widths: Sequence[int],
    out_dir: Path | None,
) -> list[Result]:
    context = await browser.new_context(
        base_url=base_url,
        locale="de-DE",
        viewport={"width": max(widths), "height": HEIGHTS.get(max(widths), 900)},
    )
    context.set_default_timeout(TIMEOUT_MS)
    current: list[Result] = []
    context.on("weberror", lambda error: current and current[-1].errors.append(f"{error.error}"))

    def on_console(message: Any) -> None:
        if not current or message.type != "error":
            return
        if "Failed to load resource" in message.text and current[-1].shot.status != 200:
            return  # the browser's own note on an error page's expected status
        current[-1].errors.append(f"console: {message.text}")

    context.on("console", on_console)
    results: list[Result] = []
    try:
        page = await context.new_page()
        if email is not None:
            await _login(page, email, password)
        for language in languages:
            await _switch_language(page, language)
            for shot in shots:
                result = Result(shot=shot, language=language)
                current.append(result)
                results.append(result)
                for width in sorted(widths, reverse=True):
                    await page.set_viewport_size(
                        {"width": width, "height": HEIGHTS.get(width, 900)}
                    )
                    if width == max(widths):
                        response = await page.goto(shot.path, wait_until="load")
                        result.status = response.status if response is not None else None
                    if out_dir is not None:
                        target = out_dir / file_name(shot, language, width)
                        await page.screenshot(path=str(target), full_page=True)
                        result.files.append(target)
    finally:
        await context.close()
    return results


async def render_gallery(
    browser: Any,
    *,
    base_url: str,
    shots: Sequence[Shot],
    emails: dict[str, str],
    password: str,
    languages: Sequence[str] = LANGUAGES,
    widths: Sequence[int] = WIDTHS,
    out_dir: Path | None = None,
) -> list[Result]:
    """Open every shot in every language (and, with ``out_dir``, save a PNG per width).

    One browser context per persona, all at once. ``emails`` maps a persona to its login.
    """
    by_persona: dict[str, list[Shot]] = {}
    for shot in shots:
        by_persona.setdefault(shot.persona, []).append(shot)
    batches = await asyncio.gather(
        *(
            _render_persona(
                browser,
                base_url=base_url,
                persona=persona,
                email=None if persona == VISITOR else emails[persona],
                password=password,
                shots=persona_shots,
                languages=languages,
                widths=widths,
                out_dir=out_dir,
            )
            for persona, persona_shots in by_persona.items()
        )
    )
    return [result for batch in batches for result in batch]


async def render_with_new_browser(**kwargs: Any) -> list[Result]:
    """:func:`render_gallery` in a Chromium of its own (async Playwright, its own event loop)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            return await render_gallery(browser, **kwargs)
        finally:
            await browser.close()


def demo_logins() -> dict[str, str]:
    from deliberation.demo import DEMO_EMAILS

    return {persona: DEMO_EMAILS[persona] for persona in PERSONAS if persona in DEMO_EMAILS}


def write_index(results: Iterable[Result], out_dir: Path) -> Path:
    """``index.html``: one row per page and persona, a column per language and width."""
    rows = []
    for result in results:
        shot = result.shot
        problems = "; ".join(result.problems)
        figures = "".join(
            f'<figure><a href="{html.escape(path.name)}"><img loading="lazy" '
            f'src="{html.escape(path.name)}" alt="{html.escape(path.stem)}"></a>'
            f"<figcaption>{html.escape(path.stem.rsplit('-', 1)[-1])} px</figcaption></figure>"
            for path in result.files
        )
        rows.append(
            f"<section><h2>{html.escape(shot.name)} <small>{html.escape(shot.persona)}, "
            f"{result.language}, <code>{html.escape(shot.path)}</code>, "
            f"{result.status}</small></h2>"
            + (f'<p class="problem">{html.escape(problems)}</p>' if problems else "")
            + f'<div class="shots">{figures}</div></section>'
        )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Mitmachen: page gallery</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 1rem; color: #1a1a1a; }}
section {{ border-top: 1px solid #c7cad1; padding: .5rem 0 1rem; }}
h2 {{ font-size: 1.05rem; margin: .25rem 0 .5rem; }} small {{ font-weight: 400; color: #4d4d4d; }}
.shots {{ display: flex; gap: 1rem; align-items: flex-start; }}
figure {{ margin: 0; }} figcaption {{ color: #4d4d4d; font-size: .85rem; }}
img {{ border: 1px solid #c7cad1; max-height: 480px; width: auto; display: block; }}
.problem {{ color: #a4161a; font-weight: 600; }}
</style></head><body>
<h1>Mitmachen: page gallery</h1>
<p>{len(rows)} pages and languages; generated {time.strftime("%Y-%m-%d %H:%M")}
by <code>make gallery</code>. Click a picture for its full size.</p>
{"".join(rows)}
</body></html>
"""
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _run_in_thread(function: Callable[[], Any]) -> Any:
    """Run ``function`` in a thread of its own (Playwright's sync API may hold this one's loop)."""
    import threading

    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:  # handed to the caller
            outcome["error"] = error

    thread = threading.Thread(target=target, name="gallery")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def run(
    *,
    base_url: str,
    shots: Sequence[Shot],
    out_dir: Path | None,
    languages: Sequence[str] = LANGUAGES,
    widths: Sequence[int] = WIDTHS,
) -> list[Result]:
    """Render ``shots`` against ``base_url`` with the demo logins (blocking; any thread)."""
    from deliberation.demo import DEMO_PASSWORD

    emails = demo_logins()
    return _run_in_thread(
        lambda: asyncio.run(
            render_with_new_browser(
                base_url=base_url,
                shots=shots,
                emails=emails,
                password=DEMO_PASSWORD,
                languages=languages,
                widths=widths,
                out_dir=out_dir,
            )
        )
    )


def main() -> int:
    """``make gallery``: a fresh demo database, a daphne on it, every page to var/gallery/."""
    out_dir = ROOT / "var" / "gallery"
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.png"):
        old.unlink()
    database = out_dir / "gallery.sqlite3"
    database.unlink(missing_ok=True)
    database_url = f"sqlite:///{database}"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deliberation.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command

    from tests.servers import daphne_server

    started = time.monotonic()
    with open(os.devnull, "w") as quiet:
        call_command("migrate", verbosity=0, stdout=quiet)
        call_command("seed_demo", stdout=quiet)
    shots = gallery_shots()
    server = daphne_server(
        log_dir=out_dir, database_url=database_url, extra_env={"DJANGO_DEBUG": "0"}
    )
    server.start()
    try:
        results = run(base_url=server.url, shots=shots, out_dir=out_dir)
    finally:
        server.stop()
    index = write_index(results, out_dir)
    pictures = sum(len(result.files) for result in results)
    print(f"gallery: {pictures} screenshots in {time.monotonic() - started:.0f} s: {index}")
    failed = [result for result in results if result.problems]
    for result in failed:
        print(f"  {result.shot.persona} {result.language} {result.shot.path}: ", end="")
        print("; ".join(result.problems))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
