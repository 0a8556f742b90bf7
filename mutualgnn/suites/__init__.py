"""Benchmark suites shipped with mutualgnn (YAML; see :mod:`mutualgnn.bench`)."""
