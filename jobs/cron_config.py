"""Configuration for `rq cron jobs/cron_config.py` in production: the same SCHEDULE table.

rq cron reads cron strings in the process's local time, so run it with TZ set to TIMEZONE
(e.g. TZ=Asia/Shanghai).
"""
import os

from rq import cron

from jobs.schedule import SCHEDULE

QUEUE = os.environ.get("RQ_QUEUE_NAME", "kechi")

for func, expression in SCHEDULE:
    cron.register(func, queue_name=QUEUE, cron=expression)
