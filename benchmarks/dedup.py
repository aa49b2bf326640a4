"""Story clustering benchmark: pairwise precision/recall and ingest cost at scale.

An original generator builds a labelled corpus of regional news: stories that
several sources publish (syndicated copies with tracking parameters, http vs
https, mobile and www hosts, edited headlines, truncated teasers ending in
" …", their own guids, dates hours apart) and hard negatives that share a
template but are different stories (daily figures, match days, weekly
columns, the same police report template in different towns). Every item goes
through the real pipeline: RSS bytes → feedhub.ingest.parse.process_feed →
feedhub.ingest.store.store_feed, one transaction per source poll.

It then measures the ingest time per entry into databases that already hold
10^4 and 10^6 entries (seeded by bulk inserts, with their lsh_bands rows and
search documents, spread over the 180 days before the corpus) and reports the
ratio. Like the poller, the ingest runs with WAL checkpoints in a background
thread (feedhub.wal).

    .venv/bin/python benchmarks/dedup.py                 # full run (~30 min)
    .venv/bin/python benchmarks/dedup.py --sizes 10000   # quick run
    .venv/bin/python benchmarks/dedup.py --workdir DIR --keep-seeds  # reruns skip seeding
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from sqlalchemy import func, select

from feedhub.db import Database, upgrade
from feedhub.ingest.parse import process_feed
from feedhub.ingest.store import store_feed
from feedhub.models import Entry, Source
from feedhub.stories.bulk import band_day, band_micros
from feedhub.stories.categories import ensure_default_categories
from feedhub.stories.cluster import band_time
from feedhub.stories.features import encode_signature, prepare_feed, signature_of
from feedhub.stories.fingerprint import fingerprint
from feedhub.stories.stemming import index_text

START = datetime(2024, 3, 4, 6, tzinfo=UTC)


def _words(text: str) -> list[str]:
    return text.split()


TOWNS = _words(
    """
    Neuwied Linz Unkel Dierdorf Puderbach Rengsdorf Asbach Waldbreitbach Anhausen
    Leutesdorf Erpel Vettelschoß Windhagen Rheinbrohl Straßenhaus Melsbach Oberhonnefeld
    Kurtscheid Niederbieber Feldkirchen Irlich Heddesdorf Engers Gladbach Montabaur
    Hachenburg Altenkirchen Betzdorf Wissen Andernach Mayen Bendorf Vallendar Lahnstein
    Boppard Westerburg Ransbach Höhr-Grenzhausen Selters Wirges
    """
)
ACTORS = _words(
    """
    Stadtrat Ortsgemeinderat Kreistag Verbandsgemeinderat Feuerwehr Polizei
    Kreisverwaltung Bürgermeisterin Landrat Förderverein Heimatverein Sportverein
    Musikverein Grundschule Realschule Kita Kirchengemeinde Tafel Jugendzentrum
    Seniorenbeirat Bauausschuss Werkausschuss DRK Naturschutzbund Handwerkskammer
    Wirtschaftsförderung Stadtwerke Verkehrsverein Bürgerinitiative Tierheim
    """
)
OBJECTS = _words(
    """
    Brücke Turnhalle Radweg Kindergarten Spielplatz Friedhof Dorfplatz Kreisstraße
    Feuerwehrhaus Bürgerhaus Sportplatz Schwimmbad Bahnhof Marktplatz Kläranlage
    Wasserleitung Ortsdurchfahrt Parkhaus Mehrzweckhalle Grillhütte Wanderweg
    Bushaltestelle Rathaus Stadtbibliothek Jugendraum Kunstrasenplatz Glasfasernetz
    Solarpark Windpark Gewerbegebiet Neubaugebiet Pflegeheim Hallenbad Festplatz
    """
)
ACTIONS = [
    ("saniert", "die Sanierung"),
    ("erweitert", "die Erweiterung"),
    ("plant", "die Planung"),
    ("eröffnet", "die Eröffnung"),
    ("modernisiert", "die Modernisierung"),
    ("baut", "den Neubau"),
    ("prüft", "die Prüfung"),
    ("finanziert", "die Finanzierung"),
    ("verschiebt", "die Verschiebung"),
    ("beschließt", "den Beschluss"),
]
REASONS = [
    "Fördermittel des Landes",
    "Sicherheitsmängel",
    "steigende Kinderzahlen",
    "den Klimaschutz",
    "Beschwerden von Anwohnern",
    "ein neues Gutachten",
    "die Barrierefreiheit",
    "den Brandschutz",
    "die hohen Energiekosten",
    "den demografischen Wandel",
    "eine Bürgerbefragung",
    "die Verkehrssicherheit",
]
EXTRAS = [
    "Die Arbeiten sollen {month} beginnen und rund {n} Wochen dauern.",
    "Die Kosten liegen nach ersten Schätzungen bei {k} Euro.",
    "Anwohner werden gebeten, die Umleitung über die {road} zu nutzen.",
    "Eine Informationsveranstaltung ist für {weekday} im {place2} geplant.",
    "Der Vorsitzende {name} zeigte sich mit dem Ergebnis zufrieden.",
    "Kritik kam von der Opposition, die eine Bürgerbeteiligung fordert.",
    "Das Land übernimmt {p} Prozent der förderfähigen Kosten.",
    "Ein Zeitplan soll in der nächsten Sitzung vorgestellt werden.",
    "Bereits im vergangenen Jahr war das Thema mehrfach diskutiert worden.",
    "Fragen beantwortet die Verwaltung unter der bekannten Rufnummer.",
    "Für Fußgänger wird ein sicherer Übergang eingerichtet.",
    "Die Vereine wurden frühzeitig in die Planung einbezogen.",
]
STREETS = _words(
    """
    Bahnhof Kirch Schul Garten Linden Berg Wald Mühlen Rhein Wied Burg Markt Eichen
    Birken Hohl Feld Tal Sonnen Rosen Post Brunnen Kapellen Kloster Hütten Schloss Ring
    Wiesen Acker
    """
)
SPEAKERS = [
    "Bürgermeister",
    "Ortsvorsteherin",
    "Sprecher",
    "Beigeordneter",
    "Vorsitzende",
    "Kämmerer",
    "Projektleiterin",
    "Fraktionschef",
    "Geschäftsführer",
    "Amtsleiterin",
]
ADJECTIVES = [
    "überfällig",
    "dringend nötig",
    "einen wichtigen Schritt",
    "teuer, aber richtig",
    "ein starkes Signal",
    "längst beschlossen",
    "umstritten",
    "gut vorbereitet",
    "eine gute Nachricht",
    "eine Herausforderung",
]
NAMES = _words(
    """
    Müller Schmitz Becker Hoffmann Wagner Klein Schneider Weber Krämer Neumann Braun
    Zimmermann Hartmann Lange Krause Werner Schulz Jung Roth Bauer
    """
)
MONTHS = [
    "im Januar",
    "im Februar",
    "im März",
    "im April",
    "im Mai",
    "im Juni",
    "im Juli",
    "im August",
    "im September",
]
WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag"]
ROADS = ["B 42", "B 256", "L 255", "K 113", "L 258", "B 413", "K 98", "L 304"]
TITLE_EDITS = ["{town}: ", "", "", "Kreis Neuwied: ", ""]
SOURCES = [
    ("rz", "Rhein-Zeitung", 10),
    ("nr", "NR-Kurier", 5),
    ("wwk", "WW-Kurier", 5),
    ("blick", "Blick aktuell", 3),
    ("wochen", "Wochenspiegel", 2),
    ("portal", "Regio-Portal", 1),
    ("dpa", "Landesdienst", 0),
    ("agg", "News-Aggregator", 0),
]


@dataclass
class Item:
    label: str  # ground truth: items with the same label are one story
    source: str
    guid: str
    url: str
    title: str
    lead: str
    published: datetime
    categories: list[str] = field(default_factory=list)


def _story_text(rng: random.Random, town: str) -> tuple[str, list[str]]:
    actor = rng.choice(ACTORS)
    obj = rng.choice(OBJECTS)
    verb, noun = rng.choice(ACTIONS)
    title = f"{actor} {verb} {obj} in {town}"
    street = f"{rng.choice(STREETS)}{rng.choice(['straße', 'weg', 'gasse', 'allee', 'ring'])}"
    sentences = [
        f"Der {actor} in {town} {verb} {('die' if obj.endswith('e') else 'den')} {obj} "
        f"an der {street}.",
        f"{rng.choice(SPEAKERS)} {rng.choice(NAMES)} nannte {noun} "
        f"{rng.choice(ADJECTIVES)}, auch wegen {rng.choice(REASONS)}.",
    ]
    for template in rng.sample(EXTRAS, 3):
        sentences.append(
            template.format(
                month=rng.choice(MONTHS),
                n=rng.randint(3, 40),
                k=f"{rng.randint(2, 950)}.000",
                road=rng.choice(ROADS),
                weekday=rng.choice(WEEKDAYS),
                place2=rng.choice(["Bürgerhaus", "Rathaus", "Gemeindehaus", "Pfarrheim"]),
                name=rng.choice(NAMES),
                p=rng.choice([40, 50, 60, 65, 70, 75, 80, 85, 90]),
            )
        )
    return title, sentences


def _variant_url(rng: random.Random, original: str, own: str) -> str:
    """A copy links to the original (dressed up) or to its own page."""
    if rng.random() < 0.35:
        host_path = original.split("://", 1)[1]
        host, path = host_path.split("/", 1)
        host = rng.choice([host, "www." + host, "m." + host])
        scheme = rng.choice(["http", "https"])
        query = rng.choice(["", "?utm_source=rss&utm_medium=feed", "?fbclid=IwAR0x", "#comments"])
        return f"{scheme}://{host}/{path}{query}"
    return own


def _edit_title(rng: random.Random, title: str, town: str) -> str:
    roll = rng.random()
    if roll < 0.3:
        return title
    if roll < 0.55:
        return rng.choice(TITLE_EDITS).format(town=town) + title.replace(f" in {town}", "")
    if roll < 0.75:
        words = title.split()
        return " ".join([words[2], *words[3:], "–", words[0], words[1]])
    if roll < 0.9:
        return title + rng.choice([" | Aktuell", " (mit Video)", " – Update"])
    return title.replace(" in ", " im Ortsteil von ", 1)


def _edit_lead(rng: random.Random, sentences: list[str], town: str) -> str:
    text = " ".join(sentences)
    roll = rng.random()
    if roll < 0.3:
        lead = text
    elif roll < 0.65:
        # a teaser cut mid-text, ending in " …"
        cut = rng.randint(max(110, len(text) // 3), max(120, int(len(text) * 0.7)))
        lead = text[:cut].rsplit(" ", 1)[0] + " …"
    elif roll < 0.85:
        lead = " ".join(sentences[:-1])
    else:
        lead = text.replace(sentences[1], "")
    if rng.random() < 0.4:
        lead = f"{town}. {lead}"
    return lead


def syndicated(rng: random.Random, n_stories: int, start: datetime) -> Iterator[Item]:
    for s in range(n_stories):
        town = rng.choice(TOWNS)
        title, sentences = _story_text(rng, town)
        t0 = start + timedelta(minutes=rng.randint(0, 60 * 24 * 6))
        copies = rng.choices([1, 2, 3, 4, 5], weights=[30, 30, 20, 12, 8])[0]
        sources = rng.sample(SOURCES, copies)
        original = f"https://{sources[0][0]}.example.de/lokales/{town.lower()}/artikel-{s}.html"
        for i, (key, _name, _prio) in enumerate(sources):
            own = f"https://{key}.example.de/nachrichten/{s * 7 + i}-{rng.randint(1000, 9999)}"
            yield Item(
                label=f"s{s}",
                source=key,
                guid=f"{key}-{s}-{rng.getrandbits(40):x}",
                url=original if i == 0 else _variant_url(rng, original, own),
                title=title if i == 0 else _edit_title(rng, title, town),
                lead=" ".join(sentences) if i == 0 else _edit_lead(rng, sentences, town),
                published=t0 + timedelta(minutes=rng.randint(0, 60 * 30) if i else 0),
                categories=[rng.choice(["Lokales", "Regional", "Nachrichten"])],
            )


def hard_negatives(rng: random.Random, start: datetime) -> Iterator[Item]:
    """Template stories that differ only in figures, dates, match days or towns."""
    n = 0

    def item(label: str, key: str, title: str, lead: str, at: datetime) -> Item:
        nonlocal n
        n += 1
        return Item(
            label, key, f"{key}-neg-{n}", f"https://{key}.example.de/n/{n}", title, lead, at
        )

    value = 571.2
    for day in range(7):  # daily figures, two sources each
        prev, value = value, round(value - rng.uniform(0.5, 9.0), 1)
        v, p = f"{value:.1f}".replace(".", ","), f"{prev:.1f}".replace(".", ",")
        at = start + timedelta(days=day, hours=9)
        lead = (
            f"Kreis Neuwied. Die Sieben-Tage-Inzidenz im Kreis sinkt auf {v} (Vortag: {p}). "
            f"Das Gesundheitsamt meldet {rng.randint(20, 90)} neue Fälle und "
            f"{rng.randint(0, 4)} Todesfälle. Die Lage in den Kliniken bleibt angespannt."
        )
        for key in ("rz", "nr"):
            yield item(f"inzidenz-{day}", key, f"Inzidenz sinkt auf {v}", lead, at)
    for spieltag in range(12, 16):  # match days
        at = start + timedelta(days=(spieltag - 12) * 2, hours=20)
        goals = f"{rng.randint(0, 4)}:{rng.randint(0, 4)}"
        lead = (
            f"Am {spieltag}. Spieltag der Oberliga trennen sich die TuS Koblenz und der "
            f"FV Engers {goals}. Die Zuschauer sahen eine umkämpfte Partie mit vielen Chancen."
        )
        for key in ("rz", "blick"):
            yield item(f"spieltag-{spieltag}", key, f"Oberliga, {spieltag}. Spieltag", lead, at)
    for kw in range(10, 13):  # weekly columns
        at = start + timedelta(days=(kw - 10) * 3, hours=7)
        lead = (
            f"Die wichtigsten Termine der KW {kw} im Westerwald: Märkte, Konzerte, "
            "Vorträge und Sitzungen der Räte im Überblick."
        )
        for key in ("wwk", "wochen"):
            yield item(f"kw-{kw}", key, f"Termine der Woche: KW {kw}", lead, at)
    for i, town in enumerate(rng.sample(TOWNS, 8)):  # one police template, many towns
        at = start + timedelta(hours=10 + i * 3)
        lead = (
            f"{town}. Unbekannte sind in der Nacht in ein Gartenhaus eingebrochen und haben "
            "Werkzeug und einen Rasenmäher gestohlen. Die Polizei bittet um Hinweise."
        )
        for key in ("rz", "portal"):
            yield item(f"polizei-{town}", key, "Einbruch in Gartenhaus", lead, at)


def build_feed(source: str, items: list[Item]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>',
        f"<title>{source}</title><link>https://{source}.example.de/</link>",
        "<description>benchmark</description>",
    ]
    for it in items:
        cats = "".join(f"<category>{escape(c)}</category>" for c in it.categories)
        parts.append(
            f'<item><guid isPermaLink="false">{escape(it.guid)}</guid>'
            f"<link>{escape(it.url)}</link><title>{escape(it.title)}</title>"
            f"<description>{escape(it.lead)}</description>"
            f"<pubDate>{format_datetime(it.published)}</pubDate>{cats}</item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


@dataclass
class IngestStats:
    entries: int = 0
    parse_seconds: float = 0.0
    store_seconds: float = 0.0


def _prepare_sources(db: Database) -> dict[str, int]:
    with db.session() as session:
        ensure_default_categories(session, "Weitere Artikel")
        existing = {s.url for s in session.scalars(select(Source))}
        for key, name, prio in SOURCES:
            url = f"https://{key}.example.de/feed.xml"
            if url not in existing:
                session.add(Source(url=url, title=name, priority=prio))
    with db.session() as session:
        return {s.url: s.id for s in session.scalars(select(Source))}


def ingest(
    dbs: list[Database], items: list[Item], slot: timedelta = timedelta(hours=6)
) -> list[IngestStats]:
    """Poll every source once per time slot, as a scheduler would.

    With several databases each poll goes into all of them in turn, so a load
    change on a shared machine hits every database alike and the ratio holds.
    """
    stats = [IngestStats() for _ in dbs]
    sources = [_prepare_sources(db) for db in dbs]
    for db in dbs:
        db.hold_background_checkpoints()  # as the poller does
    try:
        _ingest_slots(dbs, items, slot, stats, sources)
    finally:
        for db in dbs:
            db.release_background_checkpoints()
    return stats


def _ingest_slots(
    dbs: list[Database],
    items: list[Item],
    slot: timedelta,
    stats: list[IngestStats],
    sources: list[dict[str, int]],
) -> None:
    by_slot: dict[tuple[int, str], list[Item]] = defaultdict(list)
    origin = min(i.published for i in items)
    for it in items:
        by_slot[(int((it.published - origin) / slot), it.source)].append(it)
    for (slot_no, key), batch in sorted(by_slot.items()):
        url = f"https://{key}.example.de/feed.xml"
        now = origin + slot * (slot_no + 1)
        body = build_feed(key, batch)
        for db, ids, stat in zip(dbs, sources, stats, strict=True):
            t0 = time.perf_counter()
            feed = process_feed(body, {"content-type": "application/rss+xml"}, url)
            prepare_feed(feed)  # as the poller's parse workers do
            t1 = time.perf_counter()
            with db.session() as session:
                source = session.get(Source, ids[url])
                assert source is not None
                store_feed(session, source, feed, now, retention_days=100_000)
            stat.parse_seconds += t1 - t0
            stat.store_seconds += time.perf_counter() - t1
            stat.entries += len(batch)


def pairwise(items: list[Item], predicted: dict[str, int]) -> tuple[float, float, int, int]:
    """Pairwise precision and recall of the clustering against the labels."""

    def pairs(counter: Counter[object]) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    truth = Counter(i.label for i in items)
    pred = Counter(predicted[i.guid] for i in items)
    both = Counter((i.label, predicted[i.guid]) for i in items)
    tp, pred_pairs, true_pairs = pairs(both), pairs(pred), pairs(truth)
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    return precision, recall, pred_pairs - tp, true_pairs - tp


def story_ids(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {
            guid: story_id
            for guid, story_id in session.execute(select(Entry.guid, Entry.story_id))
            if guid is not None and story_id is not None
        }


def seed(path: Path, count: int, rng: random.Random, before: datetime) -> None:
    """Bulk-insert *count* single-entry stories (entries, lsh_bands, search rows)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute(
        "INSERT INTO sources (url, title, site_url, priority, enabled, is_sample, "
        "created_at, next_poll_at, interval_seconds, error_count, unstable_guids) "
        "VALUES ('https://archiv.example.de/feed', 'Archiv', '', 0, 1, 0, "
        "'2020-01-01 00:00:00', '2020-01-01 00:00:00', 1800, 0, 0)"
    )
    source_id = conn.execute("SELECT max(id) FROM sources").fetchone()[0]
    span = timedelta(days=180).total_seconds()
    batch = 20_000
    for start in range(0, count, batch):
        stories, entries, bands, docs = [], [], [], []
        for n in range(start, min(count, start + batch)):
            town = rng.choice(TOWNS)
            title, sentences = _story_text(rng, town)
            lead = " ".join(sentences)
            at = (before - timedelta(seconds=rng.uniform(3600, span))).replace(tzinfo=None)
            stamp = at.isoformat(sep=" ")
            stories.append((n + 1, title, lead, stamp, stamp, stamp))
            entries.append(
                (
                    n + 1,
                    source_id,
                    f"guid:seed-{n}",
                    f"seed-{n}",
                    f"https://archiv.example.de/{n}",
                    f"archiv.example.de/{n}",
                    title,
                    lead,
                    stamp,
                    stamp,
                    n + 1,
                )
            )
            aware = at.replace(tzinfo=UTC)
            band_at = band_time(aware, None, aware)
            stamp_at, day = band_micros(band_at), band_day(band_at)
            for key in fingerprint(title, lead).band_keys:
                bands.append((key, n + 1, stamp_at, day))
            entries[-1] += (encode_signature(signature_of(title, lead)),)
            docs.append((n + 1, index_text(f"{title}\n{lead}\nArchiv {town}")))
        conn.executemany(
            "INSERT INTO stories (id, title, lead, category_reason, sort_at, updated_at, "
            "created_at, entry_count, source_count, sponsored, sponsored_reason, hidden, places, "
            "version) VALUES (?, ?, ?, '', ?, ?, ?, 1, 1, 0, '', 0, '[]', 1)",
            stories,
        )
        conn.executemany(
            "INSERT INTO entries (id, source_id, identity, guid, url, canonical_url, title, "
            "author, summary, content, lead, published_at, first_seen_at, feed_categories, "
            "enclosures, content_hash, story_id, story_pinned, sponsored, sponsored_reason, place, "
            "signature) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, '', '', '', ?, ?, ?, '[]', '[]', '', ?, 0, 0, '', '', ?)",
            entries,
        )
        conn.executemany(
            "INSERT INTO lsh_bands (band_key, entry_id, at, day) VALUES (?, ?, ?, ?)", bands
        )
        conn.executemany("INSERT INTO story_fts (rowid, body) VALUES (?, ?)", docs)
        conn.commit()
    # Seeding commits 20,000 documents at a time, and FTS5 keeps each as a large
    # segment on its lowest level, where the small segments of every later poll
    # would be merged into it. A poller's 40-document commits never build such an
    # index; one merged segment is what a long-running index converges to.
    conn.execute("INSERT INTO story_fts(story_fts) VALUES('optimize')")
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()


