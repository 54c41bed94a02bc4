"""Reproducible timing scripts: ``python -m benchmarks NAME`` runs ``bench_NAME.main()``."""
