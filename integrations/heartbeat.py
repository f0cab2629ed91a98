"""Reports that a background process or a running job is alive, written from a thread of their
own so that they go on whatever the process is busy with (a chunk of an import, a slow query,
the reading of a large file), and stop exactly when the process dies."""

import logging
import os
import socket
import threading

from django.db import connections
from django.utils import timezone

from .models import Heartbeat

logger = logging.getLogger(__name__)


class Pulse:
    """Calls `beat()` every `interval` seconds (and once at once) on a daemon thread until
    `stop()`. The thread's database connections are its own (Django's are per thread) and are
    closed when it stops, after `on_stop()` (for a connection the beat made itself). A beat
    that fails is logged and the next one tried: a report must never stop the work."""

    def __init__(self, beat, *, interval, name, on_stop=None):
        self.beat = beat
        self.on_stop = on_stop
        self.interval = interval
        self.name = name
        self._condition = threading.Condition()
        self._stopping = False
        self._wanted = 0  # beats asked for by beat_now()
        self._done = 0  # beats made
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()
        return self

    def beat_now(self, *, timeout=10):
        """Beat at once and wait (at most `timeout` seconds) until it is written."""
        with self._condition:
            self._wanted += 1
            wanted = self._wanted
            self._condition.notify_all()
            self._condition.wait_for(lambda: self._done >= wanted, timeout=timeout)

    def stop(self):
        if self._thread is None:
            return
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        self._thread.join()
        self._thread = None

    def _loop(self):
        try:
            while True:
                with self._condition:
                    wanted = self._wanted
                self._beat_safely()
                with self._condition:
                    self._done = max(self._done, wanted)
                    self._condition.notify_all()
                    self._condition.wait_for(
                        lambda: self._stopping or self._wanted > self._done,
                        timeout=self.interval,
                    )
                    if self._stopping:
                        return
        finally:
            if self.on_stop is not None:
                self.on_stop()
            connections.close_all()

    def _beat_safely(self):
        try:
            self.beat()
        except Exception:
            logger.warning("%s could not report", self.name, exc_info=True)
            # A broken connection is replaced at the next beat.
            connections.close_all()


def record(name, role):
    """Write the report of the process `name` (a Heartbeat row: now, this host and pid)."""
    now = timezone.now()
    fields = {"role": role, "beat_at": now, "host": socket.gethostname()[:255], "pid": os.getpid()}
    if not Heartbeat.objects.filter(name=name).update(**fields):
        Heartbeat.objects.update_or_create(name=name, defaults=fields)


def forget(name):
    """A process that stops cleanly takes its report with it."""
    Heartbeat.objects.filter(name=name).delete()
