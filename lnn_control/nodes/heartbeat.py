"""A fixed-rate heartbeat on its own thread, independent of the executor and the control tick.

PX4 leaves offboard mode when ``OffboardControlMode`` comes slower than 2 Hz. On the node's
executor the heartbeat would wait behind a slow tick or a stalled inference; on its own thread it
keeps its rate (a stalled policy sleeps or runs torch code, both of which release the GIL).
"""
from __future__ import annotations

from collections.abc import Callable
import threading
import time


class Heartbeat:
    """Call ``beat`` every ``1 / rate_hz`` seconds from a daemon thread while started.

    Args:
        beat: Publishes one heartbeat; an exception stops the heartbeat and is passed to
            ``on_error`` (a destroyed publisher at shutdown, say).
        rate_hz: Beats per second.
        on_error: Told why the heartbeat stopped.
    """

    def __init__(self, beat: Callable[[], None], rate_hz: float,
                 on_error: Callable[[Exception], None]) -> None:
        if not rate_hz > 0:
            raise ValueError(f'Heartbeat: rate_hz must be positive, got {rate_hz!r}')
        self._beat = beat
        self.period = 1.0 / rate_hz
        self._on_error = on_error
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.beats = 0

    @property
    def running(self) -> bool:
        """Whether the thread is beating."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Beat now, then every period (no-op when already running)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name='heartbeat', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop beating; returns once the thread has ended."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._thread = None

    def _run(self) -> None:
        due = time.monotonic()
        while True:
            try:
                self._beat()
            except Exception as exc:  # noqa: B902 (reported, and the thread ends cleanly)
                self._on_error(exc)
                return
            self.beats += 1
            due += self.period
            # Behind by more than a period (the process was suspended): restart the schedule
            # rather than beat in a burst.
            due = max(due, time.monotonic())
            if self._stop.wait(due - time.monotonic()):
                return
