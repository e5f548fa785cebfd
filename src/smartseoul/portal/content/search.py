"""Full-text search across every site that handles Korean without a dictionary.

Korean runs words and particles together ("도서관에서", "구립도서관"), so whole-word indexes miss a
word inside a longer phrase. Hangul (and CJK) text is indexed as overlapping character *bigrams*,
bigrams across a single space included (so "서울 시청" is found by "서울시청" and the reverse);
other scripts as lower-cased words. A query matches a document when every one of its terms does;
a one-syllable query is a prefix over the bigrams.

The tokenizer is ours (it runs offline and is the same on both engines); storing and matching
is the engines' own full-text index, written in the publishing transaction:

- SQLite: an FTS5 table ``content_search_fts(title, body)`` whose rowid is the document id. Its
  ``ascii`` tokenizer keeps every non-ASCII character inside a token, so our space-joined terms
  are taken verbatim; the query is ``"a" AND "b" AND "c"*`` and relevance is ``bm25`` (title x5).
- PostgreSQL: ``content_search_vectors(document_id, terms tsvector)`` with a GIN index. The
  vector and the query are tsvector/tsquery *literals* of quoted lexemes (no text-search parser
  or dictionary touches Hangul): ``'서울':1A '울시':1A,2`` (title terms weighted A) and
  ``'서울' & '울시' & '서':*``; relevance is ``ts_rank`` (weights A/D, length-normalised).

Neither table is a model (FTS5 shadow tables, a tsvector column only one engine has): migration
0017 creates them and ``include_name`` keeps Alembic's model comparison away from them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    String,
    bindparam,
    cast,
    column,
    delete,
    func,
    insert,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from smartseoul.portal.content.models import ContentDocument, ContentRevision, ContentSite

FTS_TABLE = "content_search_fts"
PG_TABLE = "content_search_vectors"
TITLE_WEIGHT = 5.0
Sort = Literal["date", "relevance"]
SORTS: tuple[Sort, ...] = ("date", "relevance")

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


# ---------------------------------------------------------------- the engines' tables


def is_engine_index(name: str) -> bool:
    """Whether ``name`` is one of the engine-only search tables (FTS5 and its shadow tables)."""
    return name in (PG_TABLE, FTS_TABLE) or name.startswith(FTS_TABLE + "_")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: leave the engine-only search tables out of model comparison.

    They are created by raw DDL in migration 0017 (a virtual table and a tsvector column have no
    portable model), so autogenerate would otherwise report them as tables to drop.
    """
    return not (type_ == "table" and name is not None and is_engine_index(name))


Executor = Session | Connection


def _dialect(executor: Executor) -> str:
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    return bind.dialect.name


@dataclass(frozen=True)
class Entry:
    """One document's index terms: those of its title (ranked higher) and of the rest."""

    document_id: int
    title: frozenset[str]
    body: frozenset[str]

    @property
    def size(self) -> int:
        return len(self.title | self.body)


def entry(document_id: int, title: str, *body_parts: str) -> Entry:
    return Entry(document_id, frozenset(terms(title)), frozenset(terms(" ".join(body_parts))))


def revision_entry(document_id: int, revision: ContentRevision) -> Entry:
    return entry(document_id, revision.title, revision.summary, revision.body_html, revision.location)


def _quoted(term: str, quote: str) -> str:
    """A term as a quoted literal; terms are word characters, the escaping is belt and braces."""
    if quote == "'":
        return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"
    return '"' + term.replace('"', '""') + '"'


def tsvector_literal(item: Entry) -> str:
    """``'서울':1A,2 '시청':2``: title terms at position 1 weight A, the others at position 2."""
    lexemes = []
    for term in sorted(item.title | item.body):
        positions = (["1A"] if term in item.title else []) + (["2"] if term in item.body else [])
        lexemes.append(_quoted(term, "'") + ":" + ",".join(positions))
    return " ".join(lexemes)


def _fts_table() -> Any:
    return table(FTS_TABLE, column("rowid"), column("title"), column("body"))


def _pg_table() -> Any:
    return table(PG_TABLE, column("document_id"), column("terms"))


