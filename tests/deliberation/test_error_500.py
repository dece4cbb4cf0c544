"""The 500 page: Django renders it without a request context, and it must not need the database
(it is what members see when the database is the problem). No ``django_db`` here: any query
fails these tests."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error


def test_the_500_template_renders_without_a_request_or_the_database():
    with translation.override("de"):
        html = render_to_string("500.html")
    assert "Bei uns ist etwas schiefgegangen" in html
    assert 'class="site-nav"' not in html  # no navigation: it would need the request
    assert 'href="/kontakt/"' in html and 'href="/"' in html


def test_djangos_500_handler_answers_with_our_page_in_the_requests_language():
    with translation.override("en"):
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
