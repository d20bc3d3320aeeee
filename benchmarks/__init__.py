"""Synergia's performance harness (issue 5): ``make bench`` / ``python -m benchmarks``.

One module per case (``case_*.py``), a shared runner (``runner.py``), throwaway databases and
bulk data (``databases.py``, ``datagen.py``), a pty driver (``terminal.py``), the headless UI
driver (``ui_driver.py``) and the baseline Textual app (``baseline_app.py``). Not part of the
test suite; ``tests/test_bench_smoke.py`` only checks that it runs.
"""
