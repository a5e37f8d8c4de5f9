"""Argument parsing that reports a usage mistake on one line, with exit status 2."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

PROGRAM = "clear-fast"


class OneLineArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line naming the fix, not a usage dump.

    argparse's own format prints the whole usage block before the message; in a
    pipeline that scrolls the actual problem away, so only the message and a
    pointer to ``--help`` are printed.
    """

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")
        sys.exit(2)


def debug_option() -> argparse.ArgumentParser:
    """A parent parser adding ``--debug`` to a subcommand.

    Its default is suppressed so that ``clear-fast --debug allocate ...`` (set on
    the top-level parser) is not overwritten by the subcommand's default.
    """
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback when something goes wrong",
    )
    return parent


def positive_int(text: str) -> int:
    """argparse type: a whole number > 0."""
    value = whole_number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a whole number > 0, got {text!r}")
    return value


def whole_number(text: str) -> int:
    """argparse type: any whole number (sign checked by the caller, so its message can say why)."""
    try:
        as_float = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not as_float.is_integer():
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}")
    return int(as_float)


def comma_separated(text: str) -> list[str]:
    """argparse type: ``a,b,c`` as a list of non-empty, stripped items."""
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError(f"must be a comma-separated list without empty items, got {text!r}")
    return items
