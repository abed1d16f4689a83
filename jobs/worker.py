"""The RQ worker class of every deployment: `flask worker` uses it, and a plain `rq worker`
must be told to (`rq worker -w jobs.worker.KechiWorker ...`, see the README).

Two differences from rq's Worker:
- The work horse stays in the worker's process group. rq puts it in a group of its own
  (os.setpgrp in fork_work_horse), so `kill -TERM -<pgid>` of a worker, or a supervisor stopping
  the group, left the horse running its job with nobody watching it.
- A job whose horse was killed by a signal is put back on its queue, not failed, when it is
  resumable (jobs.recovery.RESUMABLE).
- Abandoned jobs (their worker died) are found and requeued when the worker starts and every
  JOB_RECOVERY_SECONDS after (jobs.recovery), and the running job is confirmed alive every
  JOB_HEARTBEAT_SECONDS, so a dead worker's job is noticed within JOB_ABANDONED_SECONDS.
"""
from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any

from redis.exceptions import RedisError
from rq import Worker
from rq.job import Job
from rq.queue import Queue
from rq.worker.base import SHUTDOWN_SIGNAL

from jobs import recovery

log = logging.getLogger(__name__)


class KechiWorker(Worker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Our settings, not rq's command-line defaults (a 30 s heartbeat, a 10-minute maintenance)
        kwargs["job_monitoring_interval"] = recovery.setting("JOB_HEARTBEAT_SECONDS")
        kwargs["maintenance_interval"] = recovery.setting("JOB_RECOVERY_SECONDS")
        super().__init__(*args, **kwargs)
        self.abandoned_seconds = recovery.setting("JOB_ABANDONED_SECONDS")

    @property
    def dequeue_timeout(self) -> int:
        """An idle worker waits on the queue at most until its next maintenance is due, so it
        looks for abandoned jobs on time even when no job comes."""
        return max(1, min(super().dequeue_timeout, int(self.maintenance_interval)))

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        for queue in self.queues:
            try:
                recovery.recover(self.connection, queue.name, abandoned_seconds=self.abandoned_seconds)
            except RedisError:  # the next maintenance tries again; the worker itself goes on
                log.exception("looking for abandoned jobs on %s failed", queue.name)

    def handle_work_horse_killed(self, job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
        """The horse died of a signal (the group was stopped, the OOM killer): rq fails the job
        next; a resumable one gets one retry instead, so RQ puts it back on its queue for the
        next worker (jobs.recovery.may_resume counts and caps these)."""
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        if os.WIFSIGNALED(ret_val or 0) and recovery.may_resume(job):
            job.retries_left = max(job.retries_left or 0, 1)

    def fork_work_horse(self, job: Job, queue: Queue) -> None:
        """rq's fork without os.setpgrp: the horse lives and dies with the worker's group."""
        child_pid = os.fork()
        os.environ["RQ_WORKER_ID"] = self.name
        os.environ["RQ_JOB_ID"] = job.id
        if child_pid == 0:
            self.main_work_horse(job, queue)
            os._exit(0)  # just in case
        else:
            self._horse_pid = child_pid
            self.procline(f"Forked {child_pid} at {time.time()}")

    def kill_horse(self, sig: signal.Signals = SHUTDOWN_SIGNAL) -> None:
        """The horse shares our group now: signal the horse and whatever it started (a parse in
        a subprocess), not the group (rq's killpg would kill this worker too)."""
        for pid in [*_descendants(self.horse_pid), self.horse_pid]:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                self.log.debug("Worker %s: process %s already dead", self.name, pid)
        self.log.info("Worker %s: killed horse pid %s", self.name, self.horse_pid)


def _descendants(pid: int) -> list[int]:
    """The processes below `pid`, deepest first, from /proc (empty where there is no /proc)."""
    children: dict[int, list[int]] = {}
    try:
        entries = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return []
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found[::-1]
