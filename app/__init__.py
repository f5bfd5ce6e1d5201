"""bloodtrace: an event-sourced, hash-chained blood unit traceability service."""
