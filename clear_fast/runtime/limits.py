"""The ranges a ledger keeps exact, the same for the in-process and the Redis ledger.

The Redis ledger computes with Lua numbers (doubles, exact for integers below
2**53, about 9.007e15). Capping every count a caller gives at 1e14 tokens, and
the allowance rollover can build up at 1e15, keeps every figure a window holds
far inside that range; the in-process ledger applies the same caps, so the two
answer every call alike.
"""

MAX_TOKENS = 10**14
"""Largest count one call may carry: a budget, a reservation, a usage, a carry cap."""

MAX_ALLOWANCE = 10**15
"""Rollover stops adding to a window's allowance here (ten times the largest budget)."""
