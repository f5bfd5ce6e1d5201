"""The verifiable log: canonical records, hash chain, Merkle tree, checkpoints, proofs."""
