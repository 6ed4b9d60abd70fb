"""How a node process runs: executor choice, the spin loop, signals and an orderly shutdown.

Every console script (``drive_node``, ``flight_node``, ``sim_bridge_node``) goes through
``run_node``, which is exactly what ``ros2 run`` and ``ros2 launch`` start.

Two facts of the rclpy 7.1 wheels shape it (docs/ros2.md):

* ``EventsExecutor().spin()`` never fires a callback (a node with one timer busy-loops and
  ignores SIGINT), while ``spin_once(timeout_sec=...)`` in a loop works and keeps the events
  executor's low latency. So we always spin with ``spin_once`` in our own loop.
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
from rclpy.executors import Executor, ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

#: Longest a spin_once call waits: how long after a signal the loop notices it, at most.
SPIN_TIMEOUT_S = 0.1
#: How long a simulator that has finished keeps spinning so its last messages go out.
DRAIN_S = 0.5


class StoppableNode(Protocol):
    """A node that ``run_node`` can run: it says which executor it wants and how to stop."""

    def executor_kind(self) -> str:
        """Return the executor to spin on (``events`` or ``multi_threaded``)."""

    def stop(self) -> None:
        """Leave the vehicle safe before the process ends (publish the safe command)."""


def make_executor(kind: str = 'events', *, context: Any = None,
                  num_threads: int = 3) -> Executor:
    """Build the executor named by a node's ``executor`` parameter.

    ``events`` is rclpy's C++ ``EventsExecutor`` (rclpy.experimental, Jazzy and later): one
    thread, no Python wait-set rebuild per callback. On the 2-core bench machine the Python
    ``MultiThreadedExecutor`` kept a core busy in its wait loop and starved the control tick of
    the GIL (docs/ros2.md). ``multi_threaded`` keeps the callback groups on ``num_threads``
    threads. An rclpy without the events executor falls back to ``multi_threaded``, saying so.
    """
    if kind == 'events':
        try:
            from rclpy.experimental.events_executor import EventsExecutor
        except ImportError as exc:
            print(f'warning: executor events unavailable ({exc}); using multi_threaded',
                  file=sys.stderr)
        else:
            # It enables faulthandler on sys.stderr, which needs a real file descriptor; a
            # captured stderr (pytest, an IDE console) has none.
            with contextlib.redirect_stderr(sys.stderr if _has_fileno(sys.stderr)
                                            else sys.__stderr__):
                return EventsExecutor(context=context)
    elif kind != 'multi_threaded':
        raise ValueError(f"executor: expected 'events' or 'multi_threaded', got {kind!r}")
    return MultiThreadedExecutor(num_threads=num_threads, context=context)


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return False
    return True


def close_executor(executor: Executor | None, nodes: Iterable[Node]) -> None:
    """Stop ``executor`` from running anything more for ``nodes``, waiting for callbacks.

    rclpy 7.1's ``Executor.shutdown()`` does not wait for callbacks still running in a
    ``MultiThreadedExecutor``'s thread pool; they would then touch destroyed handles. Wait for
    them first. Safe to call with ``None`` (nothing was started).
    """
    if executor is None:
        return
    for node in nodes:
        executor.remove_node(node)
    pool = getattr(executor, '_executor', None)
    if pool is not None:
        pool.shutdown(wait=True)
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
            executor = make_executor(node.executor_kind())
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
