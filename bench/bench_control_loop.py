"""Control-loop timing of the nodes as a vehicle runs them, over real ROS 2 topics.

The sim bridge and the vehicle node each run as their console script (``sim_bridge_node``,
``drive_node`` / ``flight_node``: what ``ros2 run`` and ``ros2 launch`` start), in processes of
their own; camera and IMU come at the control rate. The shipped policy is used if present, else
an untrained policy of the same architecture (same inference cost). After a warm-up (phase
lock) the node's statistics are restarted (its ``~/reset_stats`` service) and read from its
/diagnostics after ``--seconds`` (5 minutes by default) per vehicle: rover at 20 Hz, drone at
50 Hz.

Prints tick-period jitter p50/p99, image->command latency p50/p99 (image stamp to command
publish), inference time, missed ticks and deadline misses, against the goal: zero missed ticks,
p99 <= 5 ms (issue 12's aim; the old goal was 10 ms).

    .venv/bin/python bench/bench_control_loop.py [--vehicle rover quad] [--seconds 300]
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
import subprocess
import sys
import tempfile
from typing import Any

os.environ.setdefault('MUJOCO_GL', 'osmesa')
os.environ.setdefault('PYOPENGL_PLATFORM', 'osmesa')
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(101 + os.getpid() % 100))

from lnn_control.nodes.hil import MonitorSession, start_bridge, stop_child  # noqa: E402
from lnn_control.nodes.launcher import LAUNCH_SETS, LaunchOptions, node_arguments  # noqa: E402
from lnn_control.paths import config_path  # noqa: E402
import yaml  # noqa: E402

VEHICLES = {
    # vehicle: (launch set, vehicle node, shipped policy, control rate of the benchmark)
    'rover': ('drive', 'drive_node', 'rover_ncp_cfc.pt', 20),
    'quad': ('fly', 'flight_node', 'quad_ncp_cfc.pt', 50),
}
GOAL_LATENCY_P99_MS = 5.0


def policy_for(vehicle: str, shipped: str, folder: Path) -> tuple[str, str]:
    """Return the shipped checkpoint, else an untrained one of the same architecture."""
    path = config_path('policies', shipped)
    if path.is_file():
        return str(path), 'shipped policy'
    from lnn_control.models.checkpoint import save_checkpoint
    from lnn_control.models.policy import Policy, PolicyConfig
    import torch

    torch.manual_seed(0)
    path = folder / shipped
    save_checkpoint(path, Policy(PolicyConfig.for_vehicle(vehicle)))
    return str(path), 'untrained policy (shipped one not found)'


def course_for(vehicle: str, seconds: float) -> dict[str, float]:
    """Return bridge parameters that give the rover one course for the whole run.

    At up to 3 m/s the rover never finishes it, so the bridge never stops to build the next one
    (about 1 s, whose late frames would count as the node's latency).
    """
    return {'track_length': 3.0 * (seconds + 60.0)} if vehicle == 'rover' else {}


def start_node(set_name: str, options: LaunchOptions) -> subprocess.Popen:
    """Start the set's vehicle node as its console script, with the set's parameters."""
    spec = next(s for s in LAUNCH_SETS[set_name] if s.vehicle_node)
    exe = Path(sys.executable).with_name(spec.name)
    return subprocess.Popen([str(exe), *node_arguments(spec, options)])


def call_reset(session: MonitorSession, node_name: str) -> bool:
    """Restart the node's loop statistics through its ``~/reset_stats`` service."""
    from std_srvs.srv import Trigger

    client = session.monitor.create_client(Trigger, f'/{node_name}/reset_stats')
    if not client.wait_for_service(timeout_sec=10.0):
        return False
    future = client.call_async(Trigger.Request())
    session.spin_until(future.done, 10.0)
    return future.done() and future.result().success


def bench(vehicle: str, seconds: float, warmup: float, folder: Path,
          params: dict[str, Any], bridge_nice: int) -> bool:
    set_name, node_name, shipped, rate_hz = VEHICLES[vehicle]
    checkpoint, source = policy_for(vehicle, shipped, folder)
    options = LaunchOptions(checkpoint=checkpoint, overrides={
        node_name: {'rate_hz': float(rate_hz), **params},
        'sim_bridge_node': {'control_hz': rate_hz, 'laps': 0, 'max_episodes': 0,
                            'max_episode_s': 3600.0, 'end_on_departure': False,
                            'progress_period_s': 60.0, **course_for(vehicle, seconds + warmup)}})
    bridge = start_bridge(vehicle, options)
    if bridge_nice:
        os.setpriority(os.PRIO_PROCESS, bridge.pid, bridge_nice)
    node = start_node(set_name, options)
    d: dict[str, str] = {}
    try:
        with MonitorSession(options) as session:
            monitor = session.monitor
            alive = session.spin_until(
                lambda: monitor.diagnostics.get('safe_reason') == 'none', 90.0)
            if not alive:
                print(f'{vehicle}: the loop never left the safe state (no sensor data?)')
                return False
            session.spin_until(lambda: False, warmup)
            if not call_reset(session, node_name):
                print(f'{vehicle}: {node_name}/reset_stats did not answer')
                return False
            monitor.diagnostics = {}
            session.spin_until(lambda: False, seconds)
            # The first /diagnostics after the measured time covers it (plus at most a period).
            session.spin_until(lambda: bool(monitor.diagnostics), 5.0)
            d = dict(monitor.diagnostics)
    finally:
        stop_child(node)
        stop_child(bridge)

    def ms(key: str) -> float:
        return float(d[key])

    met = int(d['missed_ticks']) == 0 and ms('latency_p99_ms') <= GOAL_LATENCY_P99_MS
    print(f'\n{vehicle} @ {rate_hz:g} Hz, {seconds:g} s measured ({source}), '
          f'{node_name} and sim_bridge_node as console scripts'
          + ''.join(f', {k}={v}' for k, v in params.items())
          + (f', simulator at nice {bridge_nice}' if bridge_nice else ''))
    print(f"  backend {d.get('backend', '?')}")
    print(f"  achieved rate      {ms('achieved_rate_hz'):8.3f} Hz over {d['ticks']} ticks")
    print(f"  tick-period jitter p50 {ms('jitter_p50_ms'):6.3f} ms   "
          f"p99 {ms('jitter_p99_ms'):6.3f} ms")
    print(f"  image->command     p50 {ms('latency_p50_ms'):6.3f} ms   "
          f"p99 {ms('latency_p99_ms'):6.3f} ms")
    print(f"  inference          p50 {ms('inference_p50_ms'):6.3f} ms   "
          f"p99 {ms('inference_p99_ms'):6.3f} ms")
    print(f"  missed ticks {d['missed_ticks']}, deadline misses {d['deadline_misses']}, "
          f"phase corrections {d['phase_corrections']}, safe ticks {d['safe_ticks']}, "
          f"rejected samples {d['rejected_samples']}")
    print(f'  goal (0 missed ticks, p99 latency <= {GOAL_LATENCY_P99_MS:g} ms): '
          f'{"met" if met else "NOT met"}')
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--vehicle', nargs='+', choices=sorted(VEHICLES),
                        default=['rover', 'quad'])
    parser.add_argument('--seconds', type=float, default=300.0, help='measured time each')
    parser.add_argument('--warmup', type=float, default=5.0, help='unmeasured start, s')
    parser.add_argument('--param', action='append', default=[], metavar='NAME=VALUE',
                        help='a vehicle node parameter (YAML value), e.g. backend=torch')
    parser.add_argument('--bridge-nice', type=int, default=0, metavar='N',
                        help='run the simulator at this nice value, so that it takes the CPU '
                             'only when the node does not need it (as on a vehicle, where there '
                             'is no simulator)')
    args = parser.parse_args()
    params = {name: yaml.safe_load(value)
              for name, _, value in (p.partition('=') for p in args.param)}
    print(f'ROS_DOMAIN_ID={os.environ["ROS_DOMAIN_ID"]}, CPUs {os.cpu_count()}, '
          f'load average {os.getloadavg()[0]:.2f}')
    with tempfile.TemporaryDirectory() as folder:
        results = [bench(v, args.seconds, args.warmup, Path(folder), params, args.bridge_nice)
                   for v in args.vehicle]
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
