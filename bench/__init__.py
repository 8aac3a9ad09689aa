"""Benchmarks of FlowTime runs (issue 6): ``make bench`` runs them; never part of ``make test``.

Every figure is a ratio against a baseline measured in the same run, because absolute times vary
between machines. One module per benchmark (``b1_run_create`` … ``b6_reindex``), each runnable alone
as ``python -m bench.<module>``; ``harness`` and ``run_dirs`` are shared, ``report`` writes the table.
"""
