"""The Content Security Policy: sent with every page, strict (no inline script, no eval), and
kept by our templates. The browser tests check every page they open against it."""

import re
from pathlib import Path

import pytest
from django.test import Client

from marketguard.core.models import Role
from marketguard.core.testing import factories

SRC = Path(__file__).resolve().parent.parent / "src" / "marketguard"


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/help/", "/api/v1/docs", "/api/v1/openapi.json"])
def test_every_answer_carries_a_strict_policy(path):
    policy = _policy(Client().get(path))
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"] and policy["base-uri"] == ["'self'"]


@pytest.mark.django_db
def test_signed_in_pages_carry_it_too():
    client = Client()
    client.force_login(factories.user(Role.ANALYST))
    response = client.get("/cases/dashboard/")
    assert response.status_code == 200
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


INLINE = re.compile(
    r"""\s(on[a-z]+|hx-on[:\w-]*)\s*=\s*["']|javascript:|<script(?![^>]*\bsrc=)(?![^>]*application/json)"""
)


def test_no_template_uses_inline_script_or_handlers():
    offenders = []
    for template in SRC.rglob("templates/**/*.html"):
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            if INLINE.search(line):
                offenders.append(f"{template.relative_to(SRC)}:{number}: {line.strip()[:120]}")
    assert not offenders, "inline script breaks the Content Security Policy:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    ("line", "inline"),
    [
        ('<select onchange="this.form.submit()">', True),
        ('<form hx-on::after-request="this.reset()">', True),
        ("<script>alert(1)</script>", True),
        ('<a href="javascript:void(0)">', True),
        ('<script src="/static/web/app.js" defer></script>', False),
        ('<script type="application/json" id="data">', False),
        ('<meta name="viewport" content="width=device-width">', False),
        ('<a data-fill-handoff="safety">', False),
    ],
)
def test_the_template_scan_recognises_inline_script(line, inline):
    assert bool(INLINE.search(line)) is inline


@pytest.mark.django_db
def test_the_icon_is_ours_and_served_from_our_static_files():
    html = Client().get("/login/").content.decode()
    assert '<link rel="icon" href="/static/web/favicon.svg"' in html
    redirect = Client().get("/favicon.ico")
    assert redirect.status_code == 301 and redirect["Location"] == "/static/web/favicon.svg"
