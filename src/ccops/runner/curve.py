"""Least squares with parts that cannot be negative, for the handful of points the capacity model fits.

A run time's parts (a fixed cost, a cost per host, a slow-down between hosts) are never negative:
a fit that wants one below zero is answered by the best fit without it. With three parts at most,
every subset of them is tried; the smallest error wins, the fewest parts on a tie.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

TIE = 1e-9  # errors this close (relative to the values' size) are a tie: the simpler fit wins


def nonnegative_fit(rows: Sequence[Sequence[float]], values: Sequence[float]) -> tuple[float, ...]:
    """Coefficients >= 0 minimising the squared error of ``rows @ coefficients`` against ``values``."""
    width = len(rows[0]) if rows else 0
    scale = 1.0 + sum(v * v for v in values)
    best: tuple[float, int, tuple[float, ...]] | None = None
    for size in range(1, width + 1):
        for columns in combinations(range(width), size):
            found = _solve_normal([[row[c] for c in columns] for row in rows], values)
            if found is None or min(found) < -TIE * scale:
                continue
            coefficients = [0.0] * width
            for column, value in zip(columns, found, strict=True):
                coefficients[column] = max(value, 0.0)
            error = sum(
                (sum(r * c for r, c in zip(row, coefficients, strict=True)) - v) ** 2
                for row, v in zip(rows, values, strict=True)
            )
            if best is None or error < best[0] - TIE * scale:
                best = (error, size, tuple(coefficients))
    return best[2] if best is not None else (0.0,) * width


def _solve_normal(rows: list[list[float]], values: Sequence[float]) -> list[float] | None:
    """The least-squares coefficients of ``rows`` (normal equations), or None when they are not determined."""
    width = len(rows[0])
    if len(rows) < width:
        return None
    matrix = [
        [sum(row[i] * row[j] for row in rows) for j in range(width)]
        + [sum(row[i] * v for row, v in zip(rows, values, strict=True))]
        for i in range(width)
    ]
    return _gauss(matrix)


def _gauss(matrix: list[list[float]]) -> list[float] | None:
    """Solve an augmented square system by elimination with partial pivoting; None when singular."""
    size = len(matrix)
    largest = max((abs(x) for row in matrix for x in row[:size]), default=0.0)
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(matrix[r][col]))
        if abs(matrix[pivot][col]) <= 1e-10 * largest:
            return None
        matrix[col], matrix[pivot] = matrix[pivot], matrix[col]
        for row in range(col + 1, size):
            factor = matrix[row][col] / matrix[col][col]
            matrix[row] = [x - factor * y for x, y in zip(matrix[row], matrix[col], strict=True)]
    solution = [0.0] * size
    for row in reversed(range(size)):
        done = sum(matrix[row][c] * solution[c] for c in range(row + 1, size))
        solution[row] = (matrix[row][size] - done) / matrix[row][row]
    return solution
