"""Serve the application on a database URL for bench_pool.py (`claims`): a real server process
on loopback, configured like production (bench/common.make_app: not TESTING, no scheduler).

    .venv/bin/python bench/pool_server.py --url URL --port 8123 --server waitress --threads 8
    .venv/bin/python bench/pool_server.py --url URL --port 8123 --server gunicorn --workers 2 --threads 4

waitress: one process with N threads (what `flask --app app serve` runs, threads=8).
gunicorn: W worker processes, each building its own app (no preload, so no connection is shared
across a fork); gthread workers with T threads each (sync workers when T is 1).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import make_app, normalise_url  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--server", choices=("waitress", "gunicorn"), default="waitress")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn only")
    args = parser.parse_args()
    url = normalise_url(args.url)

    if args.server == "waitress":
        from waitress import serve

        serve(make_app(url), host=args.host, port=args.port, threads=args.threads, ident="kechi-bench")
        return

    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            self.cfg.set("worker_class", "gthread" if args.threads > 1 else "sync")
            self.cfg.set("preload_app", False)
            self.cfg.set("timeout", 120)
            self.cfg.set("keepalive", 30)
            self.cfg.set("loglevel", "warning")

        def load(self):
            return make_app(url)

    Server().run()


if __name__ == "__main__":
    main()
