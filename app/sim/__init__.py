"""A national-network simulator: a realistic, seeded stream of commands that goes through the
same writer and rules as the HTTP API. Used by ``bloodtrace demo``, ``serve --demo`` and the
benchmarks."""
