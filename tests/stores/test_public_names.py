from __future__ import annotations

from types import ModuleType

import pytest

import stores
import stores.testing


def test_all_lists_exactly_the_public_names_of_the_package() -> None:
    public = {
        name
        for name, value in vars(stores).items()
        # Submodules (stores.testing once imported) are reached by import, not re-exported.
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert len(stores.__all__) == len(set(stores.__all__)), "a name is listed twice"
    assert set(stores.__all__) == public


def test_every_public_name_is_defined_in_a_private_module() -> None:
    for name in stores.__all__:
        assert getattr(stores, name).__module__.startswith("stores._"), name


@pytest.mark.parametrize("name", stores.__all__)
def test_every_public_name_has_its_own_docstring(name: str) -> None:
    # __doc__, not inspect.getdoc: a class does not inherit its base's docstring here.
    doc = getattr(stores, name).__doc__
    assert (doc or "").strip(), f"stores.{name} has no docstring"


def test_the_contract_suite_exports_what_its_all_lists() -> None:
    assert stores.__doc__
    assert stores.testing.__doc__
    assert stores.testing.EventStoreContract.__doc__
    for name in stores.testing.__all__:
        assert hasattr(stores.testing, name), name
