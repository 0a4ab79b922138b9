"""Input coercion and NaN-gap handling shared by the wrappers."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .errors import IndicatorError

FloatArray = npt.NDArray[np.float64]


def as_float(name: str, values: npt.ArrayLike) -> FloatArray:
    """Return ``values`` as a contiguous 1-D float64 array (what TA-Lib requires)."""
    try:
        arr = np.ascontiguousarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise IndicatorError(name, "must be an array of numbers") from exc
    if arr.ndim != 1:
        raise IndicatorError(name, "must be one-dimensional")
    return arr


def _has_nan(arr: FloatArray) -> bool:
    """Any NaN in `arr`: x·x is NaN exactly when some element is (±inf squares to +inf).
    BLAS does it in ~40% of the time of a NumPy reduction on a million closes. A sum of
    squares past float64's range is +inf, not NaN: that overflow is expected, not warned."""
    with np.errstate(over="ignore"):
        return bool(np.isnan(arr.dot(arr)))


def same_length(**arrays: FloatArray) -> int:
    """Check that all arrays have one length and return it."""
    lengths = {name: len(arr) for name, arr in arrays.items()}
    n = next(iter(lengths.values()))
    for name, length in lengths.items():
        if length != n:
            raise IndicatorError(name, f"length {length} differs from the other inputs ({n})")
    return n


def first_valid(*arrays: FloatArray) -> int:
    """Index of the first bar where every input is a number (``len`` if none)."""
    if not any(_has_nan(arr) for arr in arrays):
        return 0
    bad = np.zeros(len(arrays[0]), dtype=bool)
    for arr in arrays:
        bad |= np.isnan(arr)
    good = np.flatnonzero(~bad)
    return int(good[0]) if good.size else len(bad)


def first_gap(*arrays: FloatArray) -> int | None:
    """Index of the first NaN bar *after* the first fully valid bar, or None.

    Leading NaNs are a legitimate warm-up (e.g. a listing date) and TA-Lib skips
    them; a NaN after data has started is a gap.
    """
    # Fast path: a NaN-free input (the common case) costs one BLAS dot per array.
    if not any(_has_nan(arr) for arr in arrays):
        return None
    bad = np.zeros(len(arrays[0]), dtype=bool)
    for arr in arrays:
        bad |= np.isnan(arr)
    good = np.flatnonzero(~bad)
    if good.size == 0:
        return None
    later_bad = np.flatnonzero(bad[good[0] :])
    return int(good[0] + later_bad[0]) if later_bad.size else None


def poison_from(gap: int | None, out: FloatArray) -> FloatArray:
    """Set ``out[gap:]`` to NaN (no-op when there is no gap)."""
    if gap is not None:
        out[gap:] = np.nan
    return out
