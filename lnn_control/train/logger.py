"""One logger for every scalar: a CSV file always, TensorBoard too where it is installed.

Keys are namespaced (``train/loss``, ``val/loss``, ``eval/completion``), as in SB3. The CSV is
wide (one column per key); when a new key appears, the file is rewritten with the larger header,
so it always opens cleanly in a spreadsheet or pandas. Resuming reloads the rows already written.
"""
from __future__ import annotations

import csv
import logging
import os
from pathlib import Path
from typing import Any

_LOG = logging.getLogger(__name__)


class Logger:
    """Collects scalars with ``record`` and writes one row per ``dump(step)``."""

    def __init__(self, folder: str | Path, *, tensorboard: bool = True) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.csv_path = self.folder / 'progress.csv'
        self._pending: dict[str, float] = {}
        self._rows: list[dict[str, Any]] = []
        self._columns: list[str] = ['step']
        if self.csv_path.is_file():
            with open(self.csv_path, newline='') as f:
                reader = csv.DictReader(f)
                self._columns = list(reader.fieldnames or ['step'])
                self._rows = list(reader)
        self._tb = self._open_tensorboard() if tensorboard else None

    def _open_tensorboard(self) -> Any:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional: the CSV holds everything
            _LOG.debug('tensorboard not installed; logging to CSV only')
            return None
        return SummaryWriter(str(self.folder / 'tb'))

    def record(self, key: str, value: float) -> None:
        self._pending[key] = float(value)

    def truncate(self, step: int) -> None:
        """Drop rows after ``step`` (a resumed run repeats the epoch it lost)."""
        self._rows = [r for r in self._rows if int(float(r['step'])) <= step]
        self._rewrite()

    def dump(self, step: int) -> dict[str, float]:
        """Write the pending scalars as one row and return them."""
        values, self._pending = self._pending, {}
        if not values:
            return values
        row = {'step': step, **values}
        self._rows.append(row)
        new = [k for k in values if k not in self._columns]
        if new:
            self._columns += new
            self._rewrite()
        else:
            with open(self.csv_path, 'a', newline='') as f:
                csv.DictWriter(f, self._columns).writerow(row)
        if self._tb is not None:
            for key, value in values.items():
                self._tb.add_scalar(key, value, step)
            self._tb.flush()
        return values

    def _rewrite(self) -> None:
        tmp = self.csv_path.with_suffix('.csv.tmp')
        with open(tmp, 'w', newline='') as f:
            writer = csv.DictWriter(f, self._columns)
            writer.writeheader()
            writer.writerows(self._rows)
        os.replace(tmp, self.csv_path)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
