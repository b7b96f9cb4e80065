"""Each package's public names are exactly its ``__all__``, and each is documented."""

from __future__ import annotations

import types

import pytest

import actors
import runtime
import stores


@pytest.mark.parametrize("package", [actors, runtime, stores], ids=lambda p: p.__name__)
def test_public_names_are_exactly_all_and_documented(package: types.ModuleType) -> None:
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(package.__all__)
    for name in package.__all__:
        assert getattr(package, name).__doc__, f"{package.__name__}.{name} has no docstring"
