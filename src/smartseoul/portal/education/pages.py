"""Pages of smart-device education.

``/learn`` is for the people the classes are for (older people, homemakers, disabled people):
large text, three plain steps on one page, works without JavaScript, errors named next to the
field. ``/console/education`` is the staff dashboard (targets by district and group, sessions,
enrolling someone who called by phone) and ``/console/education/sessions/{id}`` the class roster
(names and phones masked) with attendance and certificates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.city.models import District
from smartseoul.core import audit
from smartseoul.core.db import utcnow
from smartseoul.portal.education import service
from smartseoul.portal.education.models import GROUPS, EduCourse
from smartseoul.portal.education.router import SignUpIn, completed_event, sign_up
from smartseoul.web.deps import check_csrf, client_address, db_session, session_principal
from smartseoul.web.i18n import choose_language
from smartseoul.web.pages import page_principal, render, templates
from smartseoul.web.problems import Problem

router = APIRouter(include_in_schema=False)
WEEKDAYS_KO = "월화수목금토일"


def when(iso: str) -> str:
    """``2026-12-03T01:00:00+00:00`` -> ``2026-12-03 (목) 10:00``: the Seoul time a person plans by."""
    at = datetime.fromisoformat(iso).astimezone(service.SEOUL)
    return f"{at:%Y-%m-%d} ({WEEKDAYS_KO[at.weekday()]}) {at:%H:%M}"


templates.env.filters["education_when"] = when
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
DistrictQuery = Annotated[str | None, Query(pattern=r"^\d{5}$")]


def district_names(request: Request, session: Session) -> dict[str, str]:
    """District code -> name in the page's language, sorted by name."""
    lang = choose_language(request, request.app.state.platform.settings.language)
    rows = session.execute(select(District.code, District.name_ko, District.name_en)).all()
    return dict(sorted(((c, ko if lang == "ko" else en) for c, ko, en in rows), key=lambda item: item[1]))


def _found(work: Any, *args: Any) -> Any:
    """Call ``work``; an unknown session or enrolment is a 404 page, not a 500."""
    try:
        return work(*args)
    except service.NotFound as error:
        raise Problem(404, "Not found", str(error), "not_found") from None


def _progress(request: Request, session: Session) -> service.Progress:
    settings = request.app.state.platform.settings
    return service.progress(
        session, utcnow(), settings.education_target_per_year, settings.education_target_total
    )


def _learn(
    request: Request, session: Session, district: str | None, status: int = 200, **context: Any
) -> Response:
    principal = session_principal(request.app.state.platform, session, request)
    upcoming = service.upcoming_sessions(session, utcnow(), district, limit=60)
    return render(
        request,
        "education/learn.html",
        status=status,
        principal=principal,
        districts=district_names(request, session),
        district=district or "",
        sessions=[service.session_dict(s, c) for s, c in upcoming],
        groups=GROUPS,
        progress=_progress(request, session),
        **context,
    )


@router.get("/learn")
def learn(
    request: Request, session: Session = Depends(db_session), district: DistrictQuery = None
) -> Response:
    return _learn(request, session, district, form={}, errors={})


async def _form(request: Request) -> dict[str, str]:
    await check_csrf(request)
    return {key: str(value) for key, value in (await request.form()).items()}


def _errors_of(error: ValidationError) -> dict[str, str]:
    return {str(e["loc"][0]): "education_error_" + str(e["loc"][0]) for e in error.errors() if e["loc"]}


def _all_errors(form: dict[str, str], districts: list[str]) -> dict[str, str]:
    """Every field's problem at once, so a person fixes the form in one go, not one error a time."""
    errors = {}
    if not form.get("session_id", "").isdigit():
        errors["session_id"] = "education_error_session_id"
    if not " ".join(form.get("name", "").split()) or len(form.get("name", "")) > 64:
        errors["name"] = "education_error_name"
    try:
        service.normalise_phone(form.get("phone", ""))
    except service.EducationError:
        errors["phone"] = "education_error_phone"
    if form.get("target_group") not in GROUPS:
        errors["target_group"] = "education_error_target_group"
    if form.get("district_code") not in districts:
        errors["district_code"] = "education_error_district_code"
    if form.get("consent") != "yes":
        errors["consent"] = "education_error_consent"
    return errors


def _sign_up_in(form: dict[str, str]) -> SignUpIn:
    return SignUpIn(
        session_id=int(form.get("session_id") or 0),
        name=form.get("name", ""),
        phone=form.get("phone", ""),
        target_group=cast(Any, form.get("target_group", "")),
        district_code=form.get("district_code", ""),
        consent=form.get("consent") == "yes",
    )


@router.post("/learn")
async def learn_submit(request: Request, session: Session = Depends(db_session)) -> Response:
    """Sign up from the page; a refusal shows the form again with the field's message."""
    form = await _form(request)
    names = district_names(request, session)
    district = form.get("filter") if form.get("filter") in names else None  # the step-1 choice
    errors = _all_errors(form, list(names))
    if errors:
        return _learn(request, session, district, 422, form=form, errors=errors)
    try:
        body = _sign_up_in(form)
        found = sign_up(session, body, "web", f"self:{client_address(request)}")
    except ValidationError as error:
        session.rollback()
        return _learn(request, session, district, 422, form=form, errors=_errors_of(error))
    except service.EducationError as error:
        session.rollback()
        errors = {error.field or "session_id": f"education_error_{error.field or 'session_id'}"}
        if error.status == 409:
            errors = {"session_id": "education_error_already"}
        return _learn(request, session, district, 422, form=form, errors=errors)
    course_session = service.get_session(session, body.session_id)
    course = session.get(EduCourse, course_session.course_id)
    session.commit()
    return render(
        request,
        "education/done.html",
        principal=session_principal(request.app.state.platform, session, request),
        result=found,
        chosen=service.session_dict(course_session, course) if course else {},
    )


