"""The sheet as a pandas DataFrame, written to CSV or Parquet: the way into notebooks and BI tools."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.sheet import WORKSHEET_COLUMNS
from integrations.errors import SheetError
from integrations.local_files import can_write
from integrations.sheets import Sheet

_WRITERS = {".csv": "to_csv", ".parquet": "to_parquet"}


def worksheet_frame(sheet: Sheet, worksheet: str) -> pd.DataFrame:
    """The worksheet with typed ids and flags; the other cells stay text, as in the sheet."""
    if worksheet not in WORKSHEET_COLUMNS:
        raise SheetError(f"unknown worksheet '{worksheet}': use {' or '.join(WORKSHEET_COLUMNS)}")
    frame = pd.DataFrame(sheet.read_rows(worksheet), columns=list(WORKSHEET_COLUMNS[worksheet]), dtype="string")
    for column in ("Message ID", "Channel ID"):
        frame[column] = frame[column].astype("Int64")
    frame["AI Processed"] = frame["AI Processed"].str.upper().eq("TRUE").astype("boolean")
    return frame


def export_worksheet(sheet: Sheet, worksheet: str, path: Path) -> int:
    """Write the worksheet to path (.csv or .parquet, by suffix); returns the number of rows."""
    writer = _WRITERS.get(path.suffix.lower())
    if writer is None:
        raise SheetError(f"cannot export to '{path.name}': the file name must end in .csv or .parquet")
    if not can_write(path):
        raise SheetError(f"cannot write {path}: choose a writable location")
    frame = worksheet_frame(sheet, worksheet)
    path.parent.mkdir(parents=True, exist_ok=True)
    getattr(frame, writer)(path, index=False)
    return len(frame)
