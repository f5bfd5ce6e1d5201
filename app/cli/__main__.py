"""``python -m app.cli``: the ``bloodtrace`` command line."""

from app.cli import main

if __name__ == "__main__":  # not in the worker processes multiprocessing spawns
    main()
