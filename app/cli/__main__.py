"""``python -m app.cli``: the ``bloodtrace`` command line."""

from app.cli import main

main()
