"""The operator and method surface of ``Tensor``: ``a + b``, ``a @ b``, ``x.tanh()``, ``x.sum(0)`` ...

Each is a one-line call of the box it stands for; the boxes and their maths live in the op modules.
Comparisons (``x > 0``) return NumPy boolean arrays: they are masks, constants of the graph.
``==`` is deliberately left as identity, so Tensors stay usable as dictionary keys.
"""

from __future__ import annotations

from . import elementwise as ew
from . import activations, linalg, reductions, shape, softmax
from .backprop import backward
from .tensor import Tensor, apply, as_operand


def _binary(op_class, name: str):
    def forward(self, other):
        return apply(op_class(), self, as_operand(other, self, name))

    def reflected(self, other):
        return apply(op_class(), as_operand(other, self, name), self)

    return forward, reflected


Tensor.__add__, Tensor.__radd__ = _binary(ew.Add, "add")
Tensor.__sub__, Tensor.__rsub__ = _binary(ew.Sub, "sub")
Tensor.__mul__, Tensor.__rmul__ = _binary(ew.Mul, "mul")
Tensor.__truediv__, Tensor.__rtruediv__ = _binary(ew.Div, "div")
Tensor.__neg__ = lambda self: apply(ew.Neg(), self)
Tensor.__pos__ = lambda self: self
Tensor.__pow__ = lambda self, p: ew.power(self, p)
Tensor.__rpow__ = lambda self, base: ew.power(as_operand(base, self, "pow"), self)
Tensor.__matmul__ = lambda self, other: linalg.matmul(self, other)
Tensor.__rmatmul__ = lambda self, other: linalg.matmul(other, self)
Tensor.__getitem__ = lambda self, index: shape.getitem(self, index)

Tensor.__gt__ = lambda self, other: self.data > getattr(other, "data", other)
Tensor.__ge__ = lambda self, other: self.data >= getattr(other, "data", other)
Tensor.__lt__ = lambda self, other: self.data < getattr(other, "data", other)
Tensor.__le__ = lambda self, other: self.data <= getattr(other, "data", other)

Tensor.exp = lambda self: apply(ew.Exp(), self)
Tensor.log = lambda self: apply(ew.Log(), self)
Tensor.sqrt = lambda self: apply(ew.Sqrt(), self)
Tensor.abs = lambda self: apply(ew.Abs(), self)
Tensor.__abs__ = Tensor.abs
Tensor.sign = lambda self: apply(ew.Sign(), self)
for _name, _method in activations.METHODS.items():  # x.tanh(), x.softplus() ...: from the registry
    setattr(Tensor, _name, _method)
Tensor.astype = lambda self, dtype: ew.astype(self, dtype)
Tensor.maximum = lambda self, other: ew.maximum(self, other)
Tensor.softmax = lambda self, axis=-1: softmax.softmax(self, axis)
Tensor.log_softmax = lambda self, axis=-1: softmax.log_softmax(self, axis)

Tensor.sum = lambda self, axis=None, keepdims=False: reductions.sum(self, axis, keepdims)
Tensor.mean = lambda self, axis=None, keepdims=False: reductions.mean(self, axis, keepdims)
Tensor.max = lambda self, axis=None, keepdims=False: reductions.max(self, axis, keepdims)
Tensor.reshape = lambda self, *new_shape: shape.reshape(self, *new_shape)
Tensor.transpose = lambda self, *axes: shape.transpose(self, *axes)
Tensor.T = property(lambda self: shape.transpose(self))
Tensor.backward = backward
