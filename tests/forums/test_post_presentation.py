"""The thread page's URLs, texts and times, computed once per page, equal what the post template's
own tags (``{% url %}``, ``{% blocktranslate %}``, ``|utc|date``, ``|post_time``) gave for the same
post."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from deliberation.models import Member
from forums import selectors, services
from forums.models import Post
from tests.factories import make_post, make_thread

pytestmark = pytest.mark.django_db

#: What the post template (and moderation/_post_links.html) wrote with tags, one field a line.
TAGS = Template(
    "{% load i18n tz forum_time %}"
    "{% url 'forums:post_agree' post.pk %}\n"
    "{% url 'forums:post_edit' post.pk %}\n"
    "{% url 'forums:post_delete' post.pk %}\n"
    "{% if post.reply_to_id %}{% url 'forums:post' post.reply_to_id %}{% endif %}\n"
    "{% blocktranslate with name=post.author.display_name|default:_('Deleted account') %}"
    "Reply to {{ name }}{% endblocktranslate %}\n"
    "{% blocktranslate count counter=post.reaction_count|default:0 %}{{ counter }} agreement"
    "{% plural %}{{ counter }} agreements{% endblocktranslate %}\n"
    "{% blocktranslate with name=post.author.display_name|default:_('Deleted account') %}"
    "Agree with the post by {{ name }}{% endblocktranslate %}\n"
    "{{ post.created_at|utc|date:'c' }}\n"
    "{{ post.created_at|post_time }}\n"
    "{% url 'moderation:report' post.pk %}\n"
    "{% blocktranslate with name=post.author.display_name|default:_('Deleted account') %}"
    "Report the post by {{ name }}{% endblocktranslate %}\n"
    "{% url 'moderation:post' post.pk %}\n"
    "{% blocktranslate with name=post.author.display_name|default:_('Deleted account') %}"
    "Moderate the post by {{ name }}{% endblocktranslate %}"
)
ATTRIBUTES = Template(
    "{{ post.agree_url }}\n{{ post.edit_url }}\n{{ post.delete_url }}\n{{ post.reply_to_url }}\n"
    "{{ post.reply_label }}\n{{ post.agree_total_label }}\n{{ post.agree_label }}\n"
    "{{ post.created_iso }}\n"
    "{{ post.created_display }}\n{{ post.report_url }}\n{{ post.report_label }}\n"
    "{{ post.moderate_url }}\n{{ post.moderate_label }}"
)


#: A display name with every character HTML escaping changes.
MARKUP_NAME = 'Anna "A&B" <O\'Neil>'


@pytest.mark.parametrize("language", ["de", "en"])
def test_presented_urls_texts_and_times_equal_what_the_tags_give(alice, bob, mo, language):
    # The texts come escaped for the template (selectors.escaped): a name with markup characters
    # shows that they are escaped once, as the tags escaped them, not twice.
    Member.objects.filter(pk=bob.pk).update(display_name=MARKUP_NAME)
    bob.refresh_from_db()
    thread = make_thread(author=bob)
    parent = make_post(thread, author=bob, body="Wer prüft die Mieten?")
    make_post(thread, author=alice, body="Die Bezirke.", reply_to_id=parent.pk)
    gone = make_post(thread, author=mo, body="Ich gehe.")
    Post.objects.filter(pk=gone.pk).update(author=None)  # as when an account is deleted
    services.reaction_toggle(actor=alice, post=parent)
    services.reaction_toggle(actor=mo, post=parent)

    with translation.override(language), timezone.override("America/New_York"):
        posts = list(selectors.thread_posts(user=alice, thread=thread, is_moderator=False))
        selectors.annotate_posts_for_viewer(
            posts, user=alice, is_moderator=False, can_participate=True
        )
        assert len(posts) == 4
        for post in posts:
            context = Context({"post": post})
            assert ATTRIBUTES.render(context) == TAGS.render(context)
        by_pk = {p.pk: p for p in posts}
    # The cases the comparison covers, so that it cannot pass on empty values.
    assert by_pk[gone.pk].author_name == (
        "Gelöschter Zugang" if language == "de" else "Deleted account"
    )
    assert by_pk[parent.pk].agree_total_label.startswith("2 ")
    assert by_pk[parent.pk].author_name == "Anna &quot;A&amp;B&quot; &lt;O&#x27;Neil&gt;"
    assert all(p.reply_to_url == "" for p in posts if not p.reply_to_id)
    assert any(p.reply_to_url.startswith("/") for p in posts)


def test_the_page_gives_the_fixed_texts_in_the_members_language():
    with translation.override("de"):
        german = selectors.post_labels()
    with translation.override("en"):
        english = selectors.post_labels()
    assert english["agree"] == "Agree"
    assert german["agree"] == "Zustimmen"
    assert all(german[key] for key in english)


@pytest.mark.parametrize("viewer_name", ["alice", "mo"])
def test_the_post_template_reads_a_post_for_template_as_it_reads_the_post(
    alice, bob, mo, sam, viewer_name, request
):
    """``selectors.posts_for_template`` (a dict per post, for speed) changes no byte of the page:
    a reply, an edited post, a deleted one, one by a deleted account, a hidden one with its note,
    one of the viewer's own, agreements; as a member and as the forum's moderator."""
    from django.template.loader import get_template

    from moderation import services as moderation_services
    from moderation.models import Reason

    viewer = request.getfixturevalue(viewer_name)
    thread = make_thread(author=bob)
    moderation_services.moderator_grant(actor=sam, forum=thread.forum, member=mo)
    parent = make_post(thread, author=bob, body="Wer prüft die **Mieten**?")
    make_post(thread, author=alice, body="Die Bezirke.", reply_to_id=parent.pk)
    edited = make_post(thread, author=alice, body="Erst so.")
    services.post_edit(actor=alice, post=edited, body="Dann so.")
    deleted = make_post(thread, author=bob, body="Weg damit.")
    services.post_delete(actor=bob, post=deleted)
    gone = make_post(thread, author=mo, body="Ich gehe.")
    Post.objects.filter(pk=gone.pk).update(author=None)
    hidden = make_post(thread, author=alice, body="Unhöflich.")
    moderation_services.post_hide(
        actor=mo, post=hidden, reason=Reason.INSULT, text="Bitte freundlich bleiben."
    )
    services.reaction_toggle(actor=alice, post=parent)

    template = get_template("forums/_post.html")
    context = {
        "can_participate": True,
        "can_post": True,
        "is_moderator": viewer is mo,
        "signed_in": True,
        "user": viewer,
        "post_labels": selectors.post_labels(),
        "reply_link_prefix": "?reply_to=",
    }
    posts = list(selectors.thread_posts(user=viewer, thread=thread, is_moderator=viewer is mo))
    selectors.annotate_posts_for_viewer(
        posts, user=viewer, is_moderator=viewer is mo, can_participate=True
    )
    as_models = [template.render({**context, "post": post}) for post in posts]
    as_dicts = [
        template.render({**context, "post": post}) for post in selectors.posts_for_template(posts)
    ]
    assert as_dicts == as_models
    page = "".join(as_models)
    # What the comparison covers, so that it cannot pass on empty shells:
    assert "<strong>Mieten</strong>" in page
    assert 'class="post-edited">' in page and 'class="post-deleted-note">' in page
    assert 'class="post-reply-to-link"' in page and 'data-count="1"' in page
    assert ('class="post-edit" href=' in page) is (viewer is alice)  # her own posts
    assert "post-moderation-note" in page


def test_texts_with_markup_characters_are_escaped_once_on_the_thread_page(client, alice, bob):
    """Names, excerpts, labels and the reply link's query are escaped once (in Python, for speed;
    the template then writes them as they are): never raw, never twice."""
    Member.objects.filter(pk=bob.pk).update(display_name=MARKUP_NAME, affiliation="initiative")
    bob.refresh_from_db()
    thread = make_thread(author=bob, body="Erster & <b>bester</b> 'Beitrag'")
    first = thread.posts.get()
    make_post(thread, author=alice, body="Antwort", reply_to_id=first.pk)
    for n in range(60):  # a second page, whose reply links carry "?page=2&reply_to="
        make_post(thread, body=f"B{n}")  # by staff, whom no rate limit slows
    client.force_login(alice)
    page = client.get(thread.get_absolute_url()).content.decode()
    name = "Anna &quot;A&amp;B&quot; &lt;O&#x27;Neil&gt;"
    assert f'<span class="post-author">{name}</span>' in page
    assert f'<span class="post-reply-to-author">{name}</span>' in page
    assert f'aria-label="{name} antworten"' in page  # "Reply to %(name)s" in German
    assert "Erster &amp; bester &#x27;Beitrag&#x27;" in page  # the reply line's excerpt
    assert MARKUP_NAME not in page and "&amp;amp;" not in page and "&amp;quot;" not in page
    second = client.get(thread.get_absolute_url() + "?page=2").content.decode()
    assert 'href="?page=2&amp;reply_to=' in second and "&amp;amp;" not in second
