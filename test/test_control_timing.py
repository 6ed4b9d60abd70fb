"""Loop statistics: rate, jitter, missed ticks and deadline misses from synthetic tick times."""
import math

from lnn_control.control.timing import LoopStats
import pytest


def test_steady_loop_has_exact_rate_and_no_misses():
    stats = LoopStats(20.0)
    for k in range(101):
        t = k * 0.05
        stats.tick(t)
        stats.done(t + 0.002, inference_s=0.001, latency_s=0.004)
    s = stats.summary()
    assert s.rate_hz == pytest.approx(20.0)
    assert s.missed_ticks == 0 and s.deadline_misses == 0
    assert s.jitter_p99_ms == pytest.approx(0.0, abs=1e-9)
    assert s.latency_p50_ms == pytest.approx(4.0)
    assert 'rate 20.00 Hz' in s.format()


def test_gap_counts_missed_ticks_and_slow_tick_counts_deadline_miss():
    stats = LoopStats(10.0)
    assert math.isnan(stats.tick(0.0))
    stats.done(0.01)
    assert stats.tick(0.1) == pytest.approx(0.1)
    stats.done(0.25)  # took 150 ms > 100 ms period
    stats.tick(0.4)  # 300 ms gap: two ticks missed
    stats.done(0.41)
    s = stats.summary()
    assert s.missed_ticks == 2 and s.deadline_misses == 1
    assert s.jitter_p50_ms == pytest.approx(100.0)  # |0.1-0.1| and |0.3-0.1|: median 0.1 s
    assert s.rate_hz == pytest.approx(2 / 0.4)


def test_rejects_bad_rate():
    with pytest.raises(ValueError, match='rate_hz'):
        LoopStats(0.0)
