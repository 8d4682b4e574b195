"""Users' code type-checks: mypy --strict runs over tests/typing/ and must report exactly
the errors marked there with an ``E:`` comment (and none on unmarked lines)."""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api as mypy_api

TYPING = Path(__file__).parent / "typing"
MARK = re.compile(r"#\s*E:\s*(.+?)\s*$")
REPORTED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<message>.*)$")


def _expected() -> dict[tuple[str, int], str]:
    expected = {}
    for path in sorted(TYPING.glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            mark = MARK.search(line)
            if mark:
                expected[(path.name, number)] = mark.group(1)
    return expected


def test_users_code_type_checks_with_the_marked_errors_only(tmp_path: Path) -> None:
    stdout, stderr, _status = mypy_api.run(
        [
            "--strict",
            "--no-error-summary",
            "--show-error-codes",
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            "--config-file",
            str(Path(__file__).parent.parent / "pyproject.toml"),
            str(TYPING),
        ]
    )
    assert not stderr, stderr
    reported: dict[tuple[str, int], list[str]] = {}
    for line in stdout.splitlines():
        match = REPORTED.match(line)
        if match:
            key = (Path(match["file"]).name, int(match["line"]))
            reported.setdefault(key, []).append(match["message"])
    expected = _expected()
    assert expected, "the typing folder marks no expected error"
    unexpected = {k: v for k, v in reported.items() if k not in expected}
    assert not unexpected, f"errors on unmarked lines: {unexpected}"
    for key, text in expected.items():
        messages = reported.get(key, [])
        assert any(text in m for m in messages), f"{key}: expected {text!r}, got {messages}"
