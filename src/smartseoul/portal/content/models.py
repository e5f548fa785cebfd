"""Tables of the content domain: sites, their navigation, documents with revisions, attachments,
and redirects from old URLs. The search index is no model: it is each engine's own full-text
table (FTS5 on SQLite, a tsvector with a GIN index on PostgreSQL), see ``search``.

A document's public face is its *published revision*; editors work on newer revisions (draft ->
review -> published) while the published one stays online, so an edit never takes a page down.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smartseoul.core.db import Base, UTCDateTime, utcnow

SITE_KINDS = ("city", "district", "department", "facility")
DOCUMENT_KINDS = ("page", "news", "notice", "event", "service")
STATES = ("draft", "review", "published")


class ContentSite(Base):
    """One of the city's sites (the city portal, a district office, a department, a facility)."""

    __tablename__ = "content_sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name_ko: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    district_code: Mapped[str | None] = mapped_column(String(5), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    nav: Mapped[list[ContentNavItem]] = relationship(
        back_populates="site",
        cascade="all, delete-orphan",
        order_by="ContentNavItem.position",
    )


class ContentNavItem(Base):
    """A link in a site's own navigation bar."""

    __tablename__ = "content_nav_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("content_sites.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    label_ko: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(300))
    site: Mapped[ContentSite] = relationship(back_populates="nav")


class ContentDocument(Base):
    """A page, news item, notice, event or service description at ``/sites/{slug}/{path}``."""

    __tablename__ = "content_documents"
    __table_args__ = (
        UniqueConstraint("site_id", "path"),
        Index("ix_content_documents_listing", "published_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("content_sites.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    # No foreign key: documents and revisions would point at each other (a cycle SQLite cannot alter).
    published_revision_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    site: Mapped[ContentSite] = relationship(lazy="joined")
    published: Mapped[ContentRevision | None] = relationship(
        primaryjoin="foreign(ContentDocument.published_revision_id) == ContentRevision.id",
        lazy="joined",
        viewonly=True,
    )


class ContentRevision(Base):
    """One saved version of a document; the history an editor lists, compares and restores."""

    __tablename__ = "content_revisions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("content_documents.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    event_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    event_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    location: Mapped[str] = mapped_column(String(300), default="")
    author: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContentAttachment(Base):
    """A file that belongs to a document (copied in by the importer or uploaded)."""

    __tablename__ = "content_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("content_documents.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)


class ContentRedirect(Base):
    """An old URL of a migrated site, answered with a 301 to the document's new address."""

    __tablename__ = "content_redirects"
    __table_args__ = (UniqueConstraint("site_id", "old_path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("content_sites.id", ondelete="CASCADE"))
    old_path: Mapped[str] = mapped_column(String(500))
    document_id: Mapped[int] = mapped_column(
        ForeignKey("content_documents.id", ondelete="CASCADE"), index=True
    )
