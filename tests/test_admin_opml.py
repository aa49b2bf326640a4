"""OPML import and export through the admin pages."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from sqlalchemy import select

from feedhub.config import Settings
from feedhub.db import Database
from feedhub.ingest.opml import MAX_OPML_BYTES
from feedhub.ingest.sources import add_source
from feedhub.models import Source

from . import admin_seed
from .admin_seed import token

# fixtures shared by the admin tests
admin_client = admin_seed.admin_client
admin_id = admin_seed.admin_id

OPML = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>t</title></head><body>
  <outline text="Lokales">
    <outline type="rss" text="Stadtanzeiger" xmlUrl="https://stadt.example/rss"/>
    <outline type="rss" text="Kreisblatt" xmlUrl="https://kreis.example/feed"/>
  </outline>
  <outline type="rss" text="Tech" xmlUrl="https://tech.example/atom.xml"/>
  <outline type="rss" text="kaputt" xmlUrl="ftp://nope.example/x"/>
</body></opml>"""


def upload(client: FlaskClient, data: bytes, name: str = "feeds.opml") -> tuple[int, str]:
    response = client.post(
        "/admin/sources/import",
        data={"file": (io.BytesIO(data), name), "csrf_token": token(client)},
        content_type="multipart/form-data",
    )
    return response.status_code, response.get_data(as_text=True)


def sources(db: Database) -> list[tuple[str, str, str | None]]:
    with db.session() as session:
        rows = session.scalars(select(Source).order_by(Source.url)).all()
        return [(s.url, s.title, s.category.name if s.category else None) for s in rows]


def test_import_reports_added_skipped_and_invalid(
    admin_client: FlaskClient, db: Database, settings: Settings
) -> None:
    with db.session() as session:
        add_source(session, settings, "https://tech.example/atom.xml")
    status, html = upload(admin_client, OPML)
    assert status == 200
    assert "2 added, 1 skipped, 1 invalid." in html
    assert sources(db) == [
        ("https://kreis.example/feed", "Kreisblatt", "Lokales"),
        ("https://stadt.example/rss", "Stadtanzeiger", "Lokales"),
        ("https://tech.example/atom.xml", "", None),
    ]


def test_export_then_import_gives_the_same_sources(
    admin_client: FlaskClient, db: Database, settings: Settings
) -> None:
    upload(admin_client, OPML)
    before = sources(db)
    response = admin_client.get("/admin/sources/export.opml")
    assert response.mimetype == "text/x-opml"
    exported = response.data
    with db.session() as session:
        for source in session.scalars(select(Source)):
            session.delete(source)
    assert sources(db) == []
    status, _html = upload(admin_client, exported)
    assert status == 200
    assert sources(db) == before


def test_a_document_with_entities_is_refused_next_to_the_field(
    admin_client: FlaskClient, db: Database
) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><opml><body>&lol2;</body></opml>'
    )
    status, html = upload(admin_client, bomb)
    assert status == 400
    assert 'id="file-error"' in html and "DOCTYPE" in html
    assert sources(db) == []


def test_a_file_over_the_cap_is_refused(admin_client: FlaskClient, db: Database) -> None:
    status, html = upload(admin_client, b" " * (MAX_OPML_BYTES + 1))
    assert status == 400
    assert 'id="file-error"' in html


def test_a_missing_file_is_reported(admin_client: FlaskClient) -> None:
    response = admin_client.post(
        "/admin/sources/import",
        data={"csrf_token": token(admin_client)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert 'id="file-error"' in response.get_data(as_text=True)
