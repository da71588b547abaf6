"""Output made inert and strict for every sink, and the files it is written to."""
