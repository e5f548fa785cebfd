"""Consent under the Korean Location Information Act (위치정보의 보호 및 이용 등에 관한 법률).

- Art. 18: the person's own consent to collect and use location data.
- Art. 25: under 14, the consent of a legal representative (법정대리인) is needed as well.
- Art. 26: children of 8 and under, people with dementia and people who cannot consent (severe
  disability) may be protected with the **written** consent of their guardian (보호의무자).
- Art. 24: consent can be withdrawn at any time; collection stops at once.
Emergency requests (Art. 29) are handled even without consent and are logged as such.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.core import audit
from smartseoul.core.db import utcnow
from smartseoul.tracking.models import Consent, Guardianship, ProtectedPerson

IN_CHUNK = 500  # ids per IN (...) list


class ConsentError(ValueError):
    """A consent that does not meet the rule for this person."""


@dataclass(frozen=True)
class Requirement:
    by: str  # "person" or "guardian"
    written: bool
    legal_representative: bool
    article: str


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def requirement(person: ProtectedPerson, today: date | None = None) -> Requirement:
    """Whose consent this person's location data needs, and in what form."""
    day = today or utcnow().date()
    age = age_on(person.birth_date, day) if person.birth_date else None
    if person.cannot_consent or person.category == "dementia" or (age is not None and age <= 8):
        return Requirement("guardian", written=True, legal_representative=False, article="Art. 26")
    if age is not None and age < 14:
        return Requirement("guardian", written=False, legal_representative=True, article="Art. 25")
    return Requirement("person", written=False, legal_representative=False, article="Art. 18")


def _meets(consent: Consent, need: Requirement, link: Guardianship | None) -> bool:
    """The rule itself, given the guardianship the consent names (None: there is none)."""
    if consent.withdrawn_at is not None or consent.given_by != need.by:
        return False
    if need.written and not consent.written_record.strip():
        return False
    if need.by == "guardian":
        return link is not None and (link.legal_representative or not need.legal_representative)
    return True


def _satisfies(session: Session, consent: Consent, need: Requirement) -> bool:
    link = None
    if need.by == "guardian":
        link = session.scalar(
            select(Guardianship).where(
                Guardianship.person_id == consent.person_id, Guardianship.user_id == consent.guardian_user_id
            )
        )
    return _meets(consent, need, link)


def has_valid_consent(session: Session, person: ProtectedPerson, today: date | None = None) -> bool:
    need = requirement(person, today)
    consents = session.scalars(
        select(Consent).where(Consent.person_id == person.id, Consent.withdrawn_at.is_(None))
    )
    return any(_satisfies(session, consent, need) for consent in consents)


def with_valid_consent(
    session: Session, persons: Iterable[ProtectedPerson], today: date | None = None
) -> set[int]:
    """The ids of the persons whose location data may be collected: :func:`has_valid_consent`
    for many at once, in two queries per 500 persons instead of two per person (the device
    listeners re-check every device they hear from every half minute)."""
    people = list(persons)
    consents: dict[int, list[Consent]] = defaultdict(list)
    links: dict[tuple[int, int | None], Guardianship] = {}
    for start in range(0, len(people), IN_CHUNK):
        ids = [person.id for person in people[start : start + IN_CHUNK]]
        for consent in session.scalars(
            select(Consent).where(Consent.person_id.in_(ids), Consent.withdrawn_at.is_(None))
        ):
            consents[consent.person_id].append(consent)
        for link in session.scalars(select(Guardianship).where(Guardianship.person_id.in_(ids))):
            links[(link.person_id, link.user_id)] = link
    valid = set()
    for person in people:
        need = requirement(person, today)
        if any(_meets(c, need, links.get((c.person_id, c.guardian_user_id))) for c in consents[person.id]):
            valid.add(person.id)
    return valid


def give(
    session: Session,
    person: ProtectedPerson,
    *,
    given_by: str,
    recorded_by: str,
    guardian_user_id: int | None = None,
    written_record: str = "",
    purposes: list[str] | None = None,
) -> Consent:
    """Record a consent; refuse one that cannot satisfy the rule for this person."""
    need = requirement(person)
    consent = Consent(
        person_id=person.id,
        given_by=given_by,
        guardian_user_id=guardian_user_id,
        written_record=written_record,
        purposes=purposes or ["protection"],
        recorded_by=recorded_by,
    )
    if not _satisfies(session, consent, need):
        detail = f"{need.article}: consent by the {need.by}"
        if need.legal_representative:
            detail += " who is the legal representative"
        if need.written:
            detail += ", with a written consent record"
        raise ConsentError(f"this person's location data needs {detail}")
    session.add(consent)
    session.flush()
    audit.record(
        session,
        actor=recorded_by,
        action="consent.give",
        target=f"person:{person.id}",
        details={"given_by": given_by, "written": bool(written_record), "article": need.article},
    )
    return consent


def withdraw(session: Session, person: ProtectedPerson, *, actor: str) -> int:
    """Withdraw every consent of the person; returns how many were active."""
    active = list(
        session.scalars(select(Consent).where(Consent.person_id == person.id, Consent.withdrawn_at.is_(None)))
    )
    for consent in active:
        consent.withdrawn_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="consent.withdraw",
        target=f"person:{person.id}",
        details={"withdrawn": len(active)},
    )
    return len(active)
