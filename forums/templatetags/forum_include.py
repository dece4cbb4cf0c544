"""``{% include_inline "forums/_post.html" %}``: an include whose template is placed in the
including one when that is compiled, for a template rendered many times a page.

``{% include %}`` looks its template up again at every render (resolve the name, the render
context's cache, a context push, the template's own render-state push): on the thread page, whose
post template and its moderation links are included 50 times each, that was about a tenth of the
page's template time. This tag does that work once, when the including template is compiled
(Django's cached loader keeps it compiled; the development server's autoreloader drops every
compiled template when any template file changes). At render time it only pushes an empty
context level, as ``{% include %}`` without ``with`` does, so whatever the included template sets
stays inside it.

Limits, checked when compiling: the name is a constant string, and the included template does not
``{% extends %}`` another (its blocks would have nothing to fill). For ``with``, wrap the tag in
``{% with %}``; ``only`` is not supported.
"""

from __future__ import annotations

from django import template
from django.template.base import Node, NodeList, Parser, Token
from django.template.context import Context
from django.template.engine import Engine
from django.template.loader_tags import ExtendsNode
from django.utils.safestring import SafeString

register = template.Library()


class InlineIncludeNode(Node):
    def __init__(self, name: str, nodelist: NodeList) -> None:
        self.name = name
        self.nodelist = nodelist

    def __repr__(self) -> str:
        return f"<{self.__class__.__qualname__}: {self.name!r}>"

    def render(self, context: Context) -> SafeString:
        with context.push():
            return self.nodelist.render(context)


@register.tag("include_inline")
def include_inline(parser: Parser, token: Token) -> InlineIncludeNode:
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][:1] not in "\"'" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError(
            f"{bits[0]} takes one template name in quotes (for 'with', wrap it in {{% with %}})"
        )
    name = bits[1][1:-1]
    loader = getattr(parser.origin, "loader", None)
    engine = loader.engine if loader is not None else Engine.get_default()
    included = engine.get_template(name)
    if any(isinstance(node, ExtendsNode) for node in included.nodelist):
        raise template.TemplateSyntaxError(f"{bits[0]} cannot place {name!r}: it extends another")
    return InlineIncludeNode(name, included.nodelist)
