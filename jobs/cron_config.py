"""Configuration for `rq cron jobs/cron_config.py` in production: the same SCHEDULE table.

rq cron reads cron strings in the process's local time, so run it with TZ set to TIMEZONE
(e.g. TZ=Asia/Shanghai).
"""
import os

from rq import cron

from jobs.schedule import SCHEDULE

QUEUE = os.environ.get("RQ_QUEUE_NAME", "kechi")

for func, expression in SCHEDULE:
    # a job may name its own timeout (e.g. greetings to every customer); rq's default is 180 s
    cron.register(func, queue_name=QUEUE, cron=expression, job_timeout=getattr(func, "job_timeout", None))
