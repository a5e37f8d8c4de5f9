"""``python -m clear_fast.cli``: the same as the ``clear-fast`` command."""

from clear_fast.cli import main

raise SystemExit(main())
