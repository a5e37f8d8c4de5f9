"""Type stub of clear_fast/_solver/market_rows.pyx (the twin: clear_fast/_reference/market_rows.py).

It has no Python entry points: its cdef functions, declared in market_rows.pxd,
reach market.pyx through Cython's table of C functions.
"""

__pyx_capi__: dict[str, object]
