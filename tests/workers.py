"""A real Celery worker process for the tests that need one (marked ``celery_worker``): started on the
configured broker (Redis in CI) with the test's environment, stopped politely, killed if it will not stop."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def worker_command(*, queue: str | None = None, loglevel: str = "WARNING") -> list[str]:
    """One solo worker (one task at a time), on ``queue`` when given, else the default queue."""
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1"]
    if queue:
        command += ["-Q", queue]
    return [*command, "--without-gossip", "--without-mingle", f"--loglevel={loglevel}"]


def start_worker(*, env: dict, queue: str | None = None, output=subprocess.DEVNULL) -> subprocess.Popen:
    """Start a worker with ``env`` (the whole environment); ``output=subprocess.PIPE`` keeps its log to show."""
    stderr = subprocess.STDOUT if output == subprocess.PIPE else subprocess.DEVNULL
    return subprocess.Popen(worker_command(queue=queue), cwd=ROOT, env=env, stdout=output, stderr=stderr)


def stop_worker(worker: subprocess.Popen, *, timeout: float = 20) -> None:
    """Ask the worker to stop (it finishes its task), then kill it if it has not within ``timeout`` seconds."""
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
