# cython: language_level=3
"""Market clearing: how clear_price cleared (see market.pyx)."""

# returned first by clear_price; the Python layer names them (clear_fast.allocate.CLEARINGS)
cpdef enum ClearingKind:
    BRACKET_MISSED = -1  # the price hints did not bracket the price: nothing allocated, retry with every query
    AMPLE = 0  # the budget covers demand at price 0
    CONTINUOUS = 1  # a price where demand meets the budget
    JUMP_OUT = 2  # demand jumps over the budget; the marginal query is left out
    JUMP_IN = 3  # demand jumps over the budget; the marginal query is funded at a higher price
