"""The one exception the command line shows to a person instead of a traceback."""

from __future__ import annotations


class CommandError(Exception):
    """A problem with what the user asked for, phrased as what is wrong and how to fix it.

    ``main`` prints the message on one line and exits with status 2; ``--debug``
    shows the traceback instead.
    """
