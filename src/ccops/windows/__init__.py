"""Decisions for Windows seats, made on the controller from the raw facts a seat reports.

No PowerShell runs where ccops is developed, so logic inside a script on the seat is logic
no test sees: the seat gathers facts (JSON) or performs one named action; what to add,
remove, wipe or refuse is computed here and unit-tested on the real modules' result shapes.
"""
