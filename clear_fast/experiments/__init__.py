"""Experiments on clear_fast: the demo, the solver benchmark and its baseline, and the demo's report.

* :mod:`.demo_experiment` - the paper's five policies on the built-in streams,
  CLEAR's caps also replayed through a LangChain chain when ``langchain-clear-fast``
  is installed (``clear-fast demo``).
* :mod:`.solver_benchmark` - ``allocate`` beside the paper's price bisection and a
  sort, as ratios (``clear-fast bench`` and ``benchmarks/bench_solver.py``).
* :mod:`.bisection_baseline` - that bisection, written with numpy and scipy only.
* :mod:`.report` - the demo's plots, tables and result files (needs matplotlib and rich).

Nothing here is imported by ``import clear_fast``; each module loads its optional
dependencies (scipy, rich, matplotlib) itself.
"""
