"""``Sequential``: modules applied one after another, named "0", "1", "2", ...

Example::

    net = rv.nn.Sequential(rv.nn.Linear(2, 8, seed=0), rv.nn.Tanh(), rv.nn.Linear(8, 2, seed=1))
    logits = net(x)
"""

from __future__ import annotations

from .module import Module


class Sequential(Module):
    """h⁽ᵏ⁾ = module_k(h⁽ᵏ⁻¹⁾) for k = 1..n, h⁽⁰⁾ = x."""

    def __init__(self, *modules: Module):
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: item {i} must be a Module; got {type(module).__name__}")
            setattr(self, str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module.forward(x)
        return x

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())
