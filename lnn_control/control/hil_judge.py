"""Pass/fail of a HIL run: task metrics and loop timing against thresholds from YAML."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
import math
from pathlib import Path
from typing import Any

from lnn_control.control.config import config_from_dict
from lnn_control.control.limits import check_range
import yaml


@dataclass(frozen=True)
class Thresholds:
    """What a HIL run must achieve (``config/hil.yaml``, one block per vehicle).

    Attributes:
        min_lap_fraction: Laps (or successful flights) done / asked.
        max_departures_per_km: Rover lane departures per km, worst episode.
        max_rms_lateral_error: Rover RMS lateral error, m, worst episode.
        rate_tolerance: Allowed relative deviation of the achieved control rate.
        max_latency_p99_ms: Image stamp -> command publish, 99th percentile.
        max_deadline_misses: Ticks whose work overran the period.
        max_missed_ticks: Ticks skipped by the timer.
    """

    min_lap_fraction: float = 1.0
    max_departures_per_km: float = 0.0
    max_rms_lateral_error: float = 0.25
    rate_tolerance: float = 0.05
    max_latency_p99_ms: float = 50.0
    max_deadline_misses: int = 0
    max_missed_ticks: int = 5

    def __post_init__(self) -> None:
        name = type(self).__name__
        check_range(name, 'min_lap_fraction', self.min_lap_fraction, 0.0, 1.0)
        check_range(name, 'rate_tolerance', self.rate_tolerance, 0.0, 1.0)
        for field in ('max_departures_per_km', 'max_rms_lateral_error', 'max_latency_p99_ms'):
            value = getattr(self, field)
            if not (isinstance(value, (int, float)) and value >= 0):
                raise ValueError(f'{name}.{field}: expected a number >= 0 (or .inf), '
                                 f'got {value!r}')
        check_range(name, 'max_deadline_misses', self.max_deadline_misses, 0, 10 ** 9)
        check_range(name, 'max_missed_ticks', self.max_missed_ticks, 0, 10 ** 9)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Thresholds:
        return config_from_dict(cls, d)


def load_thresholds(path: Path, vehicle: str) -> Thresholds:
    """Load the ``vehicle`` block of a thresholds YAML file.

    Raises:
        ValueError: Missing file or block, or an invalid value (the message names which).
    """
    if not path.is_file():
        raise ValueError(f'HIL thresholds: {path} does not exist')
    data = yaml.safe_load(path.read_text()) or {}
    if vehicle not in data:
        raise ValueError(f'HIL thresholds: {path} has no {vehicle!r} block; has {sorted(data)}')
    try:
        return Thresholds.from_dict(dict(data[vehicle]))
    except ValueError as exc:
        raise ValueError(f'HIL thresholds in {path} ({vehicle}): {exc}') from exc


@dataclass(frozen=True)
class Check:
    """One judged figure."""

    name: str
    value: float
    limit: str
    passed: bool

    def format(self) -> str:  # noqa: A003 (called as Check.format by nodes/hil.py)
        mark = 'PASS' if self.passed else 'FAIL'
        return f'  [{mark}] {self.name:<24} {self.value:10.3f}   {self.limit}'


def judge(thresholds: Thresholds, *, laps_asked: int, laps_done: int,
          episodes: Sequence[Mapping[str, Any]], rate_hz: float, achieved_hz: float,
          latency_p99_ms: float, deadline_misses: int, missed_ticks: int) -> list[Check]:
    """All checks of a run; the run passes when every check does."""
    t = thresholds
    fraction = laps_done / laps_asked if laps_asked > 0 else 1.0
    checks = [Check('laps done / asked', fraction, f'>= {t.min_lap_fraction:g}',
                    fraction >= t.min_lap_fraction)]
    if math.isfinite(t.max_departures_per_km):
        worst = max((float(e.get('departures_per_km') or 0.0) for e in episodes), default=0.0)
        checks.append(Check('departures per km', worst, f'<= {t.max_departures_per_km:g}',
                            worst <= t.max_departures_per_km))
    if math.isfinite(t.max_rms_lateral_error):
        worst = max((float(e.get('rms_lateral_error') or 0.0) for e in episodes), default=0.0)
        checks.append(Check('RMS lateral error (m)', worst, f'<= {t.max_rms_lateral_error:g}',
                            worst <= t.max_rms_lateral_error))
    deviation = abs(achieved_hz - rate_hz) / rate_hz if math.isfinite(achieved_hz) else math.inf
    checks += [
        Check('achieved rate (Hz)', achieved_hz,
              f'{rate_hz:g} +- {100 * t.rate_tolerance:g}%', deviation <= t.rate_tolerance),
        Check('latency p99 (ms)', latency_p99_ms, f'<= {t.max_latency_p99_ms:g}',
              math.isfinite(latency_p99_ms) and latency_p99_ms <= t.max_latency_p99_ms),
        Check('deadline misses', deadline_misses, f'<= {t.max_deadline_misses}',
              deadline_misses <= t.max_deadline_misses),
        Check('missed ticks', missed_ticks, f'<= {t.max_missed_ticks}',
              missed_ticks <= t.max_missed_ticks),
    ]
    return checks
