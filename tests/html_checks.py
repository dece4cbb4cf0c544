"""Checks any page's HTML can pass: every id unique, every form control labelled.

``assert_ids_unique_and_controls_labelled(html)`` fails naming each duplicate id and each
control (input, select, textarea) that has no label: neither ``<label for=...>`` nor a wrapping
``<label>`` nor ``aria-label``/``aria-labelledby``. Hidden inputs and buttons need none.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()
        self.label_for: set[str] = set()
        self.controls: list[tuple[str, dict[str, str], bool]] = []
        self.label_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.ids[values["id"]] += 1
        if tag == "label":
            self.label_depth += 1
            if values.get("for"):
                self.label_for.add(values["for"])
        elif tag in {"input", "select", "textarea"}:
            if tag == "input" and values.get("type", "text").lower() in UNLABELLED_TYPES:
                return
            self.controls.append((tag, values, self.label_depth > 0))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self.label_depth:
            self.label_depth -= 1


def problems(html: str) -> list[str]:
    scan = _Scan()
    scan.feed(html)
    found = [f"duplicate id {name!r} ({n}x)" for name, n in scan.ids.items() if n > 1]
    for tag, attrs, wrapped in scan.controls:
        labelled = (
            wrapped
            or (attrs.get("id") and attrs["id"] in scan.label_for)
            or attrs.get("aria-label", "").strip()
            or attrs.get("aria-labelledby", "").strip()
        )
        if not labelled:
            found.append(f"<{tag} name={attrs.get('name')!r} id={attrs.get('id')!r}> has no label")
    return found


def assert_ids_unique_and_controls_labelled(html: str) -> None:
    found = problems(html)
    assert not found, "\n".join(found)
