"""The demo's report: plots, tables and files a person can open.

:func:`write_report` takes the rows of an evaluation (one per stream, policy and
budget) and writes a folder with the Pareto plot, the abandonment and
shadow-price plots, and the numbers as CSV and JSON. Plotting needs matplotlib
(the ``demo`` extra) and always uses its file-only Agg backend, so it works on
machines without a screen.
"""

from .result_rows import COLUMNS, ResultRow, rows_from_records
from .report_folder import write_report
from .terminal_table import largest_gains, stream_tables

__all__ = ["COLUMNS", "ResultRow", "largest_gains", "rows_from_records", "stream_tables", "write_report"]
