"""Base node of the vehicle controllers: sensors in, fixed-rate policy tick, command out.

``DriveNode`` and ``FlightNode`` subclass it and add only their outputs. Everything that decides
anything lives in ``lnn_control.control``; this class converts messages, owns the timer, the
callback groups, the enable service and the diagnostics.

It is a managed (lifecycle) node. ``configure`` loads and warms up the policy and creates the
subscriptions, outputs and timers; ``activate`` starts commanding; ``deactivate`` publishes the
safe command and stops; ``cleanup`` releases everything; ``shutdown`` does both. With
``managed: false`` (the default) the node configures and activates itself at start-up, so it
drives as soon as it is started; with ``managed: true`` it waits, unconfigured, for a lifecycle
manager (``ros2 lifecycle set``, Nav2's lifecycle manager, or a launch file's events).

Threading: every callback runs on one thread (``nodes.spin``: rclpy's C++ events executor), so
no callback ever blocks; a phase-locked tick that comes just before its frame is handed to the
frame's callback. Only the PX4 offboard heartbeat has a thread of its own.
"""
from __future__ import annotations

import time
from typing import Any, ClassVar

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from lnn_control.control.config import resolve_checkpoint
from lnn_control.control.ground_truth import decode_privileged, ExpertRunner
from lnn_control.control.inputs import SensorInputs
from lnn_control.control.loop import ControlLoop, TickResult
from lnn_control.control.policies import make_runner, trained_rate_hz
from lnn_control.control.runner import RunnerError
from lnn_control.control.timing import LoopStats, PhaseLock
from lnn_control.nodes.common import (
    COMMAND_QOS,
    imu_to_array,
    odometry_to_state,
    read_config,
    SENSOR_QOS,
    stamp_to_s,
    StartupError,
    STATE_QOS,
    Throttled,
)
from lnn_control.paths import config_path
from nav_msgs.msg import Odometry
import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.duration import Duration
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import Image, Imu
from std_msgs.msg import String
from std_srvs.srv import SetBool, Trigger
import torch

GROUND_TRUTH = 'ground_truth'
#: Window of the loop statistics (5 minutes at 50 Hz fits).
STATS_WINDOW = 20_000
#: How long a stopping node waits for subscribers to acknowledge its last (safe) command.
SAFE_ACK_TIMEOUT = Duration(seconds=0.5)


