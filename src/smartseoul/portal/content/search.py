"""Full-text search across every site that handles Korean without a dictionary.

Korean runs words and particles together ("도서관에서", "구립도서관"), so whole-word indexes miss a
word inside a longer phrase. Hangul (and CJK) text is indexed as overlapping character *bigrams*,
bigrams across a single space included (so "서울 시청" is found by "서울시청" and the reverse);
other scripts as lower-cased words. A query matches a document when every one of its terms does;
a one-syllable query is a prefix over the bigrams. The index is a plain table
(``content_search_terms``) written in the publishing transaction, so SQLite and PostgreSQL give the
same answers to the same query, and the tokenizer runs offline.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, delete, func, insert, select
from sqlalchemy.orm import Session

from smartseoul.portal.content.models import ContentDocument, ContentRevision, ContentSearchTerm, ContentSite

TERM_MAX = 32
_TOKEN = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]+>")


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0xAC00 <= code <= 0xD7A3  # Hangul syllables
        or 0x1100 <= code <= 0x11FF  # Hangul jamo
        or 0x3130 <= code <= 0x318F  # compatibility jamo
        or 0x4E00 <= code <= 0x9FFF  # CJK ideographs (Hanja in names)
    )


def _script_runs(token: str) -> Iterable[tuple[bool, str]]:
    """Split a token like "2026서울Wifi" into runs of one script: (is_cjk, text)."""
    start = 0
    for index in range(1, len(token) + 1):
        if index == len(token) or _is_cjk(token[index]) != _is_cjk(token[start]):
            yield _is_cjk(token[start]), token[start:index]
            start = index


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def terms(text: str) -> set[str]:
    """The index terms of ``text``: Hangul bigrams (across single spaces too) and words."""
    found: set[str] = set()
    previous_cjk = ""
    position = 0
    plain = normalise(_TAG.sub(" ", text))
    for match in _TOKEN.finditer(plain):
        gap = plain[position : match.start()]
        position = match.end()
        if gap != " ":
            previous_cjk = ""
        runs = list(_script_runs(match.group()))
        for index, (cjk, run) in enumerate(runs):
            if not cjk:
                if len(run) > 1 or run.isdigit():
                    found.add(run[:TERM_MAX])
                previous_cjk = ""
                continue
            if previous_cjk and index == 0:
                found.add(previous_cjk + run[0])
            if len(run) == 1:
                found.add(run)
            found.update(run[i : i + 2] for i in range(len(run) - 1))
            previous_cjk = run[-1] if index == len(runs) - 1 else ""
    return found


@dataclass(frozen=True)
class Query:
    """What a reader asked for: exact terms, and one-syllable prefixes."""

    exact: frozenset[str]
    prefixes: frozenset[str]

    @property
    def empty(self) -> bool:
        return not self.exact and not self.prefixes


def parse_query(text: str) -> Query:
    """The query's terms. A single Hangul syllable is a prefix (it has no bigram of its own)."""
    exact: set[str] = set()
    prefixes: set[str] = set()
    for match in _TOKEN.finditer(normalise(text)):
        for cjk, run in _script_runs(match.group()):
            if cjk and len(run) == 1:
                prefixes.add(run)
            elif cjk:
                exact.update(run[i : i + 2] for i in range(len(run) - 1))
            elif len(run) > 1 or run.isdigit():
                exact.add(run[:TERM_MAX])
    return Query(frozenset(exact), frozenset(prefixes))


def index_document(session: Session, document_id: int, revision: ContentRevision | None) -> int:
    """Replace the document's rows in the index (none when it is not published); returns the count."""
    session.execute(delete(ContentSearchTerm).where(ContentSearchTerm.document_id == document_id))
    if revision is None:
        return 0
    words = terms(" ".join((revision.title, revision.summary, revision.body_html, revision.location)))
    if words:
        session.execute(
            insert(cast(Table, ContentSearchTerm.__table__)),
            [{"term": term, "document_id": document_id} for term in sorted(words)],
        )
    return len(words)


@dataclass(frozen=True)
class Filters:
    site: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _matching_ids(query: Query) -> Select[Any]:
    """Documents holding every exact term and, for each prefix, some term starting with it."""
    parts: list[Select[Any]] = []
    if query.exact:
        parts.append(
            select(ContentSearchTerm.document_id)
            .where(ContentSearchTerm.term.in_(sorted(query.exact)))
            .group_by(ContentSearchTerm.document_id)
            .having(func.count() == len(query.exact))
        )
    for prefix in sorted(query.prefixes):
        # A range, not LIKE: neither SQLite (case-insensitive LIKE) nor PostgreSQL (non-C collation)
        # can use the index for LIKE 'x%', and a full scan of the index table is what hurt.
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        parts.append(
            select(ContentSearchTerm.document_id)
            .where(ContentSearchTerm.term >= prefix, ContentSearchTerm.term < upper)
            .distinct()
        )
    selected = parts[0]
    for part in parts[1:]:
        selected = selected.where(ContentSearchTerm.document_id.in_(part))
    return selected


def search(
    session: Session, text: str, filters: Filters | None = None, *, limit: int = 20, offset: int = 0
) -> tuple[int, list[ContentDocument]]:
    """Published documents matching ``text`` (newest first) and how many match in all."""
    query = parse_query(text)
    if query.empty:
        return 0, []
    chosen = filters or Filters()
    ids = _matching_ids(query).subquery()
    base = (
        select(ContentDocument)
        .join(ids, ids.c.document_id == ContentDocument.id)
        .where(ContentDocument.published_revision_id.is_not(None))
    )
    if chosen.site:
        base = base.join(ContentSite, ContentSite.id == ContentDocument.site_id).where(
            ContentSite.slug == chosen.site
        )
    if chosen.kind:
        base = base.where(ContentDocument.kind == chosen.kind)
    if chosen.since:
        base = base.where(ContentDocument.published_at >= chosen.since)
    if chosen.until:
        base = base.where(ContentDocument.published_at < chosen.until)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = (
        base.order_by(ContentDocument.published_at.desc(), ContentDocument.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return total, list(session.scalars(page).unique())
