"""How a node process runs: executor choice, the spin loop, signals and an orderly shutdown.

Every console script (``drive_node``, ``flight_node``, ``sim_bridge_node``) goes through
``run_node``, which is exactly what ``ros2 run`` and ``ros2 launch`` start.

Two facts of the rclpy 7.1 wheels shape it (docs/ros2.md):

* ``EventsExecutor().spin()`` never fires a callback (a node with one timer busy-loops and
  ignores SIGINT), while ``spin_once(timeout_sec=...)`` in a loop works and keeps the events
  executor's low latency. So we always spin with ``spin_once`` in our own loop.
* rclpy's Python ``MultiThreadedExecutor`` loses ticks here: a standalone drive_node fed
  20 Hz frames and 100 Hz IMU ran at 15 Hz with 396 missed ticks in 60 s (p99 latency 266 ms),
  and its timers can stop firing altogether (rclpy#1223); a pytest process once stalled 176 s
  in a test that used it. The nodes are written for one thread (a tick never blocks), so they
  use the events executor, or the ``SingleThreadedExecutor`` where rclpy has no events one.
* rclpy's own signal handlers shut the context down at once, so a node could no longer publish
  its safe command. We install our own SIGINT/SIGTERM handlers instead: they only ask the loop
  to stop; the node then publishes its safe command, and everything is torn down in order
  (executor first, then nodes, then the context), which also avoids a crash at exit.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
import contextlib
import gc
import os
import signal
import sys
import threading
import time
from typing import Any, Protocol

from lnn_control.nodes.common import StartupError
import rclpy
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

#: Longest a spin_once call waits: how long after a signal the loop notices it, at most.
SPIN_TIMEOUT_S = 0.1
#: How long a simulator that has finished keeps spinning so its last messages go out.
DRAIN_S = 0.5


class StoppableNode(Protocol):
    """A node that ``run_node`` can run: it knows how to leave the vehicle safe."""

    def stop(self) -> None:
        """Leave the vehicle safe before the process ends (publish the safe command)."""


def make_executor(*, context: Any = None) -> Executor:
    """Build the one-threaded executor every node spins on.

    rclpy's C++ ``EventsExecutor`` (rclpy.experimental, Jazzy and later): no Python wait-set
    rebuild per callback. An rclpy without it gets the ``SingleThreadedExecutor``.
    """
    try:
        from rclpy.experimental.events_executor import EventsExecutor
    except ImportError:
        return SingleThreadedExecutor(context=context)
    # It enables faulthandler on sys.stderr, which needs a real file descriptor; a captured
    # stderr (pytest, an IDE console) has none.
    with contextlib.redirect_stderr(sys.stderr if _has_fileno(sys.stderr) else sys.__stderr__):
        return EventsExecutor(context=context)


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return False
    return True


def close_executor(executor: Executor | None, nodes: Iterable[Node]) -> None:
    """Stop ``executor`` from running anything more for ``nodes``, then shut it down.

    Safe to call with ``None`` (nothing was started).
    """
    if executor is None:
        return
    for node in nodes:
        executor.remove_node(node)
    executor.shutdown(timeout_sec=1.0)


class StopRequest:
    """SIGINT and SIGTERM handlers that only set a flag (installed for the ``with`` block).

    A second signal while the node is shutting down is ignored: the shutdown is bounded, and
    ``ros2 launch`` escalates to SIGKILL on its own if a process hangs.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name = ''
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        """Whether a stop signal has arrived."""
        return self._event.is_set()

    def _handle(self, signum: int, _frame: Any) -> None:
        if not self.signal_name:
            self.signal_name = signal.Signals(signum).name
        self._event.set()

    def __enter__(self) -> StopRequest:
        for sig in self.SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def missing_parameter_files(args: list[str]) -> list[str]:
    """Return the ``--params-file`` arguments that name no file (rcl's own error is obscure)."""
    return [value for flag, value in zip(args, args[1:], strict=False)
            if flag == '--params-file' and not os.path.isfile(value)]


def _rcl_message(exc: Exception) -> str:
    """Return rcl's error without its C source locations (``..., at /project/src/x.c:271``)."""
    return str(exc).split(', at /')[0]


def run_node(node_cls: Callable[[], StoppableNode], args: list[str] | None = None, *,
             finished: Callable[[Any], bool] | None = None) -> int:
    """Run one node until SIGINT/SIGTERM (or ``finished(node)``), then shut down in order.

    Returns the process exit code: 0 after a signal or when finished, 1 when the node cannot
    start (one line on stderr says why: a bad parameter, a missing parameter file, checkpoint
    or message package).
    """
    argv = sys.argv if args is None else args
    name = os.path.basename(sys.argv[0]) or 'node'  # the executable, as the user typed it
    missing = missing_parameter_files(list(argv))
    if missing:
        print(f'error: {name}: parameter file {missing[0]!r} does not exist', file=sys.stderr)
        return 1
    with StopRequest() as stop:
        try:
            rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
        except Exception as exc:  # rcl's RCLError: a malformed --ros-args command line
            print(f'error: {name}: {_rcl_message(exc)}', file=sys.stderr)
            return 1
        node: Any = None
        executor: Executor | None = None
        try:
            node = node_cls()
            executor = make_executor()
            executor.add_node(node)
            # Everything built so far (torch, the policy) lives as long as the process: keep it
            # out of the cyclic collector's full passes, which otherwise walk torch's whole
            # object graph (~0.1 s) at random ticks and again at exit.
            gc.freeze()
            while not stop.requested and rclpy.ok() and not (finished and finished(node)):
                executor.spin_once(timeout_sec=SPIN_TIMEOUT_S)
            if finished is not None and finished(node):
                deadline = time.monotonic() + DRAIN_S
                while not stop.requested and rclpy.ok() and time.monotonic() < deadline:
                    executor.spin_once(timeout_sec=0.05)
            if stop.requested:
                node.get_logger().info(f'{stop.signal_name}: stopping')
            node.stop()
        except StartupError as exc:
            print(f'error: {exc}', file=sys.stderr)
            return 1
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        finally:
            close_executor(executor, [node] if node is not None else [])
            if node is not None:
                node.destroy_node()
            rclpy.try_shutdown()
            gc.freeze()  # exit without a last full collection (~0.7 s with torch loaded)
    return 0
