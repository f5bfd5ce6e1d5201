"""Read models: pure folds of the log into tables (see ``base``), and their SQL text."""
