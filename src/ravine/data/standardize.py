"""``Standardizer``: x ← (x − μ) / σ per feature, μ and σ learned from the training split only."""

from __future__ import annotations

import numpy as np

from .._chunks import first_non_finite, iter_row_chunks

FORMAT = "ravine.Standardizer"
VERSION = 1


def _as_2d_float(X, name="X") -> np.ndarray:
    if not isinstance(X, np.ndarray):
        X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples × features); got shape {X.shape}")
    if X.dtype.kind in "biu":
        X = X.astype(np.float64)
    elif X.dtype.kind != "f":
        raise ValueError(f"{name} must hold numbers; got dtype {X.dtype}")
    return X


class Standardizer:
    """Per-feature standardization, ``x ← (x − μ) / σ``, fit on the training data only.

    ``fit(X_train)`` stores ``mean_`` (μ) and ``std_`` (σ, the population standard deviation,
    ``ddof=0``), both float64, computed block by block in float64 (so a memory-mapped ``X`` is
    never read whole; blocks are merged with Chan et al.'s pairwise update). A constant feature has
    σ = 0; it is divided by 1 instead (``scale_``), so it becomes 0, never NaN. ``transform`` keeps
    a float input's dtype (float32 stays float32; μ and σ are cast to it); integer input becomes
    float64.

    ``to_dict()``/``from_dict()`` round-trip through plain lists of floats (exact in JSON), for a
    model file without pickle.

    Example:
        >>> s = Standardizer().fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
        >>> s.mean_.tolist(), s.std_.tolist()
        ([1.0, 5.0], [1.0, 0.0])
        >>> s.transform(np.array([[4.0, 5.0]], np.float32))
        array([[3., 0.]], dtype=float32)
    """

    def __init__(self):
        self.mean_ = None
        self.std_ = None

    @property
    def fitted(self) -> bool:
        """Whether ``fit`` (or ``from_dict``) has run."""
        return self.mean_ is not None

    @property
    def n_features_in_(self) -> int:
        self._require_fitted("n_features_in_")
        return int(self.mean_.shape[0])

    @property
    def scale_(self) -> np.ndarray:
        """The divisor: σ, with 1 in place of 0 for constant features."""
        self._require_fitted("scale_")
        return np.where(self.std_ > 0, self.std_, 1.0)

    def fit(self, X, *, chunk_rows=None) -> "Standardizer":
        """Learn μ and σ of each column of ``X`` (n ≥ 1 rows, finite). Returns ``self``.

        Example:
            >>> Standardizer().fit(np.array([[1.0], [3.0]])).std_.tolist()
            [1.0]
        """
        X = _as_2d_float(X)
        if X.shape[0] == 0:
            raise ValueError("X must have at least one row to fit a Standardizer")
        count, mean, m2 = 0, np.zeros(X.shape[1]), np.zeros(X.shape[1])
        for start, block in iter_row_chunks(X, chunk_rows):
            b = block.astype(np.float64)
            nb = b.shape[0]
            mb = b.mean(axis=0)
            m2b = ((b - mb) ** 2).sum(axis=0)
            if not (np.all(np.isfinite(mb)) and np.all(np.isfinite(m2b))):
                found = first_non_finite(block)
                if found is None:
                    raise ValueError("X holds values too large to standardize (their squares "
                                     "overflow float64)")
                (i, j), kind = found
                raise ValueError(f"X contains {kind} at row {start + i}, column {j}")
            total = count + nb
            delta = mb - mean
            mean = mean + delta * (nb / total)
            m2 = m2 + m2b + delta ** 2 * (count * nb / total)
            count = total
        self.mean_ = mean
        self.std_ = np.sqrt(m2 / count)
        return self

    def transform(self, X) -> np.ndarray:
        """``(X − μ) / σ`` (σ = 0 replaced by 1), in ``X``'s float dtype.

        Example:
            >>> s = Standardizer().fit(np.array([[0.0], [2.0]]))
            >>> s.transform(np.array([[2.0]])).tolist()
            [[1.0]]
        """
        X = self._checked(X, "transform")
        dt = X.dtype
        return (X - self.mean_.astype(dt)) / self.scale_.astype(dt)

    def fit_transform(self, X) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``.

        Example:
            >>> Standardizer().fit_transform(np.array([[0.0], [2.0]])).tolist()
            [[-1.0], [1.0]]
        """
        return self.fit(X).transform(X)

    def inverse_transform(self, Z) -> np.ndarray:
        """``Z · σ + μ``: undoes ``transform`` (constant features come back as μ).

        Example:
            >>> s = Standardizer().fit(np.array([[0.0], [2.0]]))
            >>> s.inverse_transform(np.array([[1.0]])).tolist()
            [[2.0]]
        """
        Z = self._checked(Z, "inverse_transform")
        dt = Z.dtype
        return Z * self.scale_.astype(dt) + self.mean_.astype(dt)

    def to_dict(self) -> dict:
        """A plain dict (lists of floats) for a JSON or npz model file.

        Example:
            >>> Standardizer().fit(np.array([[0.0], [2.0]])).to_dict()["mean"]
            [1.0]
        """
        self._require_fitted("to_dict")
        return {"format": FORMAT, "version": VERSION, "mean": self.mean_.tolist(),
                "std": self.std_.tolist()}

    @classmethod
    def from_dict(cls, d) -> "Standardizer":
        """The ``Standardizer`` saved by ``to_dict`` (lists or arrays accepted), checked.

        Example:
            >>> s = Standardizer.from_dict({"mean": [1.0], "std": [2.0]})
            >>> s.transform(np.array([[3.0]])).tolist()
            [[1.0]]
        """
        if not isinstance(d, dict):
            raise TypeError(f"expected a dict from Standardizer.to_dict; got {type(d).__name__}")
        keys = {"format", "version", "mean", "std"}
        missing = sorted({"mean", "std"} - set(d))
        unexpected = sorted(set(d) - keys)
        if missing or unexpected:
            raise ValueError(f"Standardizer.from_dict: missing keys {missing}, unexpected keys "
                             f"{unexpected}")
        if "format" in d and d["format"] != FORMAT:
            raise ValueError(f"Standardizer.from_dict: format must be {FORMAT!r}; got "
                             f"{d['format']!r}")
        if "version" in d and d["version"] != VERSION:
            raise ValueError(f"Standardizer.from_dict: unsupported version {d['version']!r} "
                             f"(this ravine reads version {VERSION})")
        mean = np.asarray(d["mean"], dtype=np.float64)
        std = np.asarray(d["std"], dtype=np.float64)
        if mean.ndim != 1 or std.shape != mean.shape:
            raise ValueError(f"Standardizer.from_dict: mean and std must be 1-D of the same "
                             f"length; got shapes {mean.shape} and {std.shape}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std >= 0)):
            raise ValueError("Standardizer.from_dict: mean must be finite and std finite and >= 0")
        s = cls()
        s.mean_, s.std_ = mean, std
        return s

    def __repr__(self) -> str:
        return f"Standardizer(n_features={self.n_features_in_})" if self.fitted else \
            "Standardizer(not fitted)"

    def _require_fitted(self, what):
        if self.mean_ is None:
            raise ValueError(f"this Standardizer is not fitted yet; call fit(X_train) before "
                             f"{what}")

    def _checked(self, X, what):
        self._require_fitted(what)
        X = _as_2d_float(X)
        if X.shape[1] != self.mean_.shape[0]:
            raise ValueError(f"X has {X.shape[1]} features, but this Standardizer was fitted with "
                             f"{self.mean_.shape[0]}")
        return X
