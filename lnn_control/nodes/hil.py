"""``lnn-control hil``: the closed loop over real ROS 2 topics, judged against thresholds.

Roles (``--role``):
    * ``both`` (default): the sim bridge in a child process, the vehicle node in this one:
      two processes talking DDS, as on two machines.
    * ``bridge``: the simulator machine; judges with the vehicle's /diagnostics.
    * ``vehicle``: the vehicle's computer; runs the node until the bridge reports the end.
On two machines use the same ``ROS_DOMAIN_ID`` on both (see docs/ros2.md). Faults (``--drop``,
``--delay``, ``--jitter``) are injected by the bridge on the camera and IMU messages.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import Any

from lnn_control.control.hil_judge import judge, load_thresholds
from lnn_control.nodes.launcher import (
    cli_path,
    format_event,
    LAUNCH_SETS,
    LaunchOptions,
    LaunchSession,
    node_arguments,
)
from lnn_control.paths import config_path

SETS = {'rover': 'sim_drive', 'quad': 'sim_fly'}
VEHICLE_SETS = {'rover': 'drive', 'quad': 'fly'}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--vehicle', choices=sorted(SETS), default='rover')
    parser.add_argument('--scenario', default='clear', help="e.g. 'rain:3+crosswind:2'")
    parser.add_argument('--laps', type=int, default=1,
                        help='laps (rover) or successful flights (quad) to run')
    parser.add_argument('--role', choices=('both', 'bridge', 'vehicle'), default='both')
    parser.add_argument('--drop', type=float, default=0.0, help='sensor message drop fraction')
    parser.add_argument('--delay', type=float, default=0.0, help='sensor message delay, s')
    parser.add_argument('--jitter', type=float, default=0.0, help='extra random delay, s')
    parser.add_argument('--thresholds', type=Path, help='pass/fail YAML (config/hil.yaml)')
    parser.add_argument('--config', type=Path, help="vehicle node's parameter YAML")
    parser.add_argument('--bridge-config', type=Path, help="sim bridge's parameter YAML")
    parser.add_argument('--checkpoint', help='policy checkpoint (overrides the YAML)')
    parser.add_argument('--policy-mode', choices=('checkpoint', 'expert'))
    parser.add_argument('--track-length', type=float, help='rover lap length, m')
    parser.add_argument('--seed', type=int, default=0, help='first episode seed')
    parser.add_argument('--namespace', default='')
    parser.add_argument('--timeout', type=float, default=600.0, help='give up after s')
    parser.add_argument('--warmup', type=float, default=2.0,
                        help='seconds of driving before the timing statistics start')
    parser.add_argument('--report', type=Path, help='also write the report as JSON')


def _options(args: argparse.Namespace) -> LaunchOptions:
    bridge: dict[str, Any] = {'laps': args.laps, 'seed': args.seed, 'drop_rate': args.drop,
                              'delay_s': args.delay, 'jitter_s': args.jitter}
    if args.track_length is not None:
        bridge['track_length'] = args.track_length
    vehicle_node = next(s.name for s in LAUNCH_SETS[SETS[args.vehicle]] if s.vehicle_node)
    vehicle = {'policy_mode': args.policy_mode} if args.policy_mode else {}
    return LaunchOptions(namespace=args.namespace, config=args.config,
                         bridge_config=args.bridge_config, checkpoint=cli_path(args.checkpoint),
                         scenario=args.scenario,
                         overrides={'sim_bridge_node': bridge, vehicle_node: vehicle})


def start_bridge(vehicle: str, options: LaunchOptions) -> subprocess.Popen:
    """``sim_bridge_node`` in a child process, with the launch set's parameters."""
    spec = next(s for s in LAUNCH_SETS[SETS[vehicle]] if not s.vehicle_node)
    cmd = [sys.executable, '-m', 'lnn_control.nodes.sim_bridge_node',
           *node_arguments(spec, options)]
    if options.namespace:
        cmd += ['-r', f'__ns:={options.namespace}']
    return subprocess.Popen(cmd)


def _timing(session: LaunchSession, rate_hz: float) -> dict[str, float]:
    """Loop timing from the local node, else from the vehicle's last /diagnostics."""
    if session.nodes:
        s = session.vehicle_node.stats.summary()
        return {'rate_hz': rate_hz, 'achieved_hz': s.rate_hz, 'jitter_p50_ms': s.jitter_p50_ms,
                'jitter_p99_ms': s.jitter_p99_ms, 'latency_p50_ms': s.latency_p50_ms,
                'latency_p99_ms': s.latency_p99_ms, 'inference_p99_ms': s.inference_p99_ms,
                'deadline_misses': s.deadline_misses, 'missed_ticks': s.missed_ticks}
    d = session.monitor.diagnostics

    def num(key: str) -> float:
        try:
            return float(d[key])
        except (KeyError, ValueError):
            return math.nan

    return {'rate_hz': num('configured_rate_hz'), 'achieved_hz': num('achieved_rate_hz'),
            'jitter_p50_ms': math.nan, 'jitter_p99_ms': num('jitter_p99_ms'),
            'latency_p50_ms': num('latency_p50_ms'), 'latency_p99_ms': num('latency_p99_ms'),
            'inference_p99_ms': num('inference_p99_ms'),
            'deadline_misses': num('deadline_misses'), 'missed_ticks': num('missed_ticks')}


