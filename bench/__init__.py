"""Benchmarks: ``python -m bench.run --quick|--full`` (``make bench-quick`` / ``make bench``)."""
