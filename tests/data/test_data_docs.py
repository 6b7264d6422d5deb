"""Every public name of ravine.data documents itself with an example, and the examples run."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import ravine.data as rd

MODULES = sorted(m.name for m in pkgutil.iter_modules(rd.__path__))


@pytest.mark.parametrize("module", ["ravine.data"] + [f"ravine.data.{m}" for m in MODULES])
def test_doctests_pass(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def public_callables():
    for name in rd.__all__:
        obj = getattr(rd, name)
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj):
            yield name, obj
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and (inspect.isfunction(member)
                                                 or isinstance(member, classmethod)):
                    yield f"{name}.{attr}", getattr(obj, attr)


@pytest.mark.parametrize("name, obj", list(public_callables()), ids=lambda v: str(v)[:40])
def test_public_names_have_a_docstring_with_an_example(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert ">>>" in doc, f"{name} has no example in its docstring"
