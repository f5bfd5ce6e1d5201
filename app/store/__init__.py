"""The log and read models on PostgreSQL (asyncpg). Driver errors are translated here."""
