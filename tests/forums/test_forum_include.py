"""``{% include_inline %}`` (forums/templatetags/forum_include.py): the thread page's post template
placed into the page when it is compiled, rendering exactly as ``{% include %}`` did."""

from __future__ import annotations

import pytest
from django.template import Context, Template, TemplateSyntaxError

from forums import selectors


@pytest.mark.parametrize("signed_in", [True, False])
@pytest.mark.parametrize("is_moderator", [True, False])
def test_an_inline_include_renders_what_include_rendered(signed_in, is_moderator):
    post = {
        "report_shown": True,
        "report_url": "/melden/",
        "report_label": "Beitrag melden",
        "moderate_url": "/moderieren/",
        "moderate_label": "Beitrag moderieren",
    }
    context = {
        "post": post,
        "signed_in": signed_in,
        "is_moderator": is_moderator,
        "post_labels": selectors.post_labels(),
    }
    included = Template('{% include "moderation/_post_links.html" %}')
    inlined = Template('{% load forum_include %}{% include_inline "moderation/_post_links.html" %}')
    assert inlined.render(Context(context)) == included.render(Context(context))
    assert ("post-report" in inlined.render(Context(context))) is signed_in


@pytest.mark.parametrize(
    "tag",
    [
        "{% include_inline name %}",
        '{% include_inline "moderation/_post_links.html" with post=None %}',
        '{% include_inline "moderation/_post_links.html" only %}',
        '{% include_inline "forums/thread.html" %}',
    ],
)
def test_an_inline_include_takes_one_constant_name_of_a_template_that_extends_nothing(tag):
    with pytest.raises(TemplateSyntaxError):
        Template("{% load forum_include %}" + tag)