def store(executor: Executor, entries: Sequence[Entry]) -> int:
    """Add index rows for ``entries`` (documents not in the index yet); returns the term count."""
    rows = [item for item in entries if item.size]
    if not rows:
        return 0
    if _dialect(executor) == "postgresql":
        vectors = _pg_table()
        statement = insert(vectors).values(
            document_id=bindparam("id"), terms=cast(bindparam("vector", type_=String), TSVECTOR)
        )
        executor.execute(statement, [{"id": i.document_id, "vector": tsvector_literal(i)} for i in rows])
    else:
        executor.execute(
            insert(_fts_table()),
            [
                {"rowid": i.document_id, "title": " ".join(sorted(i.title)), "body": " ".join(sorted(i.body))}
                for i in rows
            ],
        )
    return sum(item.size for item in rows)


def forget(executor: Executor, document_id: int) -> None:
    """Remove a document from the index."""
    if _dialect(executor) == "postgresql":
        vectors = _pg_table()
        executor.execute(delete(vectors).where(vectors.c.document_id == document_id))
    else:
        fts = _fts_table()
        executor.execute(delete(fts).where(fts.c.rowid == document_id))


def index_document(session: Session, document_id: int, revision: ContentRevision | None) -> int:
    """Replace the document's index entry (none when it is not published); returns its term count."""
    forget(session, document_id)
    if revision is None:
        return 0
    return store(session, [revision_entry(document_id, revision)])


# ---------------------------------------------------------------- querying


@dataclass(frozen=True)
class Filters:
    site: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def match_expression(query: Query) -> str:
    """The FTS5 MATCH text: every exact term quoted, every prefix quoted and starred."""
    parts = [_quoted(term, '"') for term in sorted(query.exact)]
    parts += [_quoted(prefix, '"') + "*" for prefix in sorted(query.prefixes)]
    return " AND ".join(parts)


def tsquery_literal(query: Query, operator: str = "&") -> str:
    """The tsquery literal: ``'서울' & '울시' & '서':*`` (quoted, so taken verbatim)."""
    parts = [_quoted(term, "'") for term in sorted(query.exact)]
    parts += [_quoted(prefix, "'") + ":*" for prefix in sorted(query.prefixes)]
    return f" {operator} ".join(parts)


def _matching(session: Session, query: Query) -> tuple[Any, ColumnElement[Any], ColumnElement[Any]]:
    """(the index table, its document id column, the relevance: smaller is better) for ``query``."""
    if _dialect(session) == "postgresql":
        vectors = _pg_table()
        tsquery = cast(bindparam("tsq", tsquery_literal(query), type_=String), TSQUERY)
        # Ranked with the terms OR-ed: ts_rank scores an AND query by the distance between the
        # terms' positions, which our vectors do not have (every title term sits at position 1);
        # for OR it averages each term's best weight (title A = 1.0, the rest D = 0.1). Divided by
        # 1 + log(number of terms) (normalisation 1), so a long text does not win by its size.
        ranking = cast(bindparam("tsq_rank", tsquery_literal(query, "|"), type_=String), TSQUERY)
        rank = -func.ts_rank(vectors.c.terms, ranking, 1)
        matched = select(vectors.c.document_id, rank.label("rank"))
        matched = matched.where(vectors.c.terms.op("@@")(tsquery))
    else:
        fts = _fts_table()
        target: ColumnElement[Any] = literal_column(FTS_TABLE)
        matched = select(
            fts.c.rowid.label("document_id"), func.bm25(target, TITLE_WEIGHT, 1.0).label("rank")
        ).where(target.op("MATCH")(match_expression(query)))
    found = matched.subquery("matched")
    return found, found.c.document_id, found.c.rank


def search(
    session: Session,
    text: str,
    filters: Filters | None = None,
    *,
    limit: int = 20,
    offset: int = 0,
    sort: Sort = "date",
) -> tuple[int, list[ContentDocument]]:
    """Published documents matching ``text`` and how many match in all.

    ``sort="date"`` (the default) lists the newest first; ``"relevance"`` the best match first
    (title matches and rarer terms weigh more), newest first among equals.
    """
    query = parse_query(text)
    if query.empty:
        return 0, []
    chosen = filters or Filters()
    found, document_id, rank = _matching(session, query)
    base = (
        select(ContentDocument)
        .join(found, document_id == ContentDocument.id)
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
    if not total:
        return 0, []
    newest = (ContentDocument.published_at.desc(), ContentDocument.id.desc())
    ordered = base.order_by(rank, *newest) if sort == "relevance" else base.order_by(*newest)
    return total, list(session.scalars(ordered.limit(limit).offset(offset)).unique())
