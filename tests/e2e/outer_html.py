"""One element's HTML in a form two renderings can be compared in: attributes sorted, whitespace
collapsed, whitespace-only text dropped, the per-page CSRF token blanked (Django masks it anew on
every page load). Used to prove that a live post equals the same post after a reload."""

from __future__ import annotations

from html.parser import HTMLParser


class _Normaliser(HTMLParser):
    """Re-serialise HTML as described above."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = [
            (k, "" if k == "value" and ("name", "csrfmiddlewaretoken") in attrs else v)
            for k, v in attrs
        ]
        parts = [f'{k}="{v}"' if v is not None else k for k, v in sorted(attrs)]
        self.out.append(f"<{tag}{' ' if parts else ''}{' '.join(parts)}>")

    def handle_endtag(self, tag):
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        text = " ".join(data.split())
        if text:
            self.out.append(text)


def normalised(html: str) -> str:
    parser = _Normaliser()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.out)
