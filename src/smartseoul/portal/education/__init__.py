"""Smart-device education: courses, sessions, enrolment with waitlists, attendance, certificates, targets."""
