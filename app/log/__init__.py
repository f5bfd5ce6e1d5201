"""The verifiable log, pure: canonical records, hash chain, Merkle tree, signed notes and
checkpoints, proofs, export lines, unit bundles, verifiers and the witness's checks. Nothing
here reads a database, a network or a setting (``tests/unit/test_log_purity.py``)."""
