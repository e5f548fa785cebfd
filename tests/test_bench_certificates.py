"""Smoke test of ``smartseoul bench certificates --quick``: it runs and reports sane figures."""

from __future__ import annotations

from tests.test_bench import assert_positive, figures_of

KEYS = (
    "render_per_s",
    "sealed_per_s",
    "ratio_sealed_over_render",
    "check_per_s",
    "login_checks_per_s",
    "ecdsa_verify_per_s",
    "ratio_login_over_ecdsa",
)


def test_certificates_figures() -> None:
    figures = figures_of("certificates")
    assert_positive(figures, KEYS)
    # sealing includes drawing, a login check includes an ECDSA verification: neither can be faster
    assert figures["ratio_sealed_over_render"] < 1.0
    assert figures["ratio_login_over_ecdsa"] < 1.0
