"""The Tensor, and the box every operation of the flow graph is.

A ``Tensor`` wraps a NumPy array (float32 or float64). An operation is an ``Op``: ``fprop`` computes
its output array from its input arrays; ``bprop`` takes the gradient of the loss with respect to the
output, g = ∂L/∂y, and returns the gradient with respect to each input, ∂L/∂xᵢ = g · ∂y/∂xᵢ.
Backprop is calling ``bprop`` on every box in reverse order of creation (see ``backprop.py``).

``bprop`` is written with operators and the polymorphic functions of this package only, so the same
rule runs on raw arrays when nothing records (first-order training pays nothing) and on Tensors when
``create_graph=True`` (the backward pass is itself recorded and can be differentiated again).

Example::

    x = rv.Tensor([[1.0, -2.0]], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad            # Tensor([[ 2., -4.]])
"""

from __future__ import annotations

import itertools

import numpy as np

from .mode import _mode

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
DEFAULT_DTYPE = np.dtype(np.float32)

# Creation order of recorded boxes: a box is always created after the boxes that made its inputs,
# so visiting boxes from the highest number down is a valid reverse topological order.
_creation_counter = itertools.count()


def resolve_dtype(dtype) -> np.dtype:
    """``"float32"``, ``np.float64``, ... → a NumPy float dtype; anything else is a TypeError."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64; got {dtype!r}") from None
    if resolved not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64; got {resolved}")
    return resolved


def as_float_array(data, dtype=None, copy=True) -> np.ndarray:
    """Convert array-like ``data`` to a float32/float64 array.

    Float arrays keep their dtype (float32 or float64), integers and booleans become float32 (the
    default, as in PyTorch) unless ``dtype`` says otherwise; any other kind of data is a TypeError.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = resolve_dtype(dtype)
        if isinstance(data, np.ndarray) and data.dtype.kind not in "biuf":
            raise TypeError(f"Tensor data must be numbers; got an array of dtype {data.dtype}")
        return np.array(data, dtype=dtype, copy=copy or None)
    array = np.asarray(data)
    kind = array.dtype.kind
    if kind == "f" and not isinstance(data, (np.ndarray, np.generic)):
        return array.astype(DEFAULT_DTYPE)  # Python floats: the default dtype, as in PyTorch
    if kind == "f":
        if array.dtype not in FLOAT_DTYPES:
            raise TypeError(f"Tensor data must be float32 or float64; got {array.dtype}")
        return np.array(array, copy=True) if copy and array is data else array
    if kind in "biu":
        return array.astype(DEFAULT_DTYPE)
    raise TypeError(f"Tensor data must be numbers; got an array of dtype {array.dtype}")


