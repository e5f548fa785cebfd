"""Demo documents: the demo citizen already holds a tax certificate (and a revoked old one), so
``/verify`` shows both outcomes from the first minute."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from smartseoul.core import auth
from smartseoul.services.certificates import service
from smartseoul.services.certificates.models import IssuedDocument
from smartseoul.services.identity.seed import DEMO_USERNAME

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from smartseoul.core.bootstrap import Platform


def seed_demo(platform: Platform, session: Session) -> None:
    user = auth.get_user(session, DEMO_USERNAME)
    if user is None or session.scalar(
        select(IssuedDocument.id).where(IssuedDocument.user_id == user.id).limit(1)
    ):
        return
    old = service.issue(
        session, platform.settings, user_id=user.id, kind_key="resident", purpose="이전 제출용", form={}
    )
    service.revoke(session, old.number, actor="seed", reason="주소 변경으로 재발급 (reissued after a move)")
    service.issue(
        session, platform.settings, user_id=user.id, kind_key="local_tax", purpose="금융기관 제출용", form={}
    )
