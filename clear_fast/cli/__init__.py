"""The ``clear-fast`` command: ``demo``, ``allocate``, ``fit`` and ``bench``.

``main`` is the entry point declared in pyproject.toml; ``python -m clear_fast.cli``
runs the same thing. Each subcommand lives in its own module with two functions,
``add_parser`` (its options) and ``run`` (what it does, returning an exit status).
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

from clear_fast import IMPLEMENTATION, __version__

from . import allocate_command, bench_command, demo_command, fit_command
from ._errors import CommandError
from ._parser import PROGRAM, OneLineArgumentParser

__all__ = ["CommandError", "build_parser", "main"]

_COMMANDS = (demo_command, allocate_command, fit_command, bench_command)

# Status 2 is the shell convention for "you asked for something that cannot be done as asked".
USAGE_ERROR = 2


def build_parser() -> OneLineArgumentParser:
    """The full argument parser, one subparser per command."""
    parser = OneLineArgumentParser(
        prog=PROGRAM,
        description="Spend one token budget across many LLM queries where it buys the most accuracy.",
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback when something goes wrong")
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__} ({IMPLEMENTATION} kernel)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineArgumentParser)
    subparsers.required = True
    for command in _COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``clear-fast`` command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success, 2 when the input or the options cannot be used as given
        (with a one-line message on stderr saying how to fix it), 1 on an
        unexpected failure.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except CommandError as error:
        if args.debug:
            raise
        print(f"{PROGRAM} {args.command}: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        # The reader of our stdout went away (`clear-fast allocate ... | head`): not an error.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"{PROGRAM} {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception:
        if args.debug:
            raise
        summary = traceback.format_exc().strip().splitlines()[-1]
        print(f"{PROGRAM} {args.command}: unexpected failure: {summary} (run with --debug for the traceback)",
              file=sys.stderr)
        return 1
