"""Jobs whose worker died: found through RQ's own StartedJobRegistry, put back on their queue,
and shown as interrupted on the page meanwhile.

A running job's worker confirms it every JOB_HEARTBEAT_SECONDS (RQ's job monitoring interval,
which renews the job's execution in the StartedJobRegistry). An execution silent for
JOB_ABANDONED_SECONDS belongs to a dead worker: RQ's registry cleanup then fails it with
AbandonedJobError, and the jobs below, which are all safe to run twice, are requeued under the
same RQ job id. An import continues after its last committed batch; a bulk send skips rows
already sent or claimed (a claimed row whose gateway call may have gone out is left to the
outbox lease, jobs.messaging._recover). Checked when a worker starts, every
JOB_RECOVERY_SECONDS by each worker (jobs.worker.KechiWorker) and every minute by the schedule.
"""
from __future__ import annotations

import logging
import os
import time

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry

from config import Config
from jobs.queue import EXTENSION, job_app_context

log = logging.getLogger(__name__)

# Job functions that may run again after their worker died (each is idempotent, see DESIGN §8).
RESUMABLE = frozenset({"jobs.excel.run_preview", "jobs.excel.run_import", "jobs.excel.run_export", "jobs.messaging.send_batch",
                       "jobs.messaging.send_messages", "jobs.messaging.send_message"})
LOCK_KEY = "kechi:recovery:{0}"


def setting(name: str) -> int:
    """A recovery setting where no Flask app exists (an `rq worker -w` process): the KECHI_
    variable create_app would read, then config.py's default."""
    return int(os.environ.get(f"KECHI_{name}") or getattr(Config, name))


def _silent_since(connection: Redis, job_id: str, execution_id: str) -> float:
    """When the execution last confirmed it was alive (0: its record is gone, it expired)."""
    try:
        return Execution.fetch(execution_id, job_id, connection).last_heartbeat.timestamp()
    except ValueError:
        return 0.0


def recover(connection: Redis, queue_name: str, *, abandoned_seconds: int) -> list[str]:
    """Fail the started jobs of `queue_name` whose worker is silent, with RQ's cleanup, and
    requeue the resumable ones. Returns the requeued job ids. One caller at a time per queue
    (a short Redis lock), so two workers never requeue the same job twice."""
    if not connection.set(LOCK_KEY.format(queue_name), 1, nx=True, ex=max(abandoned_seconds, 5)):
        return []
    try:
        registry = StartedJobRegistry(queue_name, connection=connection)
        cutoff = time.time() - abandoned_seconds
        for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
            if _silent_since(connection, job_id, execution_id) < cutoff:
                # RQ would wait for the entry's own expiry (up to a minute and a half more);
                # expiring it now lets its cleanup treat the job as abandoned at once.
                connection.zadd(registry.key, {f"{job_id}:{execution_id}": 0}, xx=True)
        abandoned: list[Job] = []
        registry.cleanup(exception_handlers=[lambda job, *exc: abandoned.append(job)])
        return [job.id for job in abandoned if _requeue(connection, queue_name, job)]
    finally:
        connection.delete(LOCK_KEY.format(queue_name))


def may_resume(job: Job) -> bool:
    """Resumable, and not yet resumed JOB_MAX_RESUMES times: a job that kills its own worker every
    time (a file that exhausts memory) stops with 已中断 instead of going round for ever."""
    if job.func_name not in RESUMABLE or int(job.meta.get("kechi_abandoned", 0)) >= setting("JOB_MAX_RESUMES"):
        log.warning("job %s (%s) lost its worker; not resumed, left failed", job.id, job.func_name)
        return False
    # counted, and the page says 任务中断，正在恢复 while it waits for a worker
    job.meta["kechi_abandoned"] = int(job.meta.get("kechi_abandoned", 0)) + 1
    job.save_meta()
    return True


def _requeue(connection: Redis, queue_name: str, job: Job) -> bool:
    if not may_resume(job):
        return False
    try:
        FailedJobRegistry(queue_name, connection=connection).requeue(job.id)
    except (InvalidJobOperation, NoSuchJobError):  # someone else requeued or deleted it
        return False
    log.warning("job %s (%s) was abandoned by its worker; requeued", job.id, job.func_name)
    return True


def recover_abandoned_jobs() -> int:
    """Every minute (jobs.schedule): the same check as a worker's, for a worker that never
    restarts. Embedded mode has no RQ and nothing to do."""
    with job_app_context() as app:
        runner = app.extensions[EXTENSION]
        if runner.mode != "redis":
            return 0
        return len(recover(runner.connection, app.config["RQ_QUEUE_NAME"],
                           abandoned_seconds=int(app.config["JOB_ABANDONED_SECONDS"])))


def interruption(queue_id: str | None) -> str | None:
    """For the page of a job the database calls queued or running: "recovering" when its worker
    died and RQ has it queued again, "interrupted" when its worker died and nobody has noticed
    yet (or it cannot be requeued), None when it is fine or RQ cannot tell."""
    runner = current_app.extensions.get(EXTENSION)
    if not queue_id or runner is None or runner.mode != "redis":
        return None
    try:
        job = Job.fetch(queue_id, connection=runner.connection)
        status = job.get_status(refresh=False)
        if status == JobStatus.QUEUED:
            return "recovering" if job.meta.get("kechi_abandoned") else None
        if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
            return "interrupted"
        if status != JobStatus.STARTED:
            return None
        registry = StartedJobRegistry(job.origin, connection=runner.connection)
        cutoff = time.time() - int(current_app.config["JOB_ABANDONED_SECONDS"])
        beats = [_silent_since(runner.connection, job_id, execution_id)
                 for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False) if job_id == job.id]
        return "interrupted" if not beats or max(beats) < cutoff else None
    except NoSuchJobError:
        return "interrupted"
    except RedisError:
        return None

