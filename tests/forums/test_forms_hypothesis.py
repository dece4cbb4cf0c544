"""Every form and POST endpoint of the forums, with hostile input (properties: tests/hostile.py).

Personas: alice posts in the world's forum (tests/hostile_world.py); her own post is the one she
edits and deletes. Each endpoint also gets ids of other people's posts, of the other forum and of
nothing at all. The editor's endpoints (image upload, preview) answer JSON or HTML fragments.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from forums.models import Post
from tests.hostile import (
    FORM_SETTINGS,
    MISSING,
    field_value,
    foreign_ids,
    form_data,
    post_form,
    rolled_back,
    snapshot,
    submit,
)
from tests.hostile_world import (
    FormWorld,
    form_world,  # noqa: F401 (the fixture "fw")
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def post_ids(fw: FormWorld, own: int) -> st.SearchStrategy[int]:
    return st.one_of(st.just(own), st.sampled_from(fw.foreign_post_ids()), foreign_ids)


# --- threads and posts --------------------------------------------------------------------------


@FORM_SETTINGS
@given(
    data=form_data(
        title=field_value("Mietendeckel jetzt"),
        body=field_value("Ein **erster** Beitrag"),
        client_id=field_value("a" * 32),
    ),
    slug=st.sampled_from(["mieten-welt", "gesundheit-welt", "gibt-es-nicht", "suche"]),
)
def test_starting_a_thread_with_hostile_fields_never_crashes_and_a_refusal_changes_nothing(
    fw, data, slug
):
    with rolled_back():
        url = reverse("forums:thread_create", kwargs={"slug": slug})
        submit(fw.client(fw.alice), url, data)


@FORM_SETTINGS
@given(data=st.data())
def test_a_reply_with_hostile_fields_never_crashes_and_a_refusal_changes_nothing(fw, data):
    values = data.draw(
        form_data(
            body=field_value("Eine Antwort"),
            client_id=field_value("b" * 32, "c" * 64),
            reply_to=field_value(fw.own_post.pk, extra=fw.foreign_post_ids()),
        )
    )
    thread_pk = data.draw(
        st.one_of(st.just(fw.thread.pk), st.just(fw.other_thread.pk), foreign_ids)
    )
    with rolled_back():
        url = reverse("forums:thread_reply", kwargs={"pk": thread_pk})
        outcome = submit(fw.client(fw.alice), url, values)
        if "forums.Post" in outcome.changed:
            post = Post.objects.order_by("-pk").first()
            assert post.thread_id == thread_pk
            assert post.reply_to is None or post.reply_to.thread_id == thread_pk


@FORM_SETTINGS
@given(data=st.data())
def test_editing_with_hostile_fields_never_crashes_and_a_refusal_changes_nothing(fw, data):
    values = data.draw(form_data(body=field_value("Geänderter Text")))
    pk = data.draw(post_ids(fw, fw.own_post.pk))
    with rolled_back():
        outcome = submit(
            fw.client(fw.alice), reverse("forums:post_edit", kwargs={"pk": pk}), values
        )
        if outcome.changed:
            assert pk == fw.own_post.pk


@FORM_SETTINGS
@given(data=st.data())
def test_agreeing_and_deleting_with_hostile_ids_never_crash_and_a_refusal_changes_nothing(fw, data):
    values = data.draw(form_data(next=field_value("/", "https://evil.example/")))
    pk = data.draw(post_ids(fw, fw.own_post.pk))
    name = data.draw(st.sampled_from(["forums:post_agree", "forums:post_delete"]))
    with rolled_back():
        submit(fw.client(fw.alice), reverse(name, kwargs={"pk": pk}), values)


@FORM_SETTINGS
@given(data=st.data())
def test_the_thread_pages_agreement_form_with_hostile_fields_never_crashes_and_changes_nothing(
    fw, data
):
    """The page's one agreement form (#agree-form): the toggle sends its post's id as ``post``."""
    values = data.draw(
        form_data(
            post=field_value(
                fw.base.post.pk, fw.own_post.pk, extra=[*fw.foreign_post_ids(), 0, 2**63, 10**30]
            )
        )
    )
    thread_pk = data.draw(
        st.one_of(st.just(fw.thread.pk), st.just(fw.other_thread.pk), foreign_ids)
    )
    with rolled_back():
        url = reverse("forums:thread_agree", kwargs={"pk": thread_pk})
        outcome = submit(fw.client(fw.alice), url, values)
        if "forums.Reaction" in outcome.changed:
            # Only a post of this thread that alice may agree with: never her own.
            assert thread_pk == fw.thread.pk
            assert str(values["post"]) == str(fw.base.post.pk)


# --- the editor: preview and image upload ------------------------------------------------------


@FORM_SETTINGS
@given(
    data=form_data(content=field_value("**fett** und [Link](https://example.org)")),
)
def test_the_preview_with_hostile_content_never_crashes_and_changes_nothing(fw, data):
    with rolled_back():
        client = fw.client(fw.alice)
        before = snapshot()
        response = post_form(client, reverse("markdownx_markdownify"), data)
        assert response.status_code == 200 or 400 <= response.status_code < 500
        assert snapshot() == before


def _image(fmt: str = "PNG", size=(8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 40)).save(out, format=fmt)
    return out.getvalue()


IMAGES = [
    _image(),
    _image("GIF"),
    _image("JPEG"),
    _image()[:40],
    _image() + b"<script>",
    b"",
    b"GIF89a",
]


def _files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# Multipart bodies carry text as UTF-8: no lone surrogates there (the urlencoded forms test those).
multipart_text = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(["mieten-welt", "gesundheit-welt", "²", "١", "9" * 30, str(2**63), "0", " "]),
)


@FORM_SETTINGS
@given(
    forum=st.one_of(st.just(MISSING), multipart_text),
    image=st.one_of(st.just(MISSING), st.sampled_from(IMAGES), st.binary(max_size=64)),
    name=st.sampled_from(["bild.png", "bild.svg", "../../x.png", "bild", "\u202egnp.exe"]),
)
def test_an_upload_with_hostile_fields_never_crashes_and_a_refused_one_writes_nothing(
    fw, settings, forum, image, name
):
    data = {}
    if forum is not MISSING:
        data["forum"] = forum
    if image is not MISSING:
        data["image"] = SimpleUploadedFile(name, image, content_type="image/png")
    with rolled_back():
        client = fw.client(fw.alice)
        before_files = set(_files(settings))
        before = snapshot()
        response = client.post(reverse("markdownx_upload"), data)
        assert response.status_code in (200, 400, 403, 413, 429), response.status_code
        assert snapshot() == before
        written = set(_files(settings)) - before_files
        if response.status_code == 200:
            assert response.json()["image_code"].startswith("![](/media/")
        else:
            assert response.json()["error"]
            assert not written


# --- and a valid submission still works ---------------------------------------------------------


def test_valid_submissions_of_every_forums_form_still_change_what_they_should(fw):
    alice = fw.client(fw.alice)
    own = fw.own_post.pk
    cases = [
        (
            reverse("forums:thread_create", kwargs={"slug": "mieten-welt"}),
            {"title": "Neu", "body": "Erster", "client_id": "v1"},
            "forums.Thread",
        ),
        (
            reverse("forums:thread_reply", kwargs={"pk": fw.thread.pk}),
            {"body": "Antwort", "client_id": "v2", "reply_to": own},
            "forums.Post",
        ),
        (reverse("forums:post_edit", kwargs={"pk": own}), {"body": "Neu"}, "forums.Post"),
        (reverse("forums:post_agree", kwargs={"pk": fw.base.post.pk}), {}, "forums.Reaction"),
        (
            reverse("forums:thread_agree", kwargs={"pk": fw.thread.pk}),
            {"post": fw.base.post.pk},
            "forums.Reaction",
        ),
        (reverse("forums:post_delete", kwargs={"pk": own}), {}, "forums.Post"),
    ]
    for url, data, table in cases:
        with rolled_back():
            outcome = submit(alice, url, data)
            assert table in outcome.changed, (url, outcome)
            assert outcome.successes and not outcome.errors
