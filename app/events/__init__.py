"""Pure domain code: event types, identifiers and the decide/evolve functions.

Nothing here imports fastapi, asyncpg or app.api; a test checks the import graph.
"""
