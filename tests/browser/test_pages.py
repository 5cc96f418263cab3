"""Every page of every role's menu, in Chromium at 360x740 and at 1280x800.

Each page must fit the screen's width, log no console error (a CSP violation is one), give every
field a visible label, show axe-core no serious or critical violation and offer tap targets of
24x24 CSS px (44x44 for the field flows' form controls).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from .conftest import VIEWPORTS, Browsing, Page, demo

PAGES = [
    pytest.param(page, viewport, id=f"{page.role}:{page.name}@{viewport}")
    for page in demo().pages
    for viewport in VIEWPORTS
]
# Collected in the page so a violation reads as a list; only these impacts fail a page.
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help}: ` +
      v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(', ') +
      (v.nodes.length > 4 ? ` and ${v.nodes.length - 4} more` : ''));
}"""


def problems_of(page: Page, result: dict[str, Any], axe: list[str], errors: list[str]) -> list[str]:
    """Turn the page's measurements into one line per problem."""
    problems = []
    if result["scrollWidth"] > result["innerWidth"]:
        problems.append(
            f"overflow: {result['scrollWidth']} px wide in {result['innerWidth']}: "
            + "; ".join(result["wide"])
        )
    problems += [f"console: {error}" for error in errors]
    problems += [f"no visible label: {name}" for name in result["unlabelled"]]
    problems += [f"axe: {violation}" for violation in axe]
    problems += [f"tap target: {target}" for target in result["small"]]
    # A table repeats its faults row after row: each once, with how many times.
    counted = Counter(problems).items()
    return [f"{line} (x{count})" if count > 1 else line for line, count in counted]


def expected_error(page: Page, error: str) -> bool:
    """Tell whether a console error is the browser reporting the status we asked for."""
    return page.status >= 400 and f"status of {page.status}" in error


@pytest.mark.parametrize(("page", "viewport"), PAGES)
def test_page_reads_well(
    browsing: Browsing, page: Page, viewport: str, axe_source: str, page_checks: str
) -> None:
    assert page.path, f"no link to {page.name} found on the pages {page.role} can reach"
    tab = browsing.tab(page.role)
    tab.page.set_viewport_size(VIEWPORTS[viewport])
    tab.errors.clear()

    response = tab.page.goto(page.path)
    assert response is not None and response.status == page.status, (
        f"{page.path} answered {response and response.status}"
    )
    result = tab.page.evaluate(page_checks, {"field": page.field})
    tab.page.evaluate(axe_source)
    axe = tab.page.evaluate(AXE_RUN)

    errors = [error for error in tab.errors if not expected_error(page, error)]
    problems = problems_of(page, result, axe, errors)
    assert not problems, f"{page.role} {page.path} at {viewport}:\n  " + "\n  ".join(problems)


def test_every_role_has_pages() -> None:
    roles = {page.role for page in demo().pages}
    counts = {role: sum(page.role == role for page in demo().pages) for role in roles}

    assert roles == {"admin", "coordinator", "warehouse", "kitchen", "donor", "visitor"}
    assert all(count >= 3 for count in counts.values()), counts


def test_a_refused_inline_style_is_caught_as_a_console_error(browsing: Browsing) -> None:
    # The console check above must see what the Content-Security-Policy refuses.
    tab = browsing.tab("visitor")
    tab.page.goto("/login")
    tab.errors.clear()

    tab.page.evaluate("document.head.insertAdjacentHTML('beforeend', '<style>p {}</style>')")
    tab.page.wait_for_timeout(100)

    assert any("Content Security Policy" in error for error in tab.errors), tab.errors
