"""What the Markdown engine lets through executes nothing in a real browser, even without CSP.

Issue #9: 6,751 XSS payloads executed nothing in Chromium with the old engine; keep it that way
with cmark-gfm. Here every vector of the sanitiser's corpus (tests/forums/test_markup.py) and a
few Markdown-shaped variants are rendered by the platform's one renderer, put into one page with
no Content-Security-Policy at all (the page's own CSP would hide a sanitiser hole), and every
element is hovered, focused and clicked. Whatever runs script would call one of the traps.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from deliberation.markup import render_markdown
from tests.forums.test_markup import VECTORS

pytestmark = pytest.mark.e2e

#: Markdown shapes that wrap each vector (inline, in a link text, a quote, a list, a table).
SHAPES = ["{v}", "[{v}](/forum/)", "> {v}", "- {v}", "| a |\n| - |\n| {v} |", "**{v}**"]

TRAPS = """
window.__fired = [];
for (const name of ["alert", "confirm", "prompt", "print", "open", "fetch"]) {
  window[name] = function () { window.__fired.push(name); return null; };
}
"""

#: Clicks must not navigate away (set_content's document.open drops listeners set before it).
STAY = """
() => {
  document.addEventListener("click", (event) => event.preventDefault(), true);
  document.addEventListener("submit", (event) => event.preventDefault(), true);
}
"""

POKE = """
() => {
  for (const el of document.querySelectorAll("body *")) {
    for (const type of ["mouseover", "mouseenter", "pointerenter", "focus", "click", "toggle"]) {
      el.dispatchEvent(new Event(type, { bubbles: true }));
    }
    if (typeof el.focus === "function") { el.focus(); }
    if (typeof el.click === "function") { el.click(); }
  }
  return document.querySelectorAll("body *").length;
}
"""


FLUSH = """() => new Promise((done) => {
  setTimeout(() => requestAnimationFrame(() => setTimeout(done)));
})"""


@override_settings(MEDIA_URL="/media/")
def test_no_rendered_vector_runs_script_in_chromium_without_csp(browser):
    rendered = [render_markdown(shape.format(v=vector)) for vector in VECTORS for shape in SHAPES]
    html = "<!doctype html><html><body>" + "\n<hr>\n".join(rendered) + "</body></html>"
    context = browser.new_context(java_script_enabled=True)
    requested: list[str] = []
    dialogs: list[str] = []
    try:
        page = context.new_page()
        page.route("**/*", lambda route: (requested.append(route.request.url), route.abort()))
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        # Script that ran while the page was parsed would have opened a dialog (recorded above);
        # the traps catch what runs later, from events and timers.
        page.set_content(html)
        page.evaluate(STAY.strip())
        page.evaluate(f"() => {{ {TRAPS} }}")
        elements = page.evaluate(POKE.strip())
        # Let what the poking queued run (timers, a frame, load handlers), however fast the
        # machine: wait for the browser to go through them rather than for a fixed time.
        page.evaluate(FLUSH)
        fired = page.evaluate("window.__fired")
    finally:
        context.close()
    assert elements > len(VECTORS)  # the page really holds the rendered posts
    assert fired == []
    assert dialogs == []
    # Nothing may reach for another origin: no tracker pixel, no script, no frame, no style.
    assert [url for url in requested if not url.startswith("about:")] == []
