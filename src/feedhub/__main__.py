"""``python -m feedhub`` and the ``feedhub`` console script.

The command line (Flask, SQLAlchemy, the models) is imported inside ``main``:
a spawned parse worker re-imports its parent's main script, and importing
this module must not pull in more than parsing needs. Python's multiprocessing
skips a main module named ``*.__main__`` altogether.
"""

from __future__ import annotations


def main() -> None:
    from feedhub.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
