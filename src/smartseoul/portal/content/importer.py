"""Migrate an existing site from a folder of HTML files (``smartseoul portal import SITE FOLDER`` or
``POST /api/v1/content/sites/{slug}/import`` with a zip).

Per file: the title (``<title>``, ``og:title`` or the first ``<h1>``), the body (``<main>``,
``<article>`` or ``<body>``, sanitised), the dates (meta ``article:published_time``, ``date``,
``dcterms.created`` / ``dcterms.modified``, else the file's mtime), the kind (meta
``content-kind`` or the folder: news, notice, event), the attachments it links to (copied in, links
rewritten) and its old URLs (the file's own path and its ``<link rel=canonical>``), which then
answer 301 to the new address. Old Korean sites are often EUC-KR: a file that is not UTF-8 is read
as CP949. Each document is imported in a savepoint: a broken one is reported with its reason and
leaves nothing behind (no row, no copied file), the others go in.
"""

from __future__ import annotations

import io
import mimetypes
import os
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.settings import Settings
from smartseoul.portal.content import service
from smartseoul.portal.content.models import (
    DOCUMENT_KINDS,
    ContentAttachment,
    ContentDocument,
    ContentRedirect,
    ContentRevision,
    ContentSite,
)

HTML_SUFFIXES = (".html", ".htm")
KIND_FOLDERS = {"news": "news", "notice": "notice", "notices": "notice", "event": "event", "events": "event"}
DATE_META = ("article:published_time", "date", "dcterms.created", "dc.date", "pubdate")
MODIFIED_META = ("article:modified_time", "dcterms.modified", "last-modified")
MAX_ARCHIVE_FILES = 20_000


class ImportRefused(ValueError):
    """The archive itself is unusable (too big, unsafe names)."""


class BrokenDocument(ValueError):
    """One file cannot be imported; the reason goes into the report."""


@dataclass
class ImportReport:
    imported: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    redirects: int = 0
    attachments: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "failed": self.failed,
            "redirects": self.redirects,
            "attachments": self.attachments,
        }


def attachment_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "content" / "files"


def published_attachment(session: Session, stored_name: str) -> ContentAttachment | None:
    """The attachment, only when its document is published (drafts' files stay private)."""
    return session.scalar(
        select(ContentAttachment)
        .join(ContentDocument, ContentDocument.id == ContentAttachment.document_id)
        .where(
            ContentAttachment.stored_name == stored_name, ContentDocument.published_revision_id.is_not(None)
        )
    )


def unpack(data: bytes, target: Path, max_bytes: int) -> None:
    """Extract a zip safely: no absolute or ``..`` names, no file over ``max_bytes``."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > MAX_ARCHIVE_FILES:
            raise ImportRefused(f"more than {MAX_ARCHIVE_FILES} files")
        for member in members:
            name = PurePosixPath(member.filename)
            if name.is_absolute() or ".." in name.parts:
                raise ImportRefused(f"unsafe name in archive: {member.filename}")
            if member.is_dir():
                continue
            if member.file_size > max_bytes:
                raise ImportRefused(f"{member.filename} is larger than {max_bytes} bytes")
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(member))
            stamp = datetime(*member.date_time).timestamp()
            os.utime(destination, (stamp, stamp))


class _Head(HTMLParser):
    """Collects the title, meta tags, the canonical link, the first h1 and every href/src."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.h1 = ""
        self.meta: dict[str, str] = {}
        self.canonical = ""
        self.links: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "meta":
            name = (values.get("name") or values.get("property") or values.get("http-equiv") or "").lower()
            if name:
                self.meta.setdefault(name, values.get("content", ""))
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split():
            self.canonical = values.get("href", "")
        elif tag in ("title", "h1") and not getattr(self, tag):
            self._in = tag
        for attr in ("href", "src"):
            if values.get(attr) and tag in ("a", "img", "source", "embed"):
                self.links.append(values[attr])

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "h1":
            self.h1 += data


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BrokenDocument("neither UTF-8 nor EUC-KR/CP949 text")


def _inner(html: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}\b[^>]*>(.*)</{tag}\s*>", html, re.S | re.I)
    return match.group(1) if match else None


def _body(html: str) -> str:
    for tag in ("main", "article", "body"):
        inner = _inner(html, tag)
        if inner is not None:
            return inner
    raise BrokenDocument("no <body>, <main> or <article>")


