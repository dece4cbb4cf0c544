"""Accessibility checks with axe-core (bundled offline by axe-playwright-python).

``assert_accessible(page)`` runs the WCAG 2.1 A and AA rules against the page as it is now and
fails with one line per violation and node: rule id, impact, CSS target and axe's summary.
"""

from __future__ import annotations

from typing import Any

#: The rules of WCAG 2.0 and 2.1, levels A and AA: what we promise (DESIGN.md).
WCAG21_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Any, *, context: str | None = None) -> list[dict[str, Any]]:
    """axe-core's violations on ``page`` (optionally inside the CSS selector ``context``)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {
        "runOnly": {"type": "tag", "values": WCAG21_AA_TAGS},
        "resultTypes": ["violations"],
    }
    results = Axe().run(page, context=context, options=options)
    return list(results.response["violations"])


def format_violations(violations: list[dict[str, Any]], *, where: str = "") -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"{where}{violation['id']} ({violation.get('impact') or 'no impact given'}): "
            f"{violation.get('help', '')} [{violation.get('helpUrl', '')}]"
        )
        for node in violation.get("nodes", []):
            target = " ".join(str(part) for part in node.get("target", []))
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {target}: {summary}")
    return "\n".join(lines)


def assert_accessible(page: Any, *, context: str | None = None) -> None:
    """Fail listing every WCAG 2.1 A/AA violation axe-core finds on ``page``."""
    violations = axe_violations(page, context=context)
    if violations:
        raise AssertionError(
            f"axe-core found {len(violations)} WCAG 2.1 A/AA violation(s) on {page.url}:\n"
            + format_violations(violations)
        )
