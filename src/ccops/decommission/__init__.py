"""Leaving service: the guards, what a plan shows, the certificate a host leaves."""
