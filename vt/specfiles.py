"""The specification files shipped with vt (`specs/`), and one section of them for `vt spec`.

Error messages cite `specs/protocol.md` sections (`§5.3`); an installed vt carries the folder
as package data (`vt/specs/`), so `vt spec 5.3` prints what a message refers to.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["spec_text", "specs_dir"]

_HEADING = re.compile(r"^(#{1,6})\s+(\S+)")


def spec_text(section: str | None = None, file: str = "protocol.md") -> str:
    """The whole file under `specs/`, or the section whose heading starts with `section`
    (`5.3`, `§5.3` or `5`), up to the next heading of the same or a higher level."""
    path = specs_dir() / file
    if not path.is_file():
        raise LookupError(f"no specification file {file!r} in {specs_dir()}")
    text = path.read_text(encoding="utf-8")
    if not section:
        return text
    wanted = section.lstrip("§").rstrip(".")
    lines = text.splitlines()
    for start, line in enumerate(lines):
        found = _HEADING.match(line)
        if found and found.group(2).rstrip(".") == wanted:
            level = len(found.group(1))
            end = len(lines)
            for index in range(start + 1, len(lines)):
                other = _HEADING.match(lines[index])
                if other and len(other.group(1)) <= level:
                    end = index
                    break
            return f"{path} §{wanted}\n\n" + "\n".join(lines[start:end]).rstrip()
    raise LookupError(f"{path} has no section {section!r} (headings look like '5.3')")


def specs_dir() -> Path:
    """The `specs/` folder: shipped inside the package (`vt/specs`) or, in a checkout, at the
    repository root."""
    here = Path(__file__).resolve().parent  # vt/
    for candidate in (here / "specs", here.parent / "specs"):
        if (candidate / "scenario-format.md").is_file():
            return candidate
    raise FileNotFoundError(f"vt's specs/ folder is missing (looked in {here} and its parent)")
