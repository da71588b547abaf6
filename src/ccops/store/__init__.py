"""The record store: runs, host results and asset versions in SQLite, hash-chained, spooled."""
