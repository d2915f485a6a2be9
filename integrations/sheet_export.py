"""The sheet as a pandas DataFrame, written to CSV or Parquet: the way into notebooks and BI tools."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.sheet import WORKSHEET_COLUMNS
from integrations.errors import SheetError
from integrations.local_files import can_write
from integrations.sheets import Sheet

_WRITERS = {".csv": "to_csv", ".parquet": "to_parquet"}


@dataclass(frozen=True)
class Exported:
    rows: int
    notes: list[str]  # columns left as text because a cell was edited by hand, and where


def worksheet_frame(sheet: Sheet, worksheet: str) -> tuple[pd.DataFrame, list[str]]:
    """The worksheet with typed ids and flags; the other cells stay text, as in the sheet. An id column with a
    cell that is not a whole number (edited by hand) stays text too, and a note says which row."""
    if worksheet not in WORKSHEET_COLUMNS:
        raise SheetError(f"unknown worksheet '{worksheet}': use {' or '.join(WORKSHEET_COLUMNS)}")
    frame = pd.DataFrame(sheet.read_rows(worksheet), columns=list(WORKSHEET_COLUMNS[worksheet]), dtype="string")
    notes = []
    for column in ("Message ID", "Channel ID"):
        not_whole = frame[column].notna() & ~frame[column].str.fullmatch(r"\d+").fillna(False)
        if not_whole.any():
            row = int(not_whole.idxmax())
            notes.append(
                f"{column} is exported as text: data row {row + 1} holds {frame[column][row]!r}, not a whole number"
            )
        else:
            frame[column] = frame[column].astype("Int64")
    frame["AI Processed"] = frame["AI Processed"].str.upper().eq("TRUE").astype("boolean")
    return frame, notes


def export_worksheet(sheet: Sheet, worksheet: str, path: Path) -> Exported:
    """Write the worksheet to path (.csv or .parquet, by suffix)."""
    writer = _WRITERS.get(path.suffix.lower())
    if writer is None:
        raise SheetError(f"cannot export to '{path.name}': the file name must end in .csv or .parquet")
    if not can_write(path):
        raise SheetError(f"cannot write {path}: choose a writable location")
    frame, notes = worksheet_frame(sheet, worksheet)
    path.parent.mkdir(parents=True, exist_ok=True)
    getattr(frame, writer)(path, index=False)
    return Exported(len(frame), notes)