def _seeded(workdir: Path, size: int, items: list[Item], keep: bool) -> tuple[Path, float | None]:
    """A database holding *size* seeded entries, and the seconds seeding took (None: reused).

    With *keep* the seeded database is kept as ``seed-SIZE.sqlite3`` and later runs
    start from a copy of it (upgraded to the current schema), which saves the
    20-odd minutes of seeding a million entries.
    """
    path = workdir / f"seeded-{size}.sqlite3"
    kept = workdir / f"seed-{size}.sqlite3"
    for stale in workdir.glob(f"seeded-{size}.sqlite3*"):
        stale.unlink()
    if keep and kept.exists():
        shutil.copyfile(kept, path)
        db = Database(f"sqlite:///{path}")
        upgrade(db)
        db.dispose()
        os.sync()  # gigabytes of copied pages would otherwise be written back mid-run
        return path, None
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    t0 = time.perf_counter()
    seed(path, size, random.Random(size), min(i.published for i in items))
    seconds = time.perf_counter() - t0
    if keep:
        _checkpoint(path)  # the copy is of the main file alone
        shutil.copyfile(path, kept)
    os.sync()
    return path, seconds


def _checkpoint(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


@dataclass
class ScaleRun:
    size: int
    store_ms: list[float]  # per entry, one per repeat
    total: int
    seed_seconds: float | None


def scale_runs(
    workdir: Path, sizes: list[int], items: list[Item], keep: bool = False, repeat: int = 1
) -> list[ScaleRun]:
    """Store time per entry into each seeded size, *repeat* times from fresh copies.

    Every repeat ingests the corpus into all sizes side by side, poll by poll,
    so the ratio of one repeat compares like with like on a noisy machine.
    """
    runs: list[ScaleRun] = []
    for n in range(repeat):
        dbs = []
        for index, size in enumerate(sizes):
            path, seconds = _seeded(workdir, size, items, keep or repeat > 1)
            if n == 0:
                runs.append(ScaleRun(size, [], 0, seconds))
            dbs.append((index, Database(f"sqlite:///{path}")))
        stats = ingest([db for _, db in dbs], items)
        for (index, db), stat in zip(dbs, stats, strict=True):
            with db.session() as session:
                runs[index].total = session.scalar(select(func.count()).select_from(Entry)) or 0
            db.dispose()
            runs[index].store_ms.append(stat.store_seconds / stat.entries * 1000)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=2000, help="syndicated stories")
    parser.add_argument("--sizes", default="10000,1000000", help="entries stored beforehand")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--repeat", type=int, default=1, help="ingest runs into fresh copies of the seeds"
    )
    parser.add_argument(
        "--keep-seeds",
        action="store_true",
        help="keep the seeded databases in --workdir and start later runs from copies",
    )
    args = parser.parse_args()

    rng = random.Random(args.seed)
    items = list(syndicated(rng, args.stories, START)) + list(hard_negatives(rng, START))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="feedhub-dedup-"))
    workdir.mkdir(parents=True, exist_ok=True)

    for stale in workdir.glob("corpus.sqlite3*"):
        stale.unlink()  # a rerun in the same --workdir starts from an empty database
    db = Database(f"sqlite:///{workdir / 'corpus.sqlite3'}")
    upgrade(db)
    (stats,) = ingest([db], items)
    precision, recall, false_pairs, missed_pairs = pairwise(items, story_ids(db))
    db.dispose()

    sizes = [int(s) for s in args.sizes.split(",") if s]
    scale = scale_runs(workdir, sizes, items, args.keep_seeds, args.repeat)

    truth_stories = len({i.label for i in items})
    lines = [
        "### Story clustering (benchmarks/dedup.py)",
        "",
        f"Corpus: {len(items)} entries from {len(SOURCES)} sources, {truth_stories} true stories "
        f"({args.stories} syndicated stories with 1-5 copies, plus hard negatives); "
        f"seed {args.seed}.",
        "",
        "| metric | value | target |",
        "|---|---|---|",
        f"| pairwise precision | {precision:.4f} ({false_pairs} false pairs) | >= 0.995 |",
        f"| pairwise recall | {recall:.4f} ({missed_pairs} missed pairs) | >= 0.97 |",
        f"| parse time per entry | {stats.parse_seconds / stats.entries * 1000:.2f} ms | |",
        f"| store time per entry (empty database) | "
        f"{stats.store_seconds / stats.entries * 1000:.2f} ms | |",
    ]
    for run in scale:
        seeded = (
            "seeded database reused"
            if run.seed_seconds is None
            else f"seeding took {run.seed_seconds:.0f} s"
        )
        lines.append(
            f"| store time per entry, {run.size:,} entries stored | "
            f"{statistics.median(run.store_ms):.2f} ms (median of {len(run.store_ms)}; "
            f"db then {run.total:,} entries; {seeded}) | |"
        )
    if len(scale) >= 2:
        first, last = scale[0], scale[-1]
        ratios = [b / a for a, b in zip(first.store_ms, last.store_ms, strict=True)]
        each = ", ".join(f"{r:.2f}" for r in ratios)
        lines.append(
            f"| ratio {last.size:,} / {first.size:,} | {statistics.median(ratios):.2f} "
            f"(median; runs: {each}) | <= 1.5 |"
        )
    lines += [
        "",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}; "
        f"{datetime.now(UTC):%Y-%m-%d}.",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
