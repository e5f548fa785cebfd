"""The importer on both engines: dates, kinds, EUC-KR files, and no partial import of a broken file."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import make_settings
from smartseoul.portal.content import importer, search, service
from smartseoul.portal.content.models import ContentAttachment, ContentDocument, ContentRedirect


def test_a_folder_is_imported_document_by_document(db: Session, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    site = service.create_site(db, slug="old-site", kind="facility", name_ko="옛 누리집", name_en="Old site")
    root = tmp_path / "old"
    (root / "notice").mkdir(parents=True)
    (root / "files").mkdir()
    (root / "files" / "map.png").write_bytes(b"\x89PNG fake")
    (root / "index.html").write_text(
        "<html><head><title>처음</title></head><body><p>환영합니다</p></body></html>"
    )
    korean = (
        "<html><head><title>휴관 안내</title></head><body><main><p>정기 휴관일입니다</p></main></body></html>"
    )
    (root / "notice" / "closed.htm").write_bytes(korean.encode("cp949"))
    os.utime(root / "notice" / "closed.htm", (1_500_000_000, 1_500_000_000))
    broken_with_file = (
        '<html><head><title>깨진 문서</title><meta name="date" content="어제"></head>'
        '<body><p>본문 <img src="../files/map.png" alt="지도"></p></body></html>'
    )
    (root / "notice" / "broken.html").write_text(broken_with_file)
    (root / "empty.html").write_text("<html><head><title>빈 문서</title></head><body> </body></html>")
    report = importer.import_folder(db, settings, site, root, actor="tester")
    assert {item["url"] for item in report.imported} == {
        "/sites/old-site/home",
        "/sites/old-site/notice/closed",
    }
    assert {item["file"]: item["error"] for item in report.failed}.keys() == {
        "notice/broken.html",
        "empty.html",
    }
    closed = service.published_document(db, site, "notice/closed")
    assert closed.kind == "notice"
    assert closed.published_at is not None
    assert closed.published_at.timestamp() == 1_500_000_000
    assert [d.id for d in search.search(db, "휴관")[1]] == [closed.id]
    # the broken document left nothing: no row, no attachment, no copied file, no redirect
    assert (
        db.scalar(
            select(func.count()).select_from(ContentDocument).where(ContentDocument.path.like("%broken%"))
        )
        == 0
    )
    assert db.scalar(select(func.count()).select_from(ContentAttachment)) == 0
    assert (
        not any(importer.attachment_dir(settings).glob("*"))
        if importer.attachment_dir(settings).exists()
        else True
    )
    redirects = db.scalars(select(ContentRedirect.old_path).where(ContentRedirect.site_id == site.id)).all()
    assert sorted(redirects) == ["index.html", "notice/closed.htm"]
    again = importer.import_folder(db, settings, site, root, actor="tester")
    assert again.imported == []
    assert any("exists already" in item["error"] for item in again.failed)
