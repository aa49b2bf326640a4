"""Parse workers are spawned processes; what they import is what they cost."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

HEAVY = ("flask", "sqlalchemy", "feedhub.app", "feedhub.models", "feedhub.cli")

# the console script pip writes, plus a pool as the poller starts it
SCRIPT = """
import sys
from {module} import {attr}

if __name__ == "__main__":
    from feedhub.ingest.parse_worker import new_pool

    with new_pool(1) as pool:
        probe = "sorted(m for m in {heavy!r} if m in __import__('sys').modules)"
        print(pool.submit(eval, probe).result(timeout=120))
"""


def test_a_worker_of_the_console_script_loads_no_web_or_database_code(tmp_path: Path) -> None:
    """A spawned worker re-runs its parent's main script: the ``feedhub`` script must
    stay light, or each worker loads Flask, SQLAlchemy and the models (1 s, 40 MB)."""
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "feedhub"]
    module, attr = script.value.split(":")
    path = tmp_path / "feedhub"
    path.write_text(SCRIPT.format(module=module, attr=attr, heavy=HEAVY))
    out = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, check=True, timeout=180
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(sys.platform != "linux", reason="pipe sizes are set with a Linux fcntl")
def test_the_result_pipe_holds_a_parsed_feed_without_a_reader() -> None:
    """A 40-entry feed parses to ~130 KB: a default 64 KiB pipe made the worker wait
    for the storing process's manager thread to read (BENCHMARKS.md)."""
    import fcntl

    from feedhub.ingest.parse_worker import RESULT_PIPE_BYTES, new_pool

    with new_pool(1) as pool:
        reader = pool._result_queue._reader  # type: ignore[attr-defined]
        size = fcntl.fcntl(reader.fileno(), getattr(fcntl, "F_GETPIPE_SZ", 1032))
    assert size >= RESULT_PIPE_BYTES
