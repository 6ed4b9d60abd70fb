"""``lnn-control hil`` end to end: bridge in a child process, faults injected, run judged."""
import argparse
import json

from lnn_control.nodes import hil


def test_hil_rover_with_dropped_frames_reports_and_judges(tmp_path):
    parser = argparse.ArgumentParser()
    hil.add_arguments(parser)
    report = tmp_path / 'report.json'
    args = parser.parse_args(['--vehicle', 'rover', '--scenario', 'rain:2', '--laps', '1',
                              '--track-length', '20', '--policy-mode', 'expert',
                              '--drop', '0.1', '--seed', '1', '--timeout', '90',
                              '--report', str(report)])
    code = hil.run(args)
    result = json.loads(report.read_text())
    assert code == (0 if result['passed'] else 1)
    assert result['laps_done'] == 1
    checks = {c['name']: c for c in result['checks']}
    assert checks['laps done / asked']['passed']
    assert {'achieved rate (Hz)', 'latency p99 (ms)', 'missed ticks'} <= set(checks)
    assert result['dropped_messages'] > 0  # the fault injector was active
    assert result['timing']['achieved_hz'] > 0