class PolicyNode(LifecycleNode):
    """Shared machinery of ``drive_node`` and ``flight_node``.

    Subclasses set ``vehicle`` and ``config_cls`` and implement ``make_commander``,
    ``make_outputs``, ``publish_command`` and ``apply_live``.

    Raises:
        StartupError: A parameter is unknown or invalid or, unless ``managed``, the policy or
            an output package cannot be loaded; the message says which and why.
    """

    vehicle: ClassVar[str] = ''
    config_cls: ClassVar[type] = object
    #: Parameters that may change while running; others need a restart.
    live_parameters: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, node_name: str, **kwargs: Any) -> None:
        super().__init__(node_name, automatically_declare_parameters_from_overrides=True,
                         **kwargs)
        self.config = read_config(self, self.config_cls)
        self.warn = Throttled(self.get_logger().warning)
        self.loop: ControlLoop | None = None
        self.stats = LoopStats(self.config.rate_hz, window=STATS_WINDOW)
        self.last_result: TickResult | None = None
        self.active = False
        self._entities: list[tuple[Any, Any]] = []  # (destroy function, entity) of configure
        self.diagnostics = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_service(SetBool, 'enable', self._on_enable)
        self.create_service(Trigger, '~/reset_stats', self._on_reset_stats)
        self._diagnostics_due = time.monotonic()
        self.create_timer(self.config.diagnostics_period_s, self._on_diagnostics_timer)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        if not self.config.managed:
            self.start()

    def start(self) -> None:
        """Configure and activate (an unmanaged node does this at start-up).

        Raises:
            StartupError: Configuring failed; the message says why.
        """
        self._startup_error = ''
        if self.trigger_configure() != TransitionCallbackReturn.SUCCESS:
            raise StartupError(self._startup_error or f'{self.get_name()}: configure failed')
        self.trigger_activate()

    def stop(self) -> None:
        """Publish the safe command if commanding, then shut down (the process is ending)."""
        if self.loop is not None:
            self.trigger_shutdown()

    # ----------------------------------------------------------------- lifecycle
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self._configure()
        except StartupError as exc:
            self._startup_error = str(exc)
            self.get_logger().error(str(exc))
            self._release()
            return TransitionCallbackReturn.FAILURE
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        result = super().on_activate(state)
        self.active = True
        self.timer.reset()
        self.on_activated()
        self.get_logger().info('active: commanding')
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._halt('deactivated')
        self.get_logger().info('inactive: safe command sent, not commanding')
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.active:
            self._halt('shutting down')
        self._release()
        return super().on_shutdown(state)

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.active:
            self._halt('error')
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _configure(self) -> None:
        """Load and warm up the policy; create the subscriptions, outputs and timers."""
        cfg = self.config
        torch.set_num_threads(cfg.inference_threads)
        checkpoint = resolve_checkpoint(cfg.checkpoint, config_path())
        try:
            self.runner = make_runner(self.vehicle, cfg.policy_mode, checkpoint, cfg.rate_hz,
                                      backend=cfg.backend, threads=cfg.inference_threads,
                                      provider=cfg.onnx_provider)
        except RunnerError as exc:
            raise StartupError(f'{self.get_name()}: {exc}') from exc
        expert = isinstance(self.runner, ExpertRunner)
        state_inputs = self.runner.state_inputs
        if state_inputs and not hasattr(cfg, 'state_topic'):
            raise StartupError(f'{self.get_name()}: the policy takes state inputs '
                               f'{list(state_inputs)}, which a {self.vehicle} node cannot read')
        trained = trained_rate_hz(getattr(self.runner, 'metadata', {}))
        if trained is not None and abs(trained - cfg.rate_hz) > 1e-6:
            self.get_logger().warning(f'the policy was trained at {trained:g} Hz and runs at '
                                      f'{cfg.rate_hz:g} Hz: it gets the real elapsed time, but '
                                      'expect some difference')
        if not expert:
            self._warm_up()
        self._camera_hw: tuple[int, int] | None = None
        self.make_outputs()
        extra = {GROUND_TRUTH: max(cfg.camera_timeout_s, cfg.imu_timeout_s)} if expert else {}
        self.inputs = SensorInputs(self.runner.image_hw, cfg.camera_timeout_s, cfg.imu_timeout_s,
                                   extra, state_inputs=state_inputs,
                                   state_timeout_s=getattr(cfg, 'state_timeout_s', 0.2),
                                   future_tolerance_s=cfg.future_tolerance_s,
                                   on_reanchor=self.get_logger().warning)
        self.stats = LoopStats(cfg.rate_hz, window=STATS_WINDOW)
        self.loop = ControlLoop(self.inputs, self.runner, self.make_commander(), self.stats,
                                enabled=cfg.enabled)
        # Phase locking measures wall time; under /clock the tick follows the simulator anyway.
        sim_time = bool(self.get_parameter('use_sim_time').value)
        self.phase = (PhaseLock(1.0 / cfg.rate_hz, cfg.phase_offset_s,
                                early_tolerance=cfg.frame_wait_s)
                      if cfg.phase_lock and not sim_time else None)
        self._deferred_tick: float | None = None
        self._period_shifted = False
        self._last_reason: str | None = None
        self.last_result = None

        self._own(self.destroy_subscription, self.create_subscription(
            Image, cfg.image_topic, self._on_image, SENSOR_QOS))
        self._own(self.destroy_subscription, self.create_subscription(
            Imu, cfg.imu_topic, self._on_imu, SENSOR_QOS))
        if state_inputs:
            self._own(self.destroy_subscription, self.create_subscription(
                Odometry, cfg.state_topic, self._on_state, SENSOR_QOS))
        if expert:
            self._own(self.destroy_subscription, self.create_subscription(
                String, cfg.ground_truth_topic, self._on_ground_truth, STATE_QOS))
        self.timer = self._own(self.destroy_timer, self.create_timer(
            1.0 / cfg.rate_hz, self._on_tick))
        self.timer.cancel()  # activate starts it
        # Runs a deferred tick whose frame has not come within frame_wait_s (see _defer_to_frame).
        self.frame_deadline = self._own(self.destroy_timer, self.create_timer(
            max(cfg.frame_wait_s, 1e-3), self._on_frame_deadline))
        self.frame_deadline.cancel()
        source = 'expert (ground truth)' if expert else \
            f'{checkpoint} on {self.runner.backend_note}'
        self.get_logger().info(f'{self.vehicle} policy {source} at {cfg.rate_hz:g} Hz, '
                               f'output {cfg.output}, enabled={cfg.enabled}'
                               + (f', state {list(state_inputs)} from {cfg.state_topic}'
                                  if state_inputs else ''))

    def _warm_up(self) -> None:
        """Run the policy once on blank inputs, so the first real tick is not the slow one."""
        h, w = self.runner.image_hw
        self.runner.act(np.zeros((h, w, 3), np.uint8), np.zeros(self.runner.input_dim, np.float32),
                        1.0 / self.config.rate_hz)
        self.runner.reset()

    def create_output(self, msg_type: Any, topic: str) -> Any:
        """Create a command publisher: reliable, latest only, live only while active."""
        return self._own(self.destroy_lifecycle_publisher,
                         self.create_lifecycle_publisher(msg_type, topic, COMMAND_QOS))

    def _own(self, destroy: Any, entity: Any) -> Any:
        """Remember an entity created by configure, so cleanup can destroy it."""
        self._entities.append((destroy, entity))
        return entity

    def _release(self) -> None:
        """Destroy what configure created (cleanup, shutdown, a failed configure)."""
        self.on_deactivated()
        for destroy, entity in reversed(self._entities):
            destroy(entity)
        self._entities.clear()
        self.loop = None
        self.active = False

    def _halt(self, reason: str) -> None:
        """Stop commanding: the timer stops and the safe command goes out once, acknowledged."""
        self.timer.cancel()
        self.frame_deadline.cancel()
        result = self.loop.safe_command(self._now(), reason)
        try:
            self.publish_command(result, self.get_clock().now().nanoseconds)
            self.command_pub.wait_for_all_acked(SAFE_ACK_TIMEOUT)
        except Exception as exc:  # noqa: B902 (a failing output must not stop the shutdown)
            self.get_logger().error(f'safe command not published: {exc}')
        self.last_result = result
        self.on_deactivated()
        self.active = False

    # ----------------------------------------------------------------- subclass hooks
    def make_commander(self) -> Any:
        raise NotImplementedError

    def make_outputs(self) -> None:
        raise NotImplementedError

    def publish_command(self, result: TickResult, now_ns: int) -> None:
        raise NotImplementedError

    def apply_live(self, config: Any) -> None:
        """Apply a validated change of ``live_parameters``."""
        raise NotImplementedError

    def on_activated(self) -> None:
        """Start what runs only while active (e.g. an autopilot's offboard heartbeat)."""

    def on_deactivated(self) -> None:
        """Stop what ``on_activated`` started; called when deactivating, releasing, stopping."""

    def reset_stats(self) -> None:
        """Start the loop statistics afresh (after a warm-up, for benchmarks)."""
        self.stats = LoopStats(self.config.rate_hz, window=STATS_WINDOW)
        self.loop.stats = self.stats
        self.loop.safe_ticks = 0

    # ----------------------------------------------------------------- callbacks
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_image(self, msg: Image) -> None:
        wall = time.monotonic()
        error = self.inputs.on_image(msg.data, msg.encoding, msg.height, msg.width, msg.step,
                                     stamp_to_s(msg.header.stamp), self._now())
        if error:
            self.warn('camera', error)
            return
        if (msg.height, msg.width) != self._camera_hw:
            self._camera_hw = (msg.height, msg.width)
            self.get_logger().info(f'camera {msg.width}x{msg.height} {msg.encoding}, policy '
                                   f'input {self.runner.image_hw[1]}x{self.runner.image_hw[0]}')
        if self.phase is not None:
            self.phase.on_frame(wall)
        self._run_deferred_tick()

    def _on_imu(self, msg: Imu) -> None:
        error = self.inputs.on_imu(imu_to_array(msg), stamp_to_s(msg.header.stamp), self._now())
        if error:
            self.warn('imu', error)
        else:
            self.on_imu_message(msg)

    def _on_state(self, msg: Odometry) -> None:
        error = self.inputs.on_state(odometry_to_state(msg), stamp_to_s(msg.header.stamp),
                                     self._now())
        if error:
            self.warn('state', error)

    def on_imu_message(self, msg: Imu) -> None:
        """Read more of the IMU message (orientation): a hook for subclasses."""

    def _on_ground_truth(self, msg: String) -> None:
        try:
            privileged = decode_privileged(msg.data)
        except ValueError as exc:
            self.warn('ground_truth', f'ground truth rejected: {exc}')
            return
        self.runner.update(privileged)
        self.inputs.on_extra(GROUND_TRUTH, privileged, self._now())

    def _on_tick(self) -> None:
        wall = time.monotonic()
        self._restore_period()
        if self._defer_to_frame(wall):
            return
        self._run_tick(wall, wall)

    def _run_tick(self, timer_wall: float, wall: float) -> None:
        """One control tick started at ``wall``; the timer fired at ``timer_wall``."""
        result = self.loop.tick(self._now(), wall)
        now_ns = self.get_clock().now().nanoseconds
        try:
            self.publish_command(result, now_ns)
        except Exception as exc:  # a publishing failure is logged, the loop goes on
            self.warn('publish', f'command not published: {exc}')
        self.stats.done(time.monotonic(), inference_s=result.inference_s,
                        latency_s=now_ns * 1e-9 - result.image_stamp)
        self.last_result = result
        if result.reason != self._last_reason:
            if result.reason:
                self.get_logger().warning(f'safe command: {result.reason}')
            elif self._last_reason is not None:
                self.get_logger().info('inputs fresh: driving with a reset policy state')
            self._last_reason = result.reason
        self._maybe_shift_phase(timer_wall)
        if time.monotonic() >= self._diagnostics_due:
            self._publish_diagnostics()

    def _on_diagnostics_timer(self) -> None:
        """Publish diagnostics while no tick does (inactive, or the loop stopped).

        While ticking, diagnostics go out right after a tick's command, so computing them
        (about a millisecond over a full window) never delays the start of a tick.
        """
        if time.monotonic() >= self._diagnostics_due + 2.0 / self.config.rate_hz:
            self._publish_diagnostics()

    def _waits_for_frames(self) -> bool:
        """Phase-locked with a frame wait: a tick that comes before its frame waits for it."""
        return self.phase is not None and self.config.frame_wait_s > 0

    def _defer_to_frame(self, wall: float) -> bool:
        """Hand a tick whose frame is not there yet to that frame's callback.

        On one thread a tick cannot wait for its frame (the frame's callback would never run):
        it runs from the frame's callback, or after ``frame_wait_s`` on the last frame if this
        one does not come.
        """
        if not self._waits_for_frames() or not self.phase.frame_overdue(wall):
            return False
        self._deferred_tick = wall
        self.frame_deadline.reset()
        return True

    def _on_frame_deadline(self) -> None:
        self._run_deferred_tick()

    def _run_deferred_tick(self) -> None:
        if self._deferred_tick is None:
            return
        self.frame_deadline.cancel()
        timer_wall, self._deferred_tick = self._deferred_tick, None
        self._run_tick(timer_wall, time.monotonic())

    def _maybe_shift_phase(self, t_tick: float) -> None:
        """Move the ticks in step with frames that arrive at a steady phase.

        One timer period is stretched or shortened, by at most half a period: no tick is
        skipped.
        """
        if self.phase is None:
            return
        now = time.monotonic()
        delay = self.phase.delay(t_tick, now)
        if delay > 0.0:
            period = 1.0 / self.config.rate_hz
            shift = (now + delay - t_tick + period / 2) % period - period / 2
            self.timer.timer_period_ns = round((period + shift) * 1e9)
            self._period_shifted = True

    def _restore_period(self) -> None:
        """Go back to the nominal period one tick after a phase shift.

        Exactly one period is stretched or shortened, whether rcl applies a new period from the
        next call or the one after.
        """
        if self._period_shifted:
            self.timer.timer_period_ns = round(1e9 / self.config.rate_hz)
            self._period_shifted = False

    def _on_enable(self, request: SetBool.Request, response: SetBool.Response) -> Any:
        if self.loop is None:
            response.success = False
            response.message = 'not configured: use the lifecycle transitions first'
            return response
        self.loop.enabled = bool(request.data)
        response.success = True
        response.message = 'enabled' if request.data else 'disabled: safe command'
        self.get_logger().info(f'control {response.message}')
        return response

    def _on_reset_stats(self, _request: Trigger.Request, response: Trigger.Response) -> Any:
        if self.loop is None:
            response.success, response.message = False, 'not configured'
        else:
            self.reset_stats()
            response.success, response.message = True, 'loop statistics restarted'
        return response

    def _on_set_parameters(self, params: list[Any]) -> SetParametersResult:
        changes = {p.name: p.value for p in params}
        fixed = sorted(set(changes) - self.live_parameters)
        if fixed:
            return SetParametersResult(successful=False,
                                       reason=f'{fixed} can only be set at start-up')
        try:
            config = self.config_cls.from_dict({**self.config.to_dict(), **changes})
        except ValueError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        self.config = config
        if self.loop is not None:
            self.apply_live(config)
        return SetParametersResult(successful=True)

    def _status(self) -> str:
        """Return why the node is not driving ('' when it is)."""
        if self.loop is None:
            return 'not configured'
        if not self.active:
            return 'inactive'
        result = self.last_result
        return result.reason if result is not None else 'not started'

    def _publish_diagnostics(self) -> None:
        self._diagnostics_due = time.monotonic() + self.config.diagnostics_period_s
        s = self.stats.summary()
        reason = self._status()
        rate_ok = abs(s.rate_hz - self.config.rate_hz) <= 0.05 * self.config.rate_hz
        level = DiagnosticStatus.OK if (not reason and rate_ok) else DiagnosticStatus.WARN
        values: dict[str, Any] = {
            'configured_rate_hz': self.config.rate_hz, 'achieved_rate_hz': s.rate_hz,
            'deadline_misses': s.deadline_misses, 'missed_ticks': s.missed_ticks,
            'jitter_p50_ms': s.jitter_p50_ms, 'jitter_p99_ms': s.jitter_p99_ms,
            'latency_p50_ms': s.latency_p50_ms, 'latency_p99_ms': s.latency_p99_ms,
            'inference_p50_ms': s.inference_p50_ms, 'inference_p99_ms': s.inference_p99_ms,
            'safe_reason': reason or 'none', 'ticks': s.ticks,
        }
        if self.loop is not None:
            now = self._now()
            wd = self.inputs.watchdog
            stale = [n for n in wd.timeouts if not wd.age(n, now) <= wd.timeouts[n]]
            values.update({'stale_inputs': ','.join(stale) or 'none', 'watchdog_trips': wd.trips,
                           'rejected_samples': self.inputs.rejected,
                           'reanchors': self.inputs.reanchors,
                           'repeated_samples': self.inputs.repeated,
                           'safe_ticks': self.loop.safe_ticks,
                           'phase_corrections': self.phase.corrections if self.phase else 0,
                           'enabled': self.loop.enabled,
                           'backend': getattr(self.runner, 'backend_note', 'expert')})
        status = DiagnosticStatus(
            level=level, name=f'{self.get_fully_qualified_name()}: control loop',
            message=reason or 'driving', hardware_id=self.vehicle,
            values=[KeyValue(key=k, value=_fmt(v)) for k, v in values.items()])
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics.publish(msg)


def _fmt(value: Any) -> str:
    return f'{value:.3f}' if isinstance(value, float) else str(value)
