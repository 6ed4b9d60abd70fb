"""Control-loop timing with the simulator in another process, over real ROS 2 topics.

The sim bridge runs in a child process (camera + IMU at the control rate); the vehicle node runs
here on the executor its YAML names (events by default), with the shipped policy if present,
else an untrained policy of the same architecture (same inference cost). After a warm-up (phase
lock), the loop is measured for ``--seconds`` (5 minutes by default) per vehicle: rover at 20 Hz,
drone at 50 Hz.

Prints tick-period jitter p50/p99, image->command latency p50/p99 (image stamp to command
publish), missed ticks and deadline misses, against the goal: zero missed ticks, p99 <= 10 ms.

    .venv/bin/python bench/bench_control_loop.py [--vehicle rover quad] [--seconds 300]
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
import sys
import tempfile

os.environ.setdefault('MUJOCO_GL', 'osmesa')
os.environ.setdefault('PYOPENGL_PLATFORM', 'osmesa')
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(101 + os.getpid() % 100))

from lnn_control.nodes.hil import start_bridge, stop_bridge  # noqa: E402
from lnn_control.nodes.launcher import LaunchOptions, LaunchSession  # noqa: E402
from lnn_control.paths import config_path  # noqa: E402

VEHICLES = {
    # vehicle: (launch set, vehicle node, shipped policy, control rate of the benchmark)
    'rover': ('drive', 'drive_node', 'rover_ncp_cfc.pt', 20),
    'quad': ('fly', 'flight_node', 'quad_ncp_cfc.pt', 50),
}
GOAL_LATENCY_P99_MS = 10.0


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


def bench(vehicle: str, seconds: float, warmup: float, folder: Path) -> bool:
    set_name, node_name, shipped, rate_hz = VEHICLES[vehicle]
    checkpoint, source = policy_for(vehicle, shipped, folder)
    options = LaunchOptions(checkpoint=checkpoint, overrides={
        node_name: {'rate_hz': float(rate_hz)},
        'sim_bridge_node': {'control_hz': rate_hz, 'laps': 0, 'max_episodes': 0,
                            'max_episode_s': 3600.0, 'end_on_departure': False,
                            'progress_period_s': 60.0}})
    bridge = start_bridge(vehicle, options)
    try:
        with LaunchSession(set_name, options) as session:
            node = session.vehicle_node
            alive = session.spin_until(lambda: node.stats.ticks > 0 and
                                       node.last_result is not None and
                                       not node.last_result.safe, 60.0)
            if not alive:
                print(f'{vehicle}: the loop never left the safe state (no sensor data?)')
                return False
            session.spin_until(lambda: False, warmup)
            node.reset_stats()
            session.spin_until(lambda: False, seconds)
            s = node.stats.summary()
            corrections = node.phase.corrections if node.phase else 0
            safe = node.loop.safe_ticks
    finally:
        stop_bridge(bridge)
    met = s.missed_ticks == 0 and s.latency_p99_ms <= GOAL_LATENCY_P99_MS
    print(f'\n{vehicle} @ {node.config.rate_hz:g} Hz, {seconds:g} s measured ({source})')
    print(f'  achieved rate      {s.rate_hz:8.3f} Hz over {s.ticks} ticks')
    print(f'  tick-period jitter p50 {s.jitter_p50_ms:6.3f} ms   p99 {s.jitter_p99_ms:6.3f} ms')
    print(f'  image->command     p50 {s.latency_p50_ms:6.3f} ms   p99 {s.latency_p99_ms:6.3f} ms')
    print(f'  inference          p50 {s.inference_p50_ms:6.3f} ms   p99 '
          f'{s.inference_p99_ms:6.3f} ms')
    print(f'  missed ticks {s.missed_ticks}, deadline misses {s.deadline_misses}, '
          f'phase corrections {corrections}, safe ticks since warm-up {safe}')
    print(f'  goal (0 missed ticks, p99 latency <= {GOAL_LATENCY_P99_MS:g} ms): '
          f'{"met" if met else "NOT met"}')
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--vehicle', nargs='+', choices=sorted(VEHICLES),
                        default=['rover', 'quad'])
    parser.add_argument('--seconds', type=float, default=300.0, help='measured time each')
    parser.add_argument('--warmup', type=float, default=5.0, help='unmeasured start, s')
    args = parser.parse_args()
    print(f'ROS_DOMAIN_ID={os.environ["ROS_DOMAIN_ID"]}, CPUs {os.cpu_count()}, '
          f'load average {os.getloadavg()[0]:.2f}')
    with tempfile.TemporaryDirectory() as folder:
        results = [bench(v, args.seconds, args.warmup, Path(folder)) for v in args.vehicle]
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
