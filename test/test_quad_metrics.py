"""The success judge: reached within a radius, held without a break; time to target; RMS error."""
import math

from lnn_control.sim.quad_metrics import (
    aggregate,
    QuadEpisodeSummary,
    QuadTaskMonitor,
    SuccessCriteria,
)
import numpy as np
import pytest

GOAL = np.zeros(3)


def test_success_needs_the_hold_without_a_break():
    monitor = QuadTaskMonitor(SuccessCriteria(radius=0.5, hold_s=1.0))
    for x in (2.0, 1.0, 0.4, 0.3):
        monitor.update(np.array([x, 0, 0]), GOAL, 0.25)
    assert monitor.time_to_target_s == pytest.approx(0.75) and not monitor.success
    monitor.update(np.array([0.8, 0, 0]), GOAL, 0.25)  # drifts out: the hold restarts
    assert monitor.hold_time_s == 0.0
    for _ in range(3):
        monitor.update(np.array([0.1, 0, 0]), GOAL, 0.25)
    assert not monitor.success
    monitor.update(np.array([0.1, 0, 0]), GOAL, 0.25)
    assert monitor.success and monitor.time_to_target_s == pytest.approx(0.75)


def test_a_crash_inside_the_radius_is_not_a_success():
    monitor = QuadTaskMonitor(SuccessCriteria(radius=0.5, hold_s=0.5))
    monitor.update(np.array([0.1, 0, 0]), GOAL, 0.25, crashed=True)
    monitor.update(np.array([0.1, 0, 0]), GOAL, 0.25)
    monitor.update(np.array([0.1, 0, 0]), GOAL, 0.25)
    assert monitor.crashed and not monitor.success


def test_rms_error_and_summary_from_info():
    monitor = QuadTaskMonitor()
    monitor.update(np.array([3.0, 4.0, 0.0]), GOAL, 0.0)
    monitor.update(np.array([0.0, 0.0, 0.0]), GOAL, 0.5)
    assert monitor.rms_position_error == pytest.approx(math.sqrt(12.5))
    summary = QuadEpisodeSummary.from_info(monitor.as_info())
    assert summary.time_to_target_s == pytest.approx(0.5) and summary.duration_s == 0.5
    never = QuadTaskMonitor()
    never.update(np.array([3.0, 0, 0]), GOAL, 0.5)
    assert math.isnan(QuadEpisodeSummary.from_info(never.as_info()).time_to_target_s)
    with pytest.raises(ValueError, match='lacks the metric key'):
        QuadEpisodeSummary.from_info({})


def test_aggregate():
    runs = [QuadEpisodeSummary(True, 3.0, False, 1.0, 10.0),
            QuadEpisodeSummary(False, math.nan, True, 3.0, 4.0)]
    table = aggregate(runs)
    assert table['success_rate'] == 0.5 and table['crash_rate'] == 0.5
    assert table['mean_time_to_target_s'] == 3.0 and table['mean_rms_position_error'] == 2.0
    with pytest.raises(ValueError, match='no episodes'):
        aggregate([])


def test_bad_criteria_name_the_field():
    with pytest.raises(ValueError, match='radius'):
        SuccessCriteria(radius=0.0)
