"""The one page error handler (``core.pages``): what every app's pages answer when a view
raises a domain error, is asked with the wrong method, or is opened signed out."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.pages import form_view, page_view


def _raising(error):
    def view(request):
        raise error

    return view


def _request(method, user):
    request = getattr(RequestFactory(), method)("/somewhere/")
    request.user = user
    return request


@pytest.mark.parametrize(
    ("error", "status", "heading"),
    [
        (InvalidInput("No such sort order."), 400, "That request could not be answered"),
        (Forbidden("Only auditors may read this."), 403, "You may not do that"),
        (NotFound("No model named 'x'."), 404, "Not found"),
        (Conflict("It moved meanwhile."), 409, "That request could not be answered"),
    ],
)
def test_it_answers_a_domain_error_with_the_error_page_and_its_status(
    contributor, error, status, heading
):
    response = page_view(_raising(error))(_request("get", contributor))
    assert response.status_code == status
    body = response.content.decode()
    assert 'data-testid="error-page"' in body
    assert f"<h1>{heading}</h1>" in body
    assert error.message.replace("'", "&#x27;") in body


def test_it_lists_the_field_errors_and_offers_the_default_settings_on_a_400(contributor):
    error = InvalidInput("Bad filter.", field_errors={"sort": ["Choose a listed order."]})
    response = page_view(_raising(error))(_request("get", contributor))
    body = response.content.decode()
    assert "<code>sort</code>: Choose a listed order." in body
    assert "Open the page with its default settings" in body


def test_it_passes_a_normal_answer_through(contributor):
    response = page_view(lambda request: HttpResponse("fine"))(_request("get", contributor))
    assert (response.status_code, response.content) == (200, b"fine")


def test_it_sends_a_signed_out_visitor_to_the_login_page(db):
    response = page_view(_raising(NotFound("x")))(_request("get", AnonymousUser()))
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_a_page_refuses_a_post_and_a_form_refuses_a_get(contributor):
    def ok(request):
        return HttpResponse("ok")

    assert page_view(ok)(_request("post", contributor)).status_code == 405
    assert form_view(ok)(_request("get", contributor)).status_code == 405
    response = form_view(_raising(NotFound("Gone.")))(_request("post", contributor))
    assert response.status_code == 404