@router.get("/console/education")
def console(
    request: Request, session: Session = Depends(db_session), district: DistrictQuery = None
) -> Response:
    principal = page_principal(request, session, *service.READ_ROLES)
    upcoming = service.upcoming_sessions(session, utcnow(), district, limit=100)
    return render(
        request,
        "education/console.html",
        principal=principal,
        may_change=principal.has_any(*service.STAFF_ROLES),
        districts=district_names(request, session),
        district=district or "",
        sessions=[service.session_dict(s, c) for s, c in upcoming],
        groups=GROUPS,
        progress=_progress(request, session),
        form={},
        errors={},
        result=None,
    )


@router.post("/console/education/enrol")
async def console_enrol(request: Request, session: Session = Depends(db_session)) -> Response:
    """Staff enrol someone who called: the consent given on the phone is recorded with the staff name."""
    principal = page_principal(request, session, *service.STAFF_ROLES)
    form = await _form(request)
    errors = _all_errors(form, list(district_names(request, session)))
    result = None
    try:
        if errors:
            raise service.EducationError("form incomplete")
        result = sign_up(session, _sign_up_in(form), "phone", principal.name)
        audit.record(
            session,
            actor=principal.name,
            action="education.enrol_by_phone",
            target=f"education_enrolment:{result['enrolment_id']}",
            reason="consent recorded by phone",
            client=client_address(request),
        )
        session.commit()
    except ValidationError as error:
        session.rollback()
        errors = _errors_of(error)
    except service.EducationError as error:
        session.rollback()
        if not errors:
            errors = {error.field or "session_id": f"education_error_{error.field or 'session_id'}"}
        if error.status == 409:
            errors = {"session_id": "education_error_already"}
    upcoming = service.upcoming_sessions(session, utcnow(), None, limit=100)
    return render(
        request,
        "education/console.html",
        status=422 if errors else 200,
        principal=principal,
        may_change=True,
        districts=district_names(request, session),
        district="",
        sessions=[service.session_dict(s, c) for s, c in upcoming],
        groups=GROUPS,
        progress=_progress(request, session),
        form=form if errors else {},
        errors=errors,
        result=result,
    )


@router.get("/console/education/sessions/{session_id}")
def roster_page(session_id: Id, request: Request, session: Session = Depends(db_session)) -> Response:
    principal = page_principal(request, session, *service.READ_ROLES)
    course_session = _found(service.get_session, session, session_id)
    course = session.get(EduCourse, course_session.course_id)
    assert course is not None
    people = service.roster(session, session_id)
    audit.record(
        session,
        actor=principal.name,
        action="education.roster.read",
        target=f"education_session:{session_id}",
        reason="class roster (masked)",
        client=client_address(request),
    )
    session.commit()
    return render(
        request,
        "education/roster.html",
        principal=principal,
        may_change=principal.has_any(*service.STAFF_ROLES),
        chosen=service.session_dict(course_session, course),
        people=people,
        lessons=range(1, course.lessons + 1),
    )


@router.post("/console/education/enrolments/{enrolment_id}/attendance")
async def attendance_submit(
    enrolment_id: Id, request: Request, session: Session = Depends(db_session)
) -> Response:
    principal = page_principal(request, session, *service.STAFF_ROLES)
    form = await _form(request)
    before = _found(service.get_enrolment, session, enrolment_id).state
    try:
        lesson = int(form.get("lesson", ""))
        enrolment = service.mark_attendance(session, enrolment_id, lesson, principal.name)
    except (ValueError, service.EducationError):
        session.rollback()
        enrolment = service.get_enrolment(session, enrolment_id)
        return RedirectResponse(f"/console/education/sessions/{enrolment.session_id}?error=lesson", 303)
    event = (
        completed_event(session, enrolment.id)
        if before != "completed" and enrolment.state == "completed"
        else None
    )
    session_id = enrolment.session_id
    session.commit()
    if event is not None:
        await request.app.state.platform.bus.publish(event)
    return RedirectResponse(f"/console/education/sessions/{session_id}#e{enrolment_id}", 303)


@router.post("/console/education/enrolments/{enrolment_id}/cancel")
async def cancel_submit(
    enrolment_id: Id, request: Request, session: Session = Depends(db_session)
) -> Response:
    principal = page_principal(request, session, *service.STAFF_ROLES)
    await _form(request)
    enrolment = _found(service.get_enrolment, session, enrolment_id)
    try:
        service.cancel(session, enrolment_id)
        audit.record(
            session,
            actor=principal.name,
            action="education.cancel",
            target=f"education_enrolment:{enrolment_id}",
            client=client_address(request),
        )
        session.commit()
    except service.EducationError:
        session.rollback()
    return RedirectResponse(f"/console/education/sessions/{enrolment.session_id}", 303)
