"""Consent follows the Location Information Act: whose consent, in what form, and withdrawal."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from conftest import make_account
from smartseoul.core import auth
from smartseoul.tracking import consent, service
from smartseoul.tracking.models import Guardianship, ProtectedPerson

TODAY = date(2026, 11, 25)


def _person(
    db: Session, category: str = "child", born: date | None = None, cannot: bool = False
) -> ProtectedPerson:
    return service.add_person(
        db, display_name="김하늘", category=category, actor="test", birth_date=born, cannot_consent=cannot
    )


@pytest.mark.parametrize(
    ("category", "born", "cannot", "by", "written", "article"),
    [
        ("child", date(2019, 3, 1), False, "guardian", True, "Art. 26"),  # 7 years old
        ("child", date(2016, 1, 10), False, "guardian", False, "Art. 25"),  # 10 years old
        ("child", date(2012, 11, 26), False, "guardian", False, "Art. 25"),  # 13, birthday tomorrow
        ("low_income_child", date(2012, 11, 25), False, "person", False, "Art. 18"),  # 14 today
        ("dementia", date(1942, 5, 5), False, "guardian", True, "Art. 26"),
        ("intellectual_disability", date(1990, 1, 1), True, "guardian", True, "Art. 26"),
        ("intellectual_disability", date(1990, 1, 1), False, "person", False, "Art. 18"),
    ],
)
def test_whose_consent_is_needed(
    db: Session, category: str, born: date, cannot: bool, by: str, written: bool, article: str
) -> None:
    need = consent.requirement(_person(db, category, born, cannot), TODAY)
    assert (need.by, need.written, need.article) == (by, written, article)


def test_a_young_child_needs_a_written_guardian_consent(db: Session) -> None:
    child = _person(db, born=date(2019, 3, 1))
    parent = make_account(db, "parent.kim", ["guardian"])
    parent_user = auth.get_user(db, parent.username)
    assert parent_user is not None
    service.add_guardian(
        db, child, parent_user.id, relation="mother", actor="test", legal_representative=True
    )
    with pytest.raises(consent.ConsentError, match="written consent record"):
        consent.give(db, child, given_by="guardian", guardian_user_id=parent_user.id, recorded_by="test")
    with pytest.raises(consent.ConsentError, match="consent by the guardian"):
        consent.give(db, child, given_by="person", recorded_by="test", written_record="form 1")
    assert not consent.has_valid_consent(db, child)
    consent.give(
        db,
        child,
        given_by="guardian",
        guardian_user_id=parent_user.id,
        recorded_by="test",
        written_record="school office form 2026-117",
    )
    assert consent.has_valid_consent(db, child)


def test_under_14_the_guardian_must_be_the_legal_representative(db: Session) -> None:
    child = _person(db, born=date(2015, 6, 1))
    carer = make_account(db, "carer.lee", ["guardian"])
    carer_user = auth.get_user(db, carer.username)
    assert carer_user is not None
    service.add_guardian(db, child, carer_user.id, relation="carer", actor="test")
    with pytest.raises(consent.ConsentError, match="legal representative"):
        consent.give(db, child, given_by="guardian", guardian_user_id=carer_user.id, recorded_by="test")


def test_withdrawal_stops_at_once_and_is_audited(db: Session) -> None:
    adult = _person(db, "intellectual_disability", date(1990, 1, 1))
    consent.give(db, adult, given_by="person", recorded_by="test")
    assert consent.has_valid_consent(db, adult)
    assert consent.withdraw(db, adult, actor="test") == 1
    assert not consent.has_valid_consent(db, adult)


def test_many_persons_at_once_get_the_same_answer_as_one_by_one(db: Session) -> None:
    """What the device listeners use every half minute for every watch they hear."""
    own = _person(db, "intellectual_disability", date(1990, 1, 1))
    consent.give(db, own, given_by="person", recorded_by="test")
    withdrawn = _person(db, "intellectual_disability", date(1991, 2, 2))
    consent.give(db, withdrawn, given_by="person", recorded_by="test")
    consent.withdraw(db, withdrawn, actor="test")
    young = _person(db, born=date(2019, 3, 1))
    unlinked = _person(db, born=date(2016, 1, 10))
    nobody = _person(db, born=date(2017, 7, 7))
    parent = make_account(db, "parent.park", ["guardian"])
    parent_user = auth.get_user(db, parent.username)
    assert parent_user is not None
    for child in (young, unlinked):
        service.add_guardian(
            db, child, parent_user.id, relation="father", actor="test", legal_representative=True
        )
    consent.give(
        db, young, given_by="guardian", guardian_user_id=parent_user.id, recorded_by="t", written_record="f-1"
    )
    consent.give(db, unlinked, given_by="guardian", guardian_user_id=parent_user.id, recorded_by="t")
    db.execute(delete(Guardianship).where(Guardianship.person_id == unlinked.id))  # no longer their guardian
    persons = [own, withdrawn, young, unlinked, nobody]
    one_by_one = {p.id for p in persons if consent.has_valid_consent(db, p, TODAY)}
    assert consent.with_valid_consent(db, persons, TODAY) == one_by_one == {own.id, young.id}
