"""The design travels with the code: what code and tests cite is inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITING = ("logistics", "tests", "bench")
CITED = re.compile(r"docs/[\w.-]+\.md")
OUTSIDE = re.compile(r"DESIGN\.md|FIELD_FACTS|\.\./shared/")


def _texts() -> dict[Path, str]:
    files = [path for folder in CITING for path in (ROOT / folder).rglob("*.py")]
    files += [ROOT / "README.md", ROOT / "BENCHMARKS.md", *(ROOT / "docs").glob("*.md")]
    return {path: path.read_text(encoding="utf-8") for path in files}


def test_every_document_cited_exists() -> None:
    cited = {
        (path.relative_to(ROOT), name)
        for path, text in _texts().items()
        for name in CITED.findall(text)
    }
    missing = sorted(
        str(where) + ": " + name for where, name in cited if not (ROOT / name).is_file()
    )

    assert cited, "nothing cites docs/ any more: is the pattern still right?"
    assert missing == []


def test_nothing_cites_notes_outside_the_repository() -> None:
    outside = sorted(
        str(path.relative_to(ROOT))
        for path, text in _texts().items()
        if path != Path(__file__).resolve() and OUTSIDE.search(text)
    )

    assert outside == []
