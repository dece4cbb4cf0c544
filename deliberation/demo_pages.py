"""Demo texts of the footer's pages, which ``seed_demo`` puts into pages that are still empty.

Plausible, but placeholders: every page says at the top that the association replaces it. The
accessibility statement follows the structure BITV 2.0 asks for (status of compliance, content
that is not accessible, how the statement was made, feedback and contact, the conciliation
procedure).
"""

from __future__ import annotations

from typing import Any

from deliberation import services
from deliberation.models import SitePage

_DEMO_DE = (
    "> **Demo-Text.** Der Landesverband ersetzt diesen Text vor dem Start im "
    "Verwaltungsbereich (Admin → Seiten der Website).\n\n"
)
_DEMO_EN = (
    "> **Demo text.** The state association replaces this text before the launch, in the "
    "admin (Admin → Site pages).\n\n"
)

PAGES: dict[str, dict[str, str]] = {
    SitePage.Slug.IMPRESSUM: {
        "title_de": "Impressum",
        "body_de": _DEMO_DE
        + """## Anbieter

Landesverband Berlin (Demo)
Musterstraße 1
10115 Berlin

Vertreten durch den Landesvorstand, vertretungsberechtigt: Erika Mustermann und Max Beispiel
(Landesvorsitzende).

## Kontakt

Telefon: 030 123 456 78
E-Mail: mitmachen@landesverband.example.org

## Verantwortlich für den Inhalt

Erika Mustermann, Anschrift wie oben.

Beiträge in den Foren geben die Meinung ihrer Verfasserinnen und Verfasser wieder, nicht die des
Landesverbands.
""",
        "title_en": "Legal notice",
        "body_en": _DEMO_EN
        + """## Provider

State association Berlin (demo)
Musterstraße 1
10115 Berlin, Germany

Represented by the state executive; authorised representatives: Erika Mustermann and Max Beispiel
(state chairs).

## Contact

Phone: +49 30 123 456 78
E-mail: mitmachen@landesverband.example.org

## Responsible for the content

Erika Mustermann, address as above.

Posts in the forums are the opinions of their authors, not of the state association.
""",
    },
    SitePage.Slug.PRIVACY: {
        "title_de": "Datenschutzerklärung",
        "body_de": _DEMO_DE
        + """## Wer ist verantwortlich?

Der Landesverband Berlin (Demo), Anschrift im Impressum. Die oder den Datenschutzbeauftragten
erreichst du unter datenschutz@landesverband.example.org.

## Welche Daten verarbeiten wir?

- Deine Mitgliedsdaten, soweit du sie zum Anmelden brauchst: E-Mail-Adresse, Name, Bezirksverband.
- Was du schreibst: Beiträge, Zustimmungen, Meldungen. Politische Meinungen sind besonders
  geschützte Daten (Art. 9 DSGVO); du schreibst unter einem selbst gewählten Anzeigenamen.
- Technisch nötige Cookies für die Anmeldung und die Sprachwahl. Wir setzen keine Tracker und
  laden nichts von fremden Servern.

## Wie lange?

Solange du Mitglied bist. Löschst du dein Konto, werden deine Beiträge anonymisiert.

## Deine Rechte

Auskunft, Berichtigung, Löschung, Einschränkung, Datenübertragbarkeit und Widerspruch. Du kannst
dich bei der Berliner Beauftragten für Datenschutz und Informationsfreiheit beschweren.
""",
        "title_en": "Privacy policy",
        "body_en": _DEMO_EN
        + """## Who is responsible?

The state association Berlin (demo), address in the legal notice. The data protection officer is
at datenschutz@landesverband.example.org.

## What data do we process?

- Your membership data as far as you need it to log in: e-mail address, name, district.
- What you write: posts, agreements, reports. Political opinions are specially protected data
  (Art. 9 GDPR); you write under a display name of your choice.
- Cookies needed to log in and keep your language. We use no trackers and load nothing from
  other servers.

## For how long?

As long as you are a member. If you delete your account, your posts are anonymised.

## Your rights

Access, correction, deletion, restriction, portability and objection. You may complain to the
Berlin Commissioner for Data Protection and Freedom of Information.
""",
    },
    SitePage.Slug.ACCESSIBILITY: {
        "title_de": "Erklärung zur Barrierefreiheit",
        "body_de": _DEMO_DE
        + """Der Landesverband möchte, dass alle Mitglieder mitmachen können. Diese Erklärung gilt
für die Beteiligungsplattform „Mitmachen“. Sie folgt dem Aufbau, den die Barrierefreie
Informationstechnik-Verordnung (BITV 2.0) für öffentliche Stellen vorschreibt.

## Stand der Vereinbarkeit mit den Anforderungen

Die Plattform ist **teilweise barrierefrei**: Sie wird laufend gegen die Web Content
Accessibility Guidelines (WCAG) 2.1, Stufe AA, geprüft, automatisch (axe-core) und von Hand mit
Tastatur und Screenreader.

## Nicht barrierefreie Inhalte

- Bilder in Beiträgen haben nur dann einen Alternativtext, wenn die Verfasserin oder der
  Verfasser einen angibt.
- Live-Abstimmungen und die Redeliste sind noch nicht mit allen Screenreadern geprüft.
- Hochgeladene PDF-Dokumente sind nicht immer barrierefrei.

## Erstellung dieser Erklärung

Diese Erklärung wurde am 1. Dezember 2026 auf Grundlage einer Selbstbewertung erstellt.

## Feedback und Kontakt

Ist dir eine Barriere aufgefallen? Schreib uns an barrierefreiheit@landesverband.example.org
oder ruf an: 030 123 456 79. Wir antworten innerhalb von zwei Wochen.

## Schlichtungsverfahren

Bekommst du keine zufriedenstellende Antwort, kannst du die Schlichtungsstelle nach § 16 des
Behindertengleichstellungsgesetzes (BGG) einschalten. Sie hilft, Streit ohne Gericht zu lösen;
das Verfahren ist kostenlos.

Schlichtungsstelle BGG
Mauerstraße 53
10117 Berlin
E-Mail: info@schlichtungsstelle-bgg.de
""",
        "title_en": "Accessibility statement",
        "body_en": _DEMO_EN
        + """The state association wants every member to be able to take part. This statement covers
the participation platform "Mitmachen". It follows the structure the German accessibility
regulation (BITV 2.0) prescribes for public bodies.

## Status of compliance

The platform is **partially accessible**: it is checked continuously against the Web Content
Accessibility Guidelines (WCAG) 2.1, level AA, automatically (axe-core) and by hand with a
keyboard and a screen reader.

## Content that is not accessible

- Images in posts have a text alternative only where their author gave one.
- Live polls and the speaker list have not yet been tested with every screen reader.
- Uploaded PDF documents are not always accessible.

## Preparation of this statement

This statement was prepared on 1 December 2026, based on a self-assessment.

## Feedback and contact

Did you meet a barrier? Write to barrierefreiheit@landesverband.example.org or call
+49 30 123 456 79. We answer within two weeks.

## Conciliation procedure

If our answer does not satisfy you, you may turn to the conciliation body under section 16 of
the German Disability Equality Act (BGG). It helps settle disputes without a court, free of
charge.

Schlichtungsstelle BGG
Mauerstraße 53
10117 Berlin, Germany
E-mail: info@schlichtungsstelle-bgg.de
""",
    },
    SitePage.Slug.CONTACT: {
        "title_de": "Kontakt",
        "body_de": _DEMO_DE
        + """## Fragen zur Plattform

Schreib an mitmachen@landesverband.example.org. Die Landesgeschäftsstelle antwortet werktags
innerhalb von zwei Tagen.

## Zugang und Konto

Konten legt die Landesgeschäftsstelle an. Wenn du noch keins hast, wende dich an deinen
Bezirksverband.

## Probleme in einem Forum

Melde einen Beitrag mit „Melden“ unter dem Beitrag: Die Moderation des Forums sieht ihn dann
sofort.

## Post

Landesverband Berlin (Demo), Musterstraße 1, 10115 Berlin
""",
        "title_en": "Contact",
        "body_en": _DEMO_EN
        + """## Questions about the platform

Write to mitmachen@landesverband.example.org. The state office answers within two working days.

## Access and accounts

Accounts are created by the state office. If you have none yet, ask your district association.

## Problems in a forum

Report a post with "Report" under the post: the forum's moderators see it at once.

## Post

State association Berlin (demo), Musterstraße 1, 10115 Berlin, Germany
""",
    },
}


#: A line of the texts above at least this long is wrapped prose: it goes on in the next line.
_WRAPPED = 70


def _unwrap(text: str) -> str:
    """Join wrapped lines: Markdown here keeps every line break (as people write in a forum),
    while a short line, as in an address, keeps its break."""
    out: list[str] = []
    for line in text.split("\n"):
        if out and len(out[-1]) >= _WRAPPED and line.strip() and not line.startswith("- "):
            out[-1] = f"{out[-1]} {line.strip()}"
        else:
            out.append(line)
    return "\n".join(out)


def seed_site_pages(*, stdout: Any) -> None:
    """Fill every site page that has no text yet; pages staff already wrote stay as they are."""
    filled = 0
    for slug, texts in PAGES.items():
        page, _created = SitePage.objects.get_or_create(slug=slug)
        if page.body_de.strip() or page.body_en.strip():
            continue
        services.site_page_update(
            page=page, **{field: _unwrap(text) for field, text in texts.items()}
        )
        filled += 1
    stdout.write(f"site pages: demo text in {filled} of {len(PAGES)} (empty ones only)")
