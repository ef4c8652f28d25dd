"""Writers for analysis results. Every writer is atomic: temporary file, then rename.

Submodules: :mod:`.xlsx` (the candidate workbook), :mod:`.figures` (PNG/SVG),
:mod:`.report` (self-contained HTML), :mod:`.i18n` (Spanish/English labels).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: Any) -> Any:
    """Prefix text a spreadsheet would evaluate as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success."""
    from ..publish import honour_umask, process_tag

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the pid in the name lets a later run remove it if this process is killed
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:60]}.tmp-{process_tag()}-")
    os.close(fd)
    try:
        yield Path(tmp)
        honour_umask(Path(tmp), like=path)  # mkstemp makes 0600; keep the umask's mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_frame(df: pd.DataFrame, path: str | Path, *, sheet: str = "data") -> Path:
    """Write a frame to ``.csv`` (UTF-8) or ``.xlsx``, escaping formula-like text."""
    path = Path(path)
    safe = df.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(escape_formula)
    if safe.index.dtype == object or pd.api.types.is_string_dtype(safe.index):
        safe.index = safe.index.map(escape_formula)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".xlsx":
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                safe.to_excel(xw, sheet_name=sheet[:31])
        elif path.suffix.lower() == ".csv":
            safe.to_csv(tmp, encoding="utf-8", float_format="%.10g", lineterminator="\n")
        else:
            raise ValueError(f"{path.name}: write .csv or .xlsx")
    return path


def _default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON-serialisable: {type(o).__name__}")


def write_json(obj: Any, path: str | Path, *, default: Callable[[Any], Any] = _default) -> Path:
    """Write ``obj`` as indented UTF-8 JSON with sorted keys, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(
            json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True, default=default) + "\n",
            encoding="utf-8",
        )
    return path
