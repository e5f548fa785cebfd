"""HTTP API of smart-device education: courses, sessions and sign-up for everyone; rosters,
attendance, cancellations, certificates and people's details for staff (reads of names and phone
numbers are recorded in the audit ledger); the public summary of the plan's targets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartseoul.city.models import District
from smartseoul.core import audit
from smartseoul.core.auth import Principal
from smartseoul.core.bootstrap import Platform
from smartseoul.core.db import utcnow
from smartseoul.core.events import Event
from smartseoul.portal.education import service
from smartseoul.portal.education.certificate import certificate_pdf
from smartseoul.portal.education.events import CourseCompleted, EnrolmentMade
from smartseoul.portal.education.models import EduCourse, EduLearner
from smartseoul.web.deps import client_address, get_platform, optional_principal, require
from smartseoul.web.problems import Problem

router = APIRouter(prefix="/api/v1/education", tags=["education"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
T = TypeVar("T")


async def run_in_session(platform: Platform, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one committed transaction off the event loop; refusals become problems."""

    def run() -> T:
        with platform.db.session() as session:
            return work(session)

    try:
        return await asyncio.to_thread(run)
    except service.EducationError as error:
        extra = {"field": error.field} if error.field else {}
        title = "Not found" if error.status == 404 else "Refused"
        raise Problem(
            error.status, title, str(error), "not_found" if error.status == 404 else "invalid_input", **extra
        ) from None


def district_codes(session: Session) -> list[str]:
    return list(session.scalars(select(District.code)))


class SignUpIn(BaseModel):
    session_id: int = Field(ge=1, le=2**31 - 1)
    name: str = Field(min_length=1, max_length=64)
    phone: str = Field(min_length=9, max_length=20, examples=["010-1234-5678"])
    target_group: Literal["elderly", "homemaker", "disabled", "other"]
    district_code: str = Field(pattern=r"^\d{5}$")
    consent: bool = Field(
        description="Agreement that the city keeps the name and phone number for the class."
    )


def enrolled_event(session: Session, found: dict[str, Any], body: SignUpIn, channel: str) -> EnrolmentMade:
    return EnrolmentMade(
        enrolment_id=found["enrolment_id"],
        session_id=body.session_id,
        district_code=body.district_code,
        target_group=body.target_group,
        state=found["state"],
        channel=channel,
    )


def sign_up(session: Session, body: SignUpIn, channel: str, by: str) -> dict[str, Any]:
    """Shared by the API, the /learn page and staff enrolling someone by phone."""
    form = service.check_sign_up(
        service.SignUp(body.name, body.phone, body.target_group, body.district_code, body.consent, channel),
        district_codes(session),
    )
    learner = service.find_or_add_learner(session, form, by)
    enrolment = service.enrol(session, body.session_id, learner)
    return {
        "enrolment_id": enrolment.id,
        "state": enrolment.state,
        "waitlist_position": service.waitlist_position(session, enrolment),
    }


@router.get("/courses", summary="The courses on offer")
async def courses(request: Request) -> list[dict[str, Any]]:
    platform: Platform = request.app.state.platform
    return await run_in_session(
        platform,
        lambda session: [
            service.course_dict(c) for c in session.scalars(select(EduCourse).order_by(EduCourse.id))
        ],
    )


@router.get("/sessions", summary="Upcoming sessions with the seats left")
async def sessions(
    request: Request,
    district: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[dict[str, Any]]:
    platform: Platform = request.app.state.platform
    return await run_in_session(
        platform,
        lambda session: [
            service.session_dict(s, c)
            for s, c in service.upcoming_sessions(session, utcnow(), district, limit)
        ],
    )


@router.post("/enrolments", status_code=201, summary="Sign up (anyone) or enrol someone by phone (staff)")
async def post_enrolment(
    body: SignUpIn,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal | None = Depends(optional_principal),
) -> dict[str, Any]:
    staff = principal is not None and principal.has_any(*service.STAFF_ROLES)
    channel = "phone" if staff else "web"
    by = principal.name if principal else f"self:{client_address(request)}"

    def work(session: Session) -> tuple[dict[str, Any], Event]:
        found = sign_up(session, body, channel, by)
        if staff:
            audit.record(
                session,
                actor=by,
                action="education.enrol_by_phone",
                target=f"education_enrolment:{found['enrolment_id']}",
                reason="consent recorded by phone",
                client=client_address(request),
            )
        return found, enrolled_event(session, found, body, channel)

    found, event = await run_in_session(platform, work)
    await platform.bus.publish(event)
    return found


@router.get(
    "/sessions/{session_id}/roster", summary="The people of a session, names and phones masked (staff)"
)
async def session_roster(
    session_id: Id,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*service.READ_ROLES)),
) -> list[dict[str, Any]]:
    def work(session: Session) -> list[dict[str, Any]]:
        found = service.roster(session, session_id)
        audit.record(
            session,
            actor=principal.name,
            action="education.roster.read",
            target=f"education_session:{session_id}",
            reason="class roster (masked)",
            client=client_address(request),
        )
        return found

    return await run_in_session(platform, work)


