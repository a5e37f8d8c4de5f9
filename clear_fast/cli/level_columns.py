"""Finding the effort levels in a table: paired ``cost_<level>`` and ``utility_<level>`` columns."""

from __future__ import annotations

from ._errors import CommandError
from .query_table import QueryTable


def level_names(table: QueryTable) -> list[str]:
    """Level names in the order their ``cost_`` columns appear.

    Raises
    ------
    CommandError
        When there are no level columns, or a cost has no matching utility (or
        the other way round).
    """
    costs = [name[len("cost_"):] for name in table.columns if name.startswith("cost_")]
    utilities = [name[len("utility_"):] for name in table.columns if name.startswith("utility_")]
    if not costs and not utilities:
        found = ", ".join(table.columns) or "none"
        raise CommandError(
            f"{table.source} has no effort-level columns (columns found: {found}); --levels needs "
            "cost_<level> and utility_<level> columns, e.g. cost_low,utility_low,cost_high,utility_high"
        )
    for name in costs:
        if name not in utilities:
            raise CommandError(f"{table.source}: column `cost_{name}` has no `utility_{name}`; add it or drop the cost")
    for name in utilities:
        if name not in costs:
            raise CommandError(f"{table.source}: column `utility_{name}` has no `cost_{name}`; add it or drop the utility")
    return costs