def run(args: argparse.Namespace) -> int:
    from lnn_control.nodes.common import StartupError

    try:
        thresholds = load_thresholds(args.thresholds or config_path('hil.yaml'), args.vehicle)
        options = _options(args)
    except ValueError as exc:
        print(f'lnn-control hil: error: {exc}', file=sys.stderr)
        return 2
    # The vehicle node runs here unless this is the simulator machine; the bridge runs in a
    # child process unless this is the vehicle's machine.
    set_name = VEHICLE_SETS[args.vehicle]
    bridge = None
    try:
        session = LaunchSession(set_name, options, on_event=_show) if args.role != 'bridge' \
            else MonitorSession(options)
        if args.role != 'vehicle':
            bridge = start_bridge(args.vehicle, options)
    except (ValueError, StartupError) as exc:
        print(f'lnn-control hil: error: {exc}', file=sys.stderr)
        return 2

    def finished() -> bool:
        return session.monitor.done or _exited(bridge)

    start = time.monotonic()
    with session:
        try:
            if session.nodes:
                _warm_up(session, finished, args.warmup)
            session.spin_until(finished, args.timeout)
        except KeyboardInterrupt:
            print('\ninterrupted')
        session.spin_until(lambda: False, 1.5)  # the last diagnostics
        rate = _rate_of(session)
        report = _report(args, session, rate, time.monotonic() - start, thresholds)
    stop_child(bridge)
    print(report['text'])
    if args.report:
        args.report.write_text(json.dumps({k: v for k, v in report.items() if k != 'text'},
                                          indent=2, default=str))
    return 0 if report['passed'] else 1


class MonitorSession:
    """A LaunchSession look-alike holding only the monitor (the simulator machine's role)."""

    def __init__(self, options: LaunchOptions) -> None:
        from lnn_control.nodes.hil_monitor import HilMonitor
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor

        self.specs: tuple = ()
        self.nodes: dict[str, Any] = {}
        self.context = Context()
        rclpy.init(context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.monitor = HilMonitor(on_event=_show, context=self.context,
                                  namespace=options.namespace or None)
        self.executor.add_node(self.monitor)

    def spin_until(self, predicate: Any, timeout_s: float = math.inf) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.context.ok() and not predicate() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)
        return predicate()

    def __enter__(self) -> MonitorSession:
        return self

    def __exit__(self, *exc: object) -> None:
        import rclpy

        self.executor.shutdown(timeout_sec=1.0)
        self.monitor.destroy_node()
        rclpy.try_shutdown(context=self.context)


def _warm_up(session: LaunchSession, finished: Any, seconds: float) -> None:
    """Drive ``seconds`` before timing starts: start-up and the phase lock are not judged."""
    node = session.vehicle_node
    session.spin_until(lambda: finished() or (node.last_result is not None
                                              and not node.last_result.safe), 60.0)
    session.spin_until(finished, seconds)
    node.reset_stats()


def _show(event: dict[str, Any]) -> None:
    line = format_event(event)
    if line:
        print(line, flush=True)


def _exited(process: subprocess.Popen | None) -> bool:
    return process is not None and process.poll() is not None


def stop_child(process: subprocess.Popen | None) -> None:
    """Stop a node in a child process: SIGINT (a clean rclpy shutdown), then kill if it hangs."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _rate_of(session: Any) -> float:
    if session.nodes:
        return float(session.vehicle_node.config.rate_hz)
    try:
        return float(session.monitor.diagnostics['configured_rate_hz'])
    except (KeyError, ValueError):
        return math.nan


def _report(args: argparse.Namespace, session: Any, rate_hz: float, wall_s: float,
            thresholds: Any) -> dict[str, Any]:
    final = session.monitor.final or {}
    episodes = final.get('summaries', session.monitor.episodes)
    laps_done = int(final.get('laps_done', sum(int(e.get('laps', 0)) for e in episodes)))
    timing = _timing(session, rate_hz)
    checks = judge(thresholds, laps_asked=args.laps, laps_done=laps_done, episodes=episodes,
                   rate_hz=rate_hz, achieved_hz=timing['achieved_hz'],
                   latency_p99_ms=timing['latency_p99_ms'],
                   deadline_misses=int(_finite(timing['deadline_misses'], 10 ** 9)),
                   missed_ticks=int(_finite(timing['missed_ticks'], 10 ** 9)))
    passed = bool(session.monitor.done) and all(c.passed for c in checks)
    faults = f'drop {args.drop:g}, delay {args.delay:g} s, jitter {args.jitter:g} s'
    scenario = episodes[0].get('scenario', args.scenario) if episodes else args.scenario
    lines = [f'\n=== HIL {args.vehicle} | scenario {scenario} | {args.laps} lap(s) | '
             f'role {args.role} | faults: {faults} ===']
    for e in episodes:
        lines.append('  ' + (format_event({'event': 'episode', **e}) or ''))
    lines.append('  timing: ' + ', '.join(f'{k} {v:.2f}' for k, v in timing.items()))
    if final:
        dropped = final.get('dropped_messages', 0)
        lines.append(f'  sensor messages dropped by fault injection: {dropped}')
    else:
        lines.append('  the bridge did not report the end of the run (timeout or crash)')
    lines += [c.format() for c in checks]
    lines.append(f'RESULT: {"PASS" if passed else "FAIL"} ({wall_s:.1f} s)')
    return {'passed': passed, 'episodes': episodes, 'timing': timing, 'laps_done': laps_done,
            'dropped_messages': final.get('dropped_messages'),
            'checks': [c.__dict__ for c in checks], 'text': '\n'.join(lines)}


def _finite(value: float, fallback: float) -> float:
    return value if math.isfinite(value) else fallback
