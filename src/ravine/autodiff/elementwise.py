"""Elementwise boxes: arithmetic, exp/log/sqrt/abs/sign, maximum/where, the activations, casts.

Each function accepts Tensors or NumPy arrays. Given a Tensor it returns a Tensor (recorded when
recording is on); given only arrays it computes with NumPy and returns an array — which is how the
same bprop rule runs on arrays when nothing records and on Tensors when the backward pass is recorded.

Binary boxes broadcast as NumPy does; their bprop sums the gradient back to each input's shape
(``sum_to``), since an input broadcast along an axis was used once per position along it.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from .._checks import check_number
from .reductions import sum_to
from .tensor import Op, Tensor, apply, as_tensor, pair


def _value(v):
    """The array behind a Tensor or an array (for masks, which are constants of the graph)."""
    return v.data if isinstance(v, Tensor) else v


class Add(Op):
    """y = a + b;  ∂L/∂a = g,  ∂L/∂b = g (summed over broadcast axes)."""

    __slots__ = ()

    def fprop(self, a, b):
        return a + b

    def bprop(self, g, a, b, y):
        need_a, need_b = self.needs
        return (sum_to(g, a.shape) if need_a else None, sum_to(g, b.shape) if need_b else None)


class Sub(Op):
    """y = a − b;  ∂L/∂a = g,  ∂L/∂b = −g."""

    __slots__ = ()

    def fprop(self, a, b):
        return a - b

    def bprop(self, g, a, b, y):
        need_a, need_b = self.needs
        return (sum_to(g, a.shape) if need_a else None, sum_to(-g, b.shape) if need_b else None)


class Mul(Op):
    """y = a·b;  ∂L/∂a = g·b,  ∂L/∂b = g·a."""

    __slots__ = ()

    def fprop(self, a, b):
        return a * b

    def bprop(self, g, a, b, y):
        need_a, need_b = self.needs
        return (sum_to(g * b, a.shape) if need_a else None,
                sum_to(g * a, b.shape) if need_b else None)


class Div(Op):
    """y = a / b;  ∂L/∂a = g / b,  ∂L/∂b = −g·a / b² = −(g / b)·y."""

    __slots__ = ()

    def fprop(self, a, b):
        return a / b

    def bprop(self, g, a, b, y):
        need_a, need_b = self.needs
        g_over_b = g / b
        return (sum_to(g_over_b, a.shape) if need_a else None,
                sum_to(-(g_over_b * y), b.shape) if need_b else None)


class Neg(Op):
    """y = −a;  ∂L/∂a = −g."""

    __slots__ = ()

    def fprop(self, a):
        return -a

    def bprop(self, g, a, y):
        return (-g,)


class Pow(Op):
    """y = aᵖ for a constant exponent p;  ∂L/∂a = g·p·aᵖ⁻¹."""

    __slots__ = ("exponent",)

    def __init__(self, exponent: float):
        self.exponent = exponent

    def fprop(self, a):
        return a ** self.exponent

    def bprop(self, g, a, y):
        p = self.exponent
        if p == 2:
            return (g * (a + a),)
        return (g * (p * a ** (p - 1)),)


class Exp(Op):
    """y = eᵃ;  ∂L/∂a = g·y."""

    __slots__ = ()

    def fprop(self, a):
        return np.exp(a)

    def bprop(self, g, a, y):
        return (g * y,)


class Log(Op):
    """y = ln a;  ∂L/∂a = g / a."""

    __slots__ = ()

    def fprop(self, a):
        return np.log(a)

    def bprop(self, g, a, y):
        return (g / a,)


class Sqrt(Op):
    """y = √a;  ∂L/∂a = g / (2y)."""

    __slots__ = ()

    def fprop(self, a):
        return np.sqrt(a)

    def bprop(self, g, a, y):
        return ((g / y) * 0.5,)


class Abs(Op):
    """y = |a|;  ∂L/∂a = g·sign(a), with sign(0) = 0 (as PyTorch)."""

    __slots__ = ()

    def fprop(self, a):
        return np.abs(a)

    def bprop(self, g, a, y):
        return (g * sign(a),)


class Sign(Op):
    """y = sign(a) ∈ {−1, 0, 1};  piecewise constant, so ∂L/∂a = 0."""

    __slots__ = ()

    def fprop(self, a):
        return np.sign(a)

    def bprop(self, g, a, y):
        return (None,)


class Maximum(Op):
    """y = max(a, b) elementwise;  g flows to the larger input, half to each at a tie (as PyTorch)."""

    __slots__ = ()

    def fprop(self, a, b):
        return np.maximum(a, b)

    def bprop(self, g, a, b, y):
        av, bv = _value(a), _value(b)
        share_a = np.where(av > bv, 1.0, np.where(av == bv, 0.5, 0.0)).astype(av.dtype)
        need_a, need_b = self.needs
        return (sum_to(g * share_a, a.shape) if need_a else None,
                sum_to(g * (1 - share_a), b.shape) if need_b else None)


class Where(Op):
    """y = a where cond else b (cond a constant boolean array);  ∂L/∂a = g·cond, ∂L/∂b = g·¬cond."""

    __slots__ = ("cond",)

    def __init__(self, cond: np.ndarray):
        self.cond = cond

    def fprop(self, a, b):
        return np.where(self.cond, a, b)

    def bprop(self, g, a, b, y):
        need_a, need_b = self.needs
        return (sum_to(g * self.cond, a.shape) if need_a else None,
                sum_to(g * ~self.cond, b.shape) if need_b else None)


class Activation(Op):
    """An activation's box: h = φ(a) elementwise, whose derivative is read off the output.

    ``into(out)`` computes φ in place on a fresh array (the fused ``Dense`` box's fprop);
    ``derivative(h)`` = φ'(a) from h = φ(a), written with operators only, so that the one rule runs
    on arrays when nothing records and on Tensors when the backward pass is recorded (double
    backprop). bprop: ∂L/∂a = g·φ'(a). Each subclass is one entry of ``activations.ACTIVATIONS``.
    """

    __slots__ = ()

    def fprop(self, a):
        out = np.array(a, copy=True)  # integers (an array given to rv.elu, say) compute in float64
        return self.into(out if out.dtype.kind == "f" else out.astype(np.float64))

    @staticmethod
    def into(out):
        raise NotImplementedError

    @staticmethod
    def derivative(h):
        raise NotImplementedError

    def bprop(self, g, a, y):
        return (g * self.derivative(y),)


class Tanh(Activation):
    """y = tanh a;  ∂L/∂a = g·(1 − y²)."""

    __slots__ = ()

    def fprop(self, a):
        return np.tanh(a)

    @staticmethod
    def into(out):
        return np.tanh(out, out=out)

    @staticmethod
    def derivative(h):
        return 1 - h * h


class Sigmoid(Activation):
    """y = σ(a) = 1 / (1 + e⁻ᵃ);  ∂L/∂a = g·y·(1 − y)."""

    __slots__ = ()

    def fprop(self, a):
        return expit(a)

    @staticmethod
    def into(out):
        return expit(out, out=out)

    @staticmethod
    def derivative(h):
        return h * (1 - h)


class ReLU(Activation):
    """y = max(a, 0);  ∂L/∂a = g·[a > 0] = g·[y > 0]. At the kink a = 0 the derivative is taken as 0
    (as PyTorch)."""

    __slots__ = ()

    def fprop(self, a):
        return np.maximum(a, 0)

    @staticmethod
    def into(out):
        return np.maximum(out, 0, out=out)

    @staticmethod
    def derivative(h):
        return _value(h) > 0


class Softplus(Activation):
    """y = log(1 + eᵃ), computed as max(a, 0) + log(1 + e^−|a|) (no overflow);
    ∂L/∂a = g·σ(a) = g·(1 − e⁻ʸ)."""

    __slots__ = ()

    def fprop(self, a):
        return np.logaddexp(a, 0)

    @staticmethod
    def into(out):
        return np.logaddexp(out, 0, out=out)

    @staticmethod
    def derivative(h):
        return 1 - exp(-h)


class ELU(Activation):
    """y = a for a > 0, eᵃ − 1 otherwise (α = 1);  ∂L/∂a = g·(y + 1) for y < 0, g otherwise. At a = 0
    both sides give 1; the second derivative there is taken from the right, 0 (as PyTorch)."""

    __slots__ = ()

    @staticmethod
    def into(out):
        return np.expm1(out, out=out, where=out <= 0)

    @staticmethod
    def derivative(h):
        return h * (_value(h) < 0) + 1


class Cast(Op):
    """y = a converted to another float dtype;  ∂L/∂a = g converted back."""

    __slots__ = ("dtype", "source")

    def __init__(self, dtype, source):
        self.dtype, self.source = dtype, source

    def fprop(self, a):
        return a.astype(self.dtype)

    def bprop(self, g, a, y):
        return (g.astype(self.source),)


# --- functions: Tensors in, Tensor out (recorded); arrays in, array out ---------------------------

def _binary(op: Op, a, b, name: str, array_fn):
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return apply(op, *pair(a, b, name))
    return array_fn(a, b)


def add(a, b):
    """a + b, broadcasting as NumPy."""
    return _binary(Add(), a, b, "add", np.add)


def sub(a, b):
    """a − b, broadcasting as NumPy."""
    return _binary(Sub(), a, b, "sub", np.subtract)


def mul(a, b):
    """a · b elementwise, broadcasting as NumPy."""
    return _binary(Mul(), a, b, "mul", np.multiply)


def div(a, b):
    """a / b elementwise, broadcasting as NumPy."""
    return _binary(Div(), a, b, "div", np.divide)


def maximum(a, b):
    """Elementwise max(a, b); at a tie the gradient is shared half and half."""
    return _binary(Maximum(), a, b, "maximum", np.maximum)


def minimum(a, b):
    """Elementwise min(a, b) = −max(−a, −b)."""
    return neg(maximum(neg(a), neg(b)))


def where(cond, a, b):
    """``a`` where ``cond`` is true, else ``b``. ``cond`` is a boolean array, never differentiated."""
    cond = np.asarray(_value(cond))
    if cond.dtype != np.bool_:
        raise TypeError(f"where: cond must be a boolean array; got dtype {cond.dtype}")
    return _binary(Where(cond), a, b, "where", lambda x, y: np.where(cond, x, y))


def _unary(op: Op, a, array_fn):
    if isinstance(a, Tensor):
        return apply(op, a)
    return array_fn(a)


def neg(a):
    """−a."""
    return _unary(Neg(), a, np.negative)


def power(a, exponent):
    """aᵖ. A constant exponent is one box; a Tensor exponent is e^(p·ln a), defined for a > 0."""
    if isinstance(exponent, Tensor):
        return exp(mul(exponent, log(as_tensor(a) if not isinstance(a, Tensor) else a)))
    if isinstance(exponent, np.generic):
        exponent = exponent.item()  # a NumPy scalar is a number here, never a dtype to promote to
    try:  # the value itself is kept: an int exponent stays an int (x ** 2 on an int array)
        check_number("exponent", exponent, owner="power")
    except (TypeError, ValueError) as error:
        head, sep, tail = str(error).partition("; got ")
        raise type(error)(f"{head} or a Tensor{sep}{tail}") from None
    return _unary(Pow(exponent), a, lambda x: x ** exponent)


def exp(a):
    """eᵃ elementwise."""
    return _unary(Exp(), a, np.exp)


def log(a):
    """Natural logarithm elementwise."""
    return _unary(Log(), a, np.log)


def sqrt(a):
    """√a elementwise."""
    return _unary(Sqrt(), a, np.sqrt)


def abs(a):  # noqa: A001 - mirrors numpy.abs
    """|a| elementwise; its derivative at 0 is taken as 0."""
    return _unary(Abs(), a, np.abs)


def sign(a):
    """sign(a) ∈ {−1, 0, 1} elementwise; its derivative is 0."""
    return _unary(Sign(), a, np.sign)


def astype(a, dtype):
    """``a`` converted to ``dtype`` (float32 or float64), on the graph: the gradient converts back."""
    from .tensor import resolve_dtype

    dtype = resolve_dtype(dtype)
    if isinstance(a, Tensor):
        if a.dtype == dtype:
            return a
        return apply(Cast(dtype, a.dtype), a)
    return np.asarray(a).astype(dtype)