@router.get("/learners/{learner_id}", summary="One learner in full: name and phone (staff, recorded read)")
async def learner_detail(
    learner_id: Id,
    request: Request,
    reason: Annotated[
        str, Query(min_length=3, max_length=200, description="Why the full details are needed.")
    ],
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*service.STAFF_ROLES)),
) -> dict[str, Any]:
    def work(session: Session) -> dict[str, Any]:
        learner = session.get(EduLearner, learner_id)
        if learner is None:
            raise service.NotFound(f"learner {learner_id}")
        audit.record(
            session,
            actor=principal.name,
            action="education.learner.read",
            target=f"education_learner:{learner_id}",
            reason=reason,
            client=client_address(request),
        )
        return {
            "id": learner.id,
            "name": learner.name,
            "phone": learner.phone,
            "target_group": learner.target_group,
            "district_code": learner.district_code,
            "channel": learner.channel,
            "consent_at": learner.consent_at.isoformat(),
            "consent_by": learner.consent_by,
        }

    return await run_in_session(platform, work)


@router.post(
    "/enrolments/{enrolment_id}/cancel", summary="Cancel; the seat goes to the first on the waitlist"
)
async def cancel_enrolment(
    enrolment_id: Id,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*service.STAFF_ROLES)),
) -> dict[str, Any]:
    def work(session: Session) -> dict[str, Any]:
        promoted = service.cancel(session, enrolment_id)
        audit.record(
            session,
            actor=principal.name,
            action="education.cancel",
            target=f"education_enrolment:{enrolment_id}",
            client=client_address(request),
        )
        return {"cancelled": enrolment_id, "promoted": promoted.id if promoted else None}

    return await run_in_session(platform, work)


class AttendanceIn(BaseModel):
    lesson: int = Field(ge=1, le=100)


@router.post("/enrolments/{enrolment_id}/attendance", summary="Mark presence at a lesson (staff)")
async def attendance(
    enrolment_id: Id,
    body: AttendanceIn,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*service.STAFF_ROLES)),
) -> dict[str, Any]:
    def work(session: Session) -> tuple[dict[str, Any], list[Event]]:
        before = service.get_enrolment(session, enrolment_id).state
        enrolment = service.mark_attendance(session, enrolment_id, body.lesson, principal.name)
        events: list[Event] = []
        if before != "completed" and enrolment.state == "completed":
            events.append(completed_event(session, enrolment.id))
        found = {
            "enrolment_id": enrolment.id,
            "state": enrolment.state,
            "attended": service.attended(session, enrolment_id),
            "certificate_no": enrolment.certificate_no,
        }
        return found, events

    found, events = await run_in_session(platform, work)
    for event in events:
        await platform.bus.publish(event)
    return found


def completed_event(session: Session, enrolment_id: int) -> CourseCompleted:
    enrolment = service.get_enrolment(session, enrolment_id)
    learner = session.get(EduLearner, enrolment.learner_id)
    course_session = service.get_session(session, enrolment.session_id)
    course = session.get(EduCourse, course_session.course_id)
    assert learner is not None
    assert course is not None
    return CourseCompleted(
        enrolment_id=enrolment.id,
        course=course.code,
        district_code=learner.district_code,
        target_group=learner.target_group,
        certificate_no=enrolment.certificate_no or "",
    )


def certificate_for(session: Session, enrolment_id: int) -> bytes:
    enrolment = service.get_enrolment(session, enrolment_id)
    if enrolment.state != "completed" or not enrolment.certificate_no or not enrolment.completed_at:
        raise service.EducationError("the course is not completed yet", "state", 409)
    learner = session.get(EduLearner, enrolment.learner_id)
    course_session = service.get_session(session, enrolment.session_id)
    course = session.get(EduCourse, course_session.course_id)
    assert learner is not None
    assert course is not None
    return certificate_pdf(
        number=enrolment.certificate_no,
        name=learner.name,
        course_ko=course.title_ko,
        course_en=course.title_en,
        venue_ko=course_session.venue_ko,
        completed_at=enrolment.completed_at,
        attended=service.attended(session, enrolment.id),
        lessons=course.lessons,
    )


@router.get("/enrolments/{enrolment_id}/certificate.pdf", summary="The completion certificate (staff)")
async def certificate(
    enrolment_id: Id,
    request: Request,
    platform: Platform = Depends(get_platform),
    principal: Principal = Depends(require(*service.STAFF_ROLES)),
) -> Response:
    def work(session: Session) -> bytes:
        pdf = certificate_for(session, enrolment_id)
        audit.record(
            session,
            actor=principal.name,
            action="education.certificate.read",
            target=f"education_enrolment:{enrolment_id}",
            client=client_address(request),
        )
        return pdf

    pdf = await run_in_session(platform, work)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{enrolment_id}.pdf"'},
    )


@router.get(
    "/progress", summary="Trained this year and in all against the plan's targets, by district and group"
)
async def progress(request: Request) -> dict[str, Any]:
    platform: Platform = request.app.state.platform
    settings = platform.settings
    found = await run_in_session(
        platform,
        lambda session: service.progress(
            session, utcnow(), settings.education_target_per_year, settings.education_target_total
        ),
    )
    return found.as_dict()
