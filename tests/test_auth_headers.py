"""Security headers on every response and cookie flags."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from .reader_seed import PASSWORD, Seeder, csrf_token

pytest_plugins = ("tests.reader_fixtures",)


@pytest.mark.parametrize(
    "path",
    ["/", "/login", "/search?q=x", "/story/12345", "/static/feedhub.css", "/manifest.webmanifest"],
)
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)

    csp = response.headers["Content-Security-Policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def _login_cookie(client: FlaskClient, base_url: str) -> str:
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"username": "reader", "password": PASSWORD, "csrf_token": token},
        base_url=base_url,
    )
    assert response.status_code == 302
    return response.headers["Set-Cookie"]


def test_session_cookie_is_httponly_and_lax(client: FlaskClient, seed: Seeder) -> None:
    seed.user()
    seed.session.commit()

    cookie = _login_cookie(client, "http://localhost")

    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_over_https(client: FlaskClient, seed: Seeder) -> None:
    seed.user()
    seed.session.commit()
    client.get("/login", base_url="https://localhost")
    token = csrf_token(client)

    response = client.post(
        "/login",
        data={"username": "reader", "password": PASSWORD, "csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )

    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]
