"""``lnn-control launch NAME``: the launch files' node sets, in one process, through rclpy.

Each set lists the same executables and YAML files as ``launch/NAME.launch.py``; parameters go
through rcl's own ``--params-file`` parser, so the configuration exercised here is the one
``ros2 launch`` would load. Simulated sets (``sim_drive``, ``sim_fly``) print progress, stop after
the bridge's laps (or Ctrl-C) and end with a summary.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
import importlib
import json
import math
from pathlib import Path
import sys
import time
from typing import Any

from lnn_control.paths import config_path
import yaml


@dataclass(frozen=True)
class NodeSpec:
    """One node of a set: its name, class (``module:Class``), config class and YAML file."""

    name: str
    node_class: str
    config_class: str
    config_file: str
    vehicle_node: bool


DRIVE = NodeSpec('drive_node', 'lnn_control.nodes.drive_node:DriveNode',
                 'lnn_control.control.config:DriveConfig', 'drive.yaml', True)
FLIGHT = NodeSpec('flight_node', 'lnn_control.nodes.flight_node:FlightNode',
                  'lnn_control.control.config:FlightConfig', 'fly.yaml', True)
ROVER_SIM = NodeSpec('sim_bridge_node', 'lnn_control.nodes.sim_bridge_node:SimBridgeNode',
                     'lnn_control.control.bridge_config:BridgeConfig', 'sim_bridge_rover.yaml',
                     False)
QUAD_SIM = NodeSpec('sim_bridge_node', 'lnn_control.nodes.sim_bridge_node:SimBridgeNode',
                    'lnn_control.control.bridge_config:BridgeConfig', 'sim_bridge_quad.yaml',
                    False)

LAUNCH_SETS: dict[str, tuple[NodeSpec, ...]] = {
    'drive': (DRIVE,),
    'fly': (FLIGHT,),
    'sim_drive': (ROVER_SIM, DRIVE),
    'sim_fly': (QUAD_SIM, FLIGHT),
}


def _load(ref: str) -> Any:
    module, _, name = ref.partition(':')
    return getattr(importlib.import_module(module), name)


@dataclass
class LaunchOptions:
    """The launch files' arguments, plus run-time overrides.

    Attributes:
        namespace: Namespace of every node.
        use_sim_time: Vehicle node on /clock; the bridge then publishes it.
        config: The vehicle node's YAML (default: the package's).
        bridge_config: The bridge's YAML (default: the package's for the vehicle).
        checkpoint: Overrides the vehicle node's checkpoint.
        scenario: Overrides the bridge's scenario.
        overrides: Node name -> extra parameters (applied last).
    """

    namespace: str = ''
    use_sim_time: bool = False
    config: Path | None = None
    bridge_config: Path | None = None
    checkpoint: str | None = None
    scenario: str | None = None
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)


def _yaml_section(path: Path, node_name: str) -> dict[str, Any]:
    """Return the ``ros__parameters`` of ``node_name`` in a parameter file (any matching key)."""
    if not path.is_file():
        raise ValueError(f'parameter file {path} does not exist')
    data = yaml.safe_load(path.read_text()) or {}
    for key, block in data.items():
        if str(key).rstrip('/').split('/')[-1] in (node_name, '**'):
            params = (block or {}).get('ros__parameters')
            if not isinstance(params, dict):
                raise ValueError(f'{path}: {key!r} has no ros__parameters mapping')
            return params
    raise ValueError(f'{path}: no parameters for node {node_name!r} (keys: {sorted(data)})')


def node_arguments(spec: NodeSpec, options: LaunchOptions) -> list[str]:
    """Return the ``--ros-args`` a node of the set gets (as ``ros2 launch`` would pass them)."""
    if spec.vehicle_node:
        path = options.config or config_path(spec.config_file)
    else:
        path = options.bridge_config or config_path(spec.config_file)
    path = Path(path)
    _yaml_section(path, spec.name)  # the file exists and has a section for the node
    params: dict[str, Any] = {}
    if spec.vehicle_node:
        params['use_sim_time'] = options.use_sim_time
        if options.checkpoint:
            params['checkpoint'] = options.checkpoint
    else:
        params['publish_clock'] = options.use_sim_time
        if options.scenario:
            params['scenario'] = options.scenario
    params.update(options.overrides.get(spec.name, {}))
    args = ['--ros-args', '--params-file', str(path)]
    for key, value in params.items():
        args += ['-p', f'{key}:={json.dumps(value)}']
    return args


class LaunchSession:
    """A set of nodes in one process, on one executor, in a private rclpy context.

    Args:
        name: One of ``LAUNCH_SETS``.
        options: Arguments and overrides.
        on_event: Progress callback for the bridge's metrics events (sim sets).

    Raises:
        ValueError: Unknown set, or a bad parameter file.
        StartupError: A node cannot start (the message says why).
    """

    def __init__(self, name: str, options: LaunchOptions | None = None, *,
                 on_event: Callable[[dict[str, Any]], None] | None = None) -> None:
        from lnn_control.nodes.hil_monitor import HilMonitor
        from lnn_control.nodes.spin import make_executor
        import rclpy
        from rclpy.context import Context

        if name not in LAUNCH_SETS:
            raise ValueError(f'launch: unknown set {name!r}; known: {sorted(LAUNCH_SETS)}')
        self.options = options or LaunchOptions()
        self.specs = LAUNCH_SETS[name]
        arguments = [node_arguments(spec, self.options) for spec in self.specs]
        self.context = Context()
        rclpy.init(context=self.context)
        self.nodes: dict[str, Any] = {}
        self.executor: Any = None
        try:
            for spec, args in zip(self.specs, arguments, strict=True):
                self.nodes[spec.name] = _load(spec.node_class)(
                    context=self.context, cli_args=args, use_global_arguments=False,
                    namespace=self.options.namespace or None)
            self.monitor = HilMonitor(on_event=on_event, context=self.context,
                                      namespace=self.options.namespace or None)
            self.executor = make_executor(context=self.context)
            for node in (*self.nodes.values(), self.monitor):
                self.executor.add_node(node)
        except BaseException:
            self.close()
            raise

    @property
    def vehicle_node(self) -> Any:
        return next(self.nodes[s.name] for s in self.specs if s.vehicle_node)

    @property
    def simulated(self) -> bool:
        return any(not s.vehicle_node for s in self.specs)

    def spin_until(self, predicate: Callable[[], bool], timeout_s: float = math.inf) -> bool:
        """Spin until ``predicate()`` or the timeout; returns the predicate's last value."""
        deadline = time.monotonic() + timeout_s
        while self.context.ok() and not predicate() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)
        return predicate()

    def close(self) -> None:
        """Stop the nodes as their processes would, destroy them, shut the context down.

        Safe to call twice.
        """
        from lnn_control.nodes.spin import close_executor
        import rclpy

        nodes = [n for n in [*self.nodes.values(), getattr(self, 'monitor', None)] if n]
        close_executor(self.executor, nodes)  # None: a node failed to start, nothing added
        self.executor = None
        for node in self.nodes.values():
            node.stop()
        for node in nodes:
            node.destroy_node()
        self.nodes = {}
        self.monitor = None
        rclpy.try_shutdown(context=self.context)

    def __enter__(self) -> LaunchSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def format_event(event: dict[str, Any]) -> str | None:
    """One terminal line for a bridge event (None for events not worth a line)."""
    kind = event.get('event')
    if kind == 'progress':
        head = (f"episode {event['episode']} | laps {event['laps_done']}/{event['laps_goal']} "
                f"| sim {event['sim_time_s']:7.1f} s")
        if 'lap_progress' in event:
            return (f"{head} | lap {100 * event['lap_progress']:5.1f}% | lateral "
                    f"{event['lateral_error']:+.3f} m | {event['speed']:.2f} m/s")
        return (f"{head} | to goal {event['distance_to_goal']:6.2f} m | held "
                f"{event['hold_time_s']:.1f} s")
    if kind == 'episode':
        keys = ('laps', 'completion', 'departures_per_km', 'rms_lateral_error', 'success',
                'time_to_target_s', 'crashed', 'termination')
        parts = [f'{k}={_short(event[k])}' for k in keys if k in event]
        return f"episode {event['episode']} ended: " + ', '.join(parts)
    if kind == 'done':
        return f"run finished: {event['laps_done']} lap(s) in {event['episodes']} episode(s)"
    return None