class Tensor:
    """A node's value in the flow graph: a float32 or float64 NumPy array, and how it was made.

    ``Tensor(data, requires_grad=False, dtype=None)`` copies ``data`` (as ``torch.tensor`` does), so
    an optimizer updating a parameter in place never changes the caller's array. Python floats and
    integer arrays become float32; float64 arrays stay float64; the two are never mixed silently.

    Attributes: ``data`` (the array), ``requires_grad``, ``grad`` (filled by ``backward()``).
    """

    __slots__ = ("data", "requires_grad", "grad", "_node", "__weakref__")
    # NumPy defers to our reflected operators (array * Tensor → Tensor.__rmul__).
    __array_ufunc__ = None

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = as_float_array(data, dtype)
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._node = None

    # --- basic facts -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True unless this Tensor was made by a recorded operation."""
        return self._node is None

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def item(self) -> float:
        """The value of a one-element Tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a Tensor with one element; got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> "Tensor":
        """The same values, cut from the graph (shares memory)."""
        return constant(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if self._node is not None and not requires_grad:
            raise ValueError("requires_grad_(False) on a non-leaf Tensor: use detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        dtype = "" if self.data.dtype == DEFAULT_DTYPE else f", dtype={self.data.dtype}"
        return f"Tensor({body}{dtype}{extra})"

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    # --- differentiation ---------------------------------------------------------------------
    # backward(grad_output=None, create_graph=False) is bound in methods.py (see backprop.backward)


def constant(array: np.ndarray) -> Tensor:
    """Wrap an array (no copy) as a Tensor that does not require grad."""
    t = Tensor.__new__(Tensor)
    t.data = array
    t.requires_grad = False
    t.grad = None
    t._node = None
    return t


def _mismatch(op_name: str, a, b) -> TypeError:
    return TypeError(
        f"{op_name}: mismatched dtypes {a} and {b}; ravine never mixes them silently — "
        f"convert one with .astype()"
    )


def as_operand(value, like: Tensor, op_name: str) -> Tensor:
    """The other operand of a binary op, as a Tensor with ``like``'s dtype.

    Python numbers, integer and boolean arrays take ``like``'s dtype; a float array or Tensor of
    the other float dtype is a TypeError (float32 and float64 never mix silently).
    """
    if isinstance(value, Tensor):
        if value.data.dtype != like.data.dtype:
            raise _mismatch(op_name, like.data.dtype, value.data.dtype)
        return value
    dtype = like.data.dtype
    if isinstance(value, (bool, int, float)):
        return constant(dtype.type(value))
    array = np.asarray(value)
    kind = array.dtype.kind
    if kind == "f":
        if array.dtype != dtype:
            raise _mismatch(op_name, dtype, array.dtype)
        return constant(array)
    if kind in "biu":
        return constant(array.astype(dtype))
    raise TypeError(f"{op_name}: unsupported operand of type {type(value).__name__}")


def as_tensor(value, op_name: str = "operation") -> Tensor:
    """A Tensor as is; anything else wrapped without copying (NumPy floats keep their dtype)."""
    if isinstance(value, Tensor):
        return value
    return constant(as_float_array(value, copy=False))


def pair(a, b, op_name: str) -> tuple[Tensor, Tensor]:
    """Two operands as Tensors of one dtype: at least one of them must already be a Tensor."""
    if isinstance(a, Tensor):
        return a, as_operand(b, a, op_name)
    return as_operand(a, b, op_name), b


class Op:
    """A box of the flow graph.

    Subclasses implement ``fprop(*input_arrays) -> output_array`` and
    ``bprop(g, *inputs, output) -> tuple of input gradients`` (``None`` where an input needs none,
    see ``self.needs``). In ``bprop`` the inputs and output are arrays when the backward pass is not
    recorded and Tensors when it is, so a rule must use operators and polymorphic functions only.
    Parameters of the box (an axis, a shape, labels) live on the instance.

    Once recorded, a box holds its input Tensors (``inputs``) and their arrays (``args``),
    its output array (``out``) and its creation number (``seq``).
    """

    __slots__ = ("inputs", "args", "out", "seq")

    def fprop(self, *arrays):
        raise NotImplementedError

    def bprop(self, g, *args):
        raise NotImplementedError

    @property
    def needs(self) -> tuple[bool, ...]:
        """For each input, whether it needs a gradient (bprop skips the work for the others)."""
        return tuple([t.requires_grad for t in self.inputs])

    @property
    def name(self) -> str:
        return type(self).__name__


def apply(op: Op, *inputs: Tensor) -> Tensor:
    """Run ``op.fprop`` on the inputs' arrays and, if recording, link the box into the graph."""
    arrays = [t.data for t in inputs]
    data = op.fprop(*arrays)
    out = Tensor.__new__(Tensor)
    out.data = data
    out.grad = None
    if _mode.enabled:
        for t in inputs:
            if t.requires_grad:
                op.inputs = inputs
                op.args = arrays
                op.out = data
                op.seq = next(_creation_counter)
                out.requires_grad = True
                out._node = op
                return out
    out.requires_grad = False
    out._node = None
    return out


def recorded_output(op: Op) -> Tensor:
    """A Tensor standing for ``op``'s output while its backward pass is recorded.

    It carries the output's value and is linked to ``op`` itself, so gradients through it reach the
    same box; the graph keeps no reference from a box to its output Tensor (no reference cycles).
    """
    t = Tensor.__new__(Tensor)
    t.data = op.out
    t.grad = None
    t.requires_grad = True
    t._node = op
    return t


# The operator and method surface of Tensor is bound in methods.py, after the ops exist.
