"""One exit-code table: io_clusters.errors.EXIT_MEANINGS, shown by --help and the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from io_clusters import errors, update
from io_clusters.cli import exit_code_help, main

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_table() -> dict[int, str]:
    """The README's `| code | meaning |` table, row by row."""
    text = README.read_text(encoding="utf-8")
    start = text.index("| code | meaning |\n")
    rows: dict[int, str] = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        match = re.fullmatch(r"\| (\d+) \| (.+) \|", line)
        assert match, f"README exit-code row is not `| code | meaning |`: {line!r}"
        code = int(match.group(1))
        assert code not in rows, f"README lists exit code {code} twice"
        rows[code] = match.group(2)
    return rows


def _words(text: str) -> str:
    return " ".join(text.split())


def test_readme_table_is_errors_table():
    assert _readme_table() == errors.EXIT_MEANINGS


def test_readme_parser_sees_a_changed_meaning():
    # the comparison above can fail: a retyped meaning is a difference
    changed = dict(errors.EXIT_MEANINGS)
    changed[errors.EXIT_LOCKED] = "update: locked"
    assert _readme_table() != changed


def test_help_lists_every_code_and_meaning(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    shown = _words(capsys.readouterr().out)
    assert _words(exit_code_help()) in shown
    for code, meaning in errors.EXIT_MEANINGS.items():
        assert f"{code} {_words(meaning)}" in shown, code


def test_help_table_lines_fit_and_start_with_their_code():
    lines = exit_code_help().splitlines()
    assert lines[0] == "exit codes:"
    assert max(len(line) for line in lines) <= 79
    codes = [int(line.split()[0]) for line in lines[1:] if line[2] != " "]
    assert codes == list(errors.EXIT_MEANINGS)


def test_every_mapped_code_has_a_meaning():
    # codes of the error classes, of update and of the CLI itself all come from the table
    mapped = {code for _cls, code in errors.EXIT_CODES}
    assert mapped <= set(errors.EXIT_MEANINGS)
    assert update.EXIT_SOME_FAILED == errors.EXIT_SOME_FAILED == 9
    assert update.EXIT_LOCKED == errors.EXIT_LOCKED == 75
    assert sorted(errors.EXIT_MEANINGS) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 70, 75, 130, 143]
