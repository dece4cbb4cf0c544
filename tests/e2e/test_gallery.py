"""The page gallery's pages, each rendered once (German, 1280 px, no screenshots): every page
answers with the status the gallery expects and raises no browser error. ``make gallery`` renders
the same list in both languages at both widths (tests/e2e/gallery.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.e2e import gallery
from tests.servers import daphne_server, database_url_of_current_test_db

pytestmark = pytest.mark.e2e


def test_every_gallery_page_renders_without_errors(
    transactional_db, django_db_serialized_rollback, tmp_path: Path
):
    call_command("seed_demo", stdout=io.StringIO())
    shots = gallery.gallery_shots()
    names = {(shot.persona, shot.name) for shot in shots}
    # The page list found the demo's content: a thread, a case, the queue, the error pages.
    for expected in [
        ("visitor", "thread"),
        ("member", "report"),
        ("moderator", "queue"),
        ("moderator", "case"),
        ("visitor", "error-404"),
        ("member", "error-403"),
        ("visitor", "page-barrierefreiheit"),
    ]:
        assert expected in names, expected

    server = daphne_server(
        log_dir=tmp_path,
        database_url=database_url_of_current_test_db(),
        extra_env={"DJANGO_DEBUG": "0"},
    )
    server.start()
    try:
        results = gallery.run(
            base_url=server.url, shots=shots, out_dir=None, languages=["de"], widths=[1280]
        )
    finally:
        server.stop()
    assert len(results) == len(shots)
    problems = [
        f"{result.shot.persona} {result.shot.path}: {'; '.join(result.problems)}"
        for result in results
        if result.problems
    ]
    assert not problems, "\n".join(problems)


def test_the_gallery_index_shows_every_picture(tmp_path: Path):
    shot = gallery.Shot("home", "/")
    picture = tmp_path / gallery.file_name(shot, "de", 360)
    result = gallery.Result(shot=shot, language="de", status=200, files=[picture])
    broken = gallery.Result(shot=gallery.Shot("gone", "/x/", status=404), language="en", status=500)
    index = gallery.write_index([result, broken], tmp_path).read_text()
    assert f'src="{picture.name}"' in index
    assert "status 500, expected 404" in index
