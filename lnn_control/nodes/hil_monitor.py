"""``HilMonitor``: listens to the bridge's metrics and the vehicle's /diagnostics.

Used by ``lnn-control launch`` (to print progress and stop after the laps) and by ``lnn-control
hil`` (to judge the run). It only subscribes, so it can run on either machine of a two-machine
set-up.
"""
from __future__ import annotations

from collections.abc import Callable
import json
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from lnn_control.nodes.common import STATE_QOS
from rclpy.node import Node
from std_msgs.msg import String

CONTROL_LOOP_SUFFIX = ': control loop'


class HilMonitor(Node):
    """Collects episode events, progress and the latest control-loop diagnostics.

    Args:
        metrics_topic: The bridge's JSON event topic (relative names follow ``namespace``).
        on_event: Called with every decoded event (progress printing).
    """

    def __init__(self, metrics_topic: str = 'sim/metrics', *,
                 on_event: Callable[[dict[str, Any]], None] | None = None,
                 node_name: str = 'hil_monitor', **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self.on_event = on_event
        self.episodes: list[dict[str, Any]] = []
        self.progress: dict[str, Any] = {}
        self.final: dict[str, Any] | None = None
        self.diagnostics: dict[str, str] = {}
        self.create_subscription(String, metrics_topic, self._on_metrics, STATE_QOS)
        self.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)

    @property
    def done(self) -> bool:
        """The bridge reported the end of the run."""
        return self.final is not None

    def _on_metrics(self, msg: String) -> None:
        try:
            event = json.loads(msg.data)
        except json.JSONDecodeError:
            self.get_logger().warning(f'undecodable metrics message: {msg.data[:80]!r}')
            return
        kind = event.get('event')
        if kind == 'episode':
            self.episodes.append(event)
        elif kind == 'progress':
            self.progress = event
        elif kind == 'done':
            self.final = event
        if self.on_event is not None:
            self.on_event(event)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.endswith(CONTROL_LOOP_SUFFIX):
                self.diagnostics = {kv.key: kv.value for kv in status.values}
                self.diagnostics['message'] = status.message
