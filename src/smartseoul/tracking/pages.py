"""The guardian's mobile pages: ``/app`` (the persons linked to the guardian) and one person's page.

The pages carry no location: the browser fetches it from the API with ``reason=guardian app``, so
every read from the phone is recorded as a provision like any other.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from smartseoul.tracking import card, service
from smartseoul.tracking.models import ProtectedPerson
from smartseoul.web.deps import db_session, record_denial
from smartseoul.web.i18n import choose_language, translate
from smartseoul.web.pages import page_principal, render

router = APIRouter(include_in_schema=False)
APP_REASON = "guardian app"


@router.get("/app/manifest.webmanifest")
def app_manifest(request: Request) -> Response:
    """The guardian app as an installable web app (home-screen icon, its own window)."""
    lang = choose_language(request, request.app.state.platform.settings.language)
    manifest = {
        "name": translate(lang, "app_title") + " · " + translate(lang, "app_name"),
        "short_name": translate(lang, "app_title"),
        "lang": lang,
        "start_url": "/app",
        "scope": "/app",
        "display": "standalone",
        "background_color": "#f9fafb",
        "theme_color": "#0b3d91",
        "icons": [
            {"src": "/static/icons/app-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/icons/app-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": "/static/icons/app.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
        ],
    }
    return JSONResponse(manifest, media_type="application/manifest+json")


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


@router.get("/console/persons/{person_id}")
def console_person(
    request: Request,
    person_id: str = Path(max_length=12),
    reason: str = Query("", max_length=500),
    session: Session = Depends(db_session),
) -> Response:
    """The control room's card of a person. Opening it asks why first: the reason goes with every
    read the card makes, into the person's access ledger."""
    principal = page_principal(request, session, *card.CARD_ROLES)
    number = int(person_id) if person_id.isdigit() else 0
    person = session.get(ProtectedPerson, number) if number > 0 else None
    if person is None:
        record_denial(session, request, principal, f"person card {person_id}")
        return render(request, "app/unknown.html", status=404, principal=principal)
    reason = reason.strip()
    if len(reason) < 3:
        return render(request, "tracking/person_reason.html", principal=principal, person_id=number)
    facts = card.person_facts(session, principal, person, reason)
    session.commit()
    return render(request, "tracking/person_card.html", principal=principal, facts=facts, reason=reason)
