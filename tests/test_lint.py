"""`make lint` inside the suite, so CI (which runs `make test`) keeps the code clean:
ruff (lint and format) and mypy on the package. Skipped with a reason when the tools are
not installed (they are in the dev extra that `make test` installs)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return found


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "io_clusters", "tests", "scripts"],
        ["ruff", "format", "--check", "io_clusters", "tests", "scripts"],
        ["mypy", "io_clusters"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_lint(command):
    proc = subprocess.run(
        [_tool(command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