def _short(value: Any) -> str:
    return f'{value:.3f}' if isinstance(value, float) else str(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('name', choices=sorted(LAUNCH_SETS), help='node set to start')
    parser.add_argument('--namespace', default='', help='namespace of every node')
    parser.add_argument('--use-sim-time', action='store_true',
                        help='vehicle node on /clock (the sim bridge publishes it)')
    parser.add_argument('--config', type=Path, help="vehicle node's parameter YAML")
    parser.add_argument('--bridge-config', type=Path, help="sim bridge's parameter YAML")
    parser.add_argument('--checkpoint', help='policy checkpoint (overrides the YAML)')
    parser.add_argument('--scenario', help="sim scenario, e.g. 'rain:3+crosswind:2'")
    parser.add_argument('--laps', type=int, help='laps (rover) or flights (quad) before exit')
    parser.add_argument('--policy-mode', choices=('checkpoint', 'expert'),
                        help='expert: drive with the sim expert over ground truth')
    parser.add_argument('--timeout', type=float, default=math.inf,
                        help='stop after this many seconds')


def options_from_args(args: argparse.Namespace) -> LaunchOptions:
    """Build the ``LaunchOptions`` of the parsed command line."""
    specs = LAUNCH_SETS[args.name]
    overrides: dict[str, dict[str, Any]] = {}
    vehicle = next(s.name for s in specs if s.vehicle_node)
    if args.policy_mode:
        overrides.setdefault(vehicle, {})['policy_mode'] = args.policy_mode
    if args.laps is not None:
        overrides.setdefault('sim_bridge_node', {})['laps'] = args.laps
    return LaunchOptions(namespace=args.namespace, use_sim_time=args.use_sim_time,
                         config=args.config, bridge_config=args.bridge_config,
                         checkpoint=cli_path(args.checkpoint), scenario=args.scenario,
                         overrides=overrides)


def cli_path(path: str | None) -> str | None:
    """Resolve a path typed on the command line against the working directory.

    In YAML files, relative checkpoint paths are relative to the package's config/ folder.
    """
    return str(Path(path).expanduser().resolve()) if path else None


def print_summary(session: LaunchSession) -> None:
    """Task metrics of every episode, then the control loop's timing."""
    node = session.vehicle_node
    print('\n=== summary ===')
    for event in session.monitor.episodes:
        print('  ' + (format_event(event) or ''))
    if session.monitor.progress and not session.monitor.done:
        print('  last progress: ' + (format_event(session.monitor.progress) or ''))
    summary = node.stats.summary()
    print(f'  control loop: {summary.format()}')
    print(f'  watchdog trips {node.inputs.watchdog.trips}, rejected samples '
          f'{node.inputs.rejected}, safe ticks {node.loop.safe_ticks}/{summary.ticks}')
    print(f'  policy on {node.runner.backend_note}' if hasattr(node.runner, 'backend_note')
          else '  policy: the expert')
    if session.simulated:
        print('  (the simulator renders in this process, on the same thread as the node, so '
              "its frames wait for each other: latency and jitter here are not the vehicle's; "
              'bench/bench_control_loop.py measures the node in its own process)')


def run(args: argparse.Namespace) -> int:
    from lnn_control.nodes.common import StartupError

    def show(event: dict[str, Any]) -> None:
        line = format_event(event)
        if line:
            print(line, flush=True)

    try:
        session = LaunchSession(args.name, options_from_args(args), on_event=show)
    except (ValueError, StartupError) as exc:
        print(f'lnn-control launch: error: {exc}', file=sys.stderr)
        if 'checkpoint' in str(exc) and args.name.startswith('sim_'):
            print('hint: --checkpoint PATH picks another policy; --policy-mode expert drives '
                  "with the simulator's expert instead", file=sys.stderr)
        return 1
    with session:
        names = ', '.join(session.nodes)
        print(f'launch {args.name}: {names} running' +
              ('; Ctrl-C stops' if not session.simulated else
               '; stops after the laps, or Ctrl-C'), flush=True)
        try:
            session.spin_until(lambda: session.monitor.done, args.timeout)
        except KeyboardInterrupt:
            print('\ninterrupted')
        print_summary(session)
    return 0
