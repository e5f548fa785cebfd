"""The guardian's mobile pages: ``/app`` (the persons linked to the guardian) and one person's page.

The pages carry no location: the browser fetches it from the API with ``reason=guardian app``, so
every read from the phone is recorded as a provision like any other.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from smartseoul.tracking import service
from smartseoul.tracking.models import ProtectedPerson
from smartseoul.web.deps import db_session, record_denial
from smartseoul.web.pages import page_principal, render

router = APIRouter(include_in_schema=False)
APP_REASON = "guardian app"


@router.get("/app")
def app_home(request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, "guardian")
    return render(request, "app/index.html", principal=principal, reason=APP_REASON)


@router.get("/app/persons/{person_id}")
def app_person(
    request: Request, person_id: str = Path(max_length=12), session: Session = Depends(db_session)
) -> Response:
    principal = page_principal(request, session, "guardian")
    # A malformed id gets the same page as an unknown one, not a JSON validation error.
    number = int(person_id) if person_id.isdigit() else 0
    person = session.get(ProtectedPerson, number) if number > 0 else None
    if person is None or not service.may_read(session, principal, number):
        # the same answer for "nobody" and "not yours", and the attempt goes to the audit ledger
        record_denial(session, request, principal, f"guardian app page of person {person_id}")
        return render(request, "app/unknown.html", status=404, principal=principal)
    return render(request, "app/person.html", principal=principal, person=person, reason=APP_REASON)