def _date(meta: dict[str, str], names: tuple[str, ...], fallback: datetime) -> datetime:
    for name in names:
        value = meta.get(name, "").strip()
        if not value:
            continue
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise BrokenDocument(f"meta {name} is not an ISO date: {value!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return fallback


def new_path(relative: PurePosixPath) -> str:
    """``about/History.html`` -> ``about/history``; ``news/index.html`` -> ``news``."""
    parts = list(relative.with_suffix("").parts)
    if parts and parts[-1].lower() == "index":
        parts = parts[:-1] or ["home"]
    cleaned = "/".join(
        re.sub(r"[^a-z0-9가-힣._-]+", "-", part.lower()).strip("-") or "page" for part in parts
    )
    return service.check_path(cleaned)


def _kind(meta: dict[str, str], relative: PurePosixPath) -> str:
    declared = meta.get("content-kind", "").strip().lower()
    if declared:
        if declared not in DOCUMENT_KINDS:
            raise BrokenDocument(f"unknown content-kind {declared!r}")
        return declared
    for part in relative.parts[:-1]:
        if part.lower() in KIND_FOLDERS:
            return KIND_FOLDERS[part.lower()]
    return "page"


@dataclass
class _Parsed:
    relative: PurePosixPath
    path: str
    kind: str
    title: str
    body: str
    published: datetime
    modified: datetime
    old_paths: list[str]
    files: dict[str, Path]  # link as written in the page -> the file in the folder
    pages: dict[str, str]  # link to another imported page -> its new path


def parse_file(root: Path, file: Path, max_bytes: int) -> _Parsed:
    """Read one HTML file of the old site; raises BrokenDocument naming what is wrong."""
    relative = PurePosixPath(file.relative_to(root).as_posix())
    size = file.stat().st_size
    if size > max_bytes:
        raise BrokenDocument(f"larger than {max_bytes} bytes")
    html = _decode(file.read_bytes())
    head = _Head()
    head.feed(html)
    title = " ".join((head.meta.get("og:title") or head.title or head.h1).split())
    if not title:
        raise BrokenDocument("no title (<title>, og:title or <h1>)")
    body = _body(html)
    if not service.plain_text(body, 10) and "<img" not in body.lower():
        raise BrokenDocument("the body is empty")
    mtime = datetime.fromtimestamp(file.stat().st_mtime, tz=UTC)
    published = _date(head.meta, DATE_META, mtime)
    modified = _date(head.meta, MODIFIED_META, published)
    old_paths = [str(relative)]
    if head.canonical:
        old = urlsplit(head.canonical)
        old_path = old.path.lstrip("/") + (f"?{old.query}" if old.query else "")
        if old_path and old_path not in old_paths:
            old_paths.append(old_path)
    files: dict[str, Path] = {}
    pages: dict[str, str] = {}
    for link in head.links:
        target = _local_target(root, file, link)
        if target is None:
            continue
        if target.suffix.lower() in HTML_SUFFIXES:
            pages[link] = new_path(PurePosixPath(target.relative_to(root).as_posix()))
        else:
            files[link] = target
    return _Parsed(
        relative, new_path(relative), _kind(head.meta, relative), title[:300], body, published, modified,
        old_paths, files, pages,
    )  # fmt: skip


def _local_target(root: Path, file: Path, link: str) -> Path | None:
    """The file inside the import folder a relative link points at, if any."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    base = root if parts.path.startswith("/") else file.parent
    target = (base / unquote(parts.path.lstrip("/"))).resolve()
    if not target.is_relative_to(root.resolve()) or not target.is_file():
        return None
    return target


def _store_document(
    session: Session, settings: Settings, site: ContentSite, parsed: _Parsed, actor: str, copied: list[Path]
) -> ContentDocument:
    taken = session.scalar(
        select(ContentDocument.id).where(
            ContentDocument.site_id == site.id, ContentDocument.path == parsed.path
        )
    )
    if taken is not None:
        raise BrokenDocument(f"{site.slug}/{parsed.path} exists already")
    document = ContentDocument(
        site_id=site.id, path=parsed.path, kind=parsed.kind, state="draft", created_at=parsed.published
    )
    session.add(document)
    session.flush()
    body = parsed.body
    folder = attachment_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    for link, source in parsed.files.items():
        suffix = re.sub(r"[^a-z0-9]", "", source.suffix.lower())[:10] or "bin"
        stored = f"{uuid.uuid4().hex}.{suffix}"
        if source.stat().st_size > settings.content_import_max_bytes:
            raise BrokenDocument(
                f"attachment {link} is larger than {settings.content_import_max_bytes} bytes"
            )
        destination = folder / stored
        destination.write_bytes(source.read_bytes())
        copied.append(destination)
        media_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        session.add(
            ContentAttachment(
                document_id=document.id,
                filename=source.name[:255],
                stored_name=stored,
                media_type=media_type,
                size=source.stat().st_size,
            )
        )
        body = body.replace(f'"{link}"', f'"/api/v1/content/attachments/{stored}"')
    for link, path in parsed.pages.items():
        body = body.replace(f'"{link}"', f'"/sites/{site.slug}/{path}"')
    revision = ContentRevision(
        document_id=document.id,
        number=1,
        title=parsed.title,
        summary=service.plain_text(service.sanitise(body)),
        body_html=service.sanitise(body),
        author=actor,
        note=f"imported from {parsed.relative}",
        created_at=parsed.modified,
    )
    session.add(revision)
    session.flush()
    for old in parsed.old_paths:
        if old.strip("/") != parsed.path:
            session.add(
                ContentRedirect(site_id=site.id, old_path=old.strip("/")[:500], document_id=document.id)
            )
    document.published_at = parsed.published
    service.publish_revision(session, document, revision)
    document.updated_at = parsed.modified
    session.flush()
    return document


def import_folder(
    session: Session, settings: Settings, site: ContentSite, root: Path, *, actor: str
) -> ImportReport:
    """Import every HTML file under ``root`` into ``site``, each in its own savepoint."""
    report = ImportReport()
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in HTML_SUFFIXES)
    for file in files:
        name = file.relative_to(root).as_posix()
        copied: list[Path] = []
        savepoint = session.begin_nested()
        try:
            parsed = parse_file(root, file, settings.content_import_max_bytes)
            document = _store_document(session, settings, site, parsed, actor, copied)
            savepoint.commit()
        except (BrokenDocument, service.ContentError, OSError) as error:
            savepoint.rollback()
            for path in copied:
                path.unlink(missing_ok=True)
            report.failed.append({"file": name, "error": str(error)})
            continue
        report.imported.append(
            {"file": name, "url": f"/sites/{site.slug}/{document.path}", "kind": document.kind}
        )
        report.redirects += len([p for p in parsed.old_paths if p.strip("/") != parsed.path])
        report.attachments += len(parsed.files)
    audit.record(
        session,
        actor=actor,
        action="content.import",
        target=site.slug,
        details={"imported": len(report.imported), "failed": len(report.failed)},
    )
    return report
