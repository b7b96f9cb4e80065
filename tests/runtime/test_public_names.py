"""runtime exports exactly what ``__all__`` lists, and documents it."""

from __future__ import annotations

import inspect
import types

import pytest

import runtime


def _public_names() -> set[str]:
    return {
        name
        for name, value in vars(runtime).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }


def test_all_lists_exactly_the_public_names() -> None:
    assert set(runtime.__all__) == _public_names()


def test_all_has_no_duplicates() -> None:
    assert len(runtime.__all__) == len(set(runtime.__all__))


@pytest.mark.parametrize("name", runtime.__all__)
def test_every_name_in_all_exists_and_has_a_docstring(name: str) -> None:
    assert hasattr(runtime, name)
    assert inspect.getdoc(getattr(runtime, name))


def _public_members() -> list[str]:
    members = []
    for name in runtime.__all__:
        value = getattr(runtime, name)
        if not inspect.isclass(value):
            continue
        for member, attribute in vars(value).items():
            if member.startswith("_") or not (
                callable(attribute) or isinstance(attribute, (property, classmethod))
            ):
                continue
            members.append(f"{name}.{member}")
    return members


def _member(dotted: str) -> object:
    cls_name, member = dotted.split(".")
    return inspect.getattr_static(getattr(runtime, cls_name), member)


def _doc(obj: object) -> str | None:
    if isinstance(obj, classmethod | staticmethod):
        obj = obj.__func__
    return inspect.getdoc(obj)


@pytest.mark.parametrize("member", _public_members())
def test_every_public_method_and_property_has_a_docstring(member: str) -> None:
    assert _doc(_member(member))


@pytest.mark.parametrize(
    "member",
    [
        m
        for m in _public_members()
        if inspect.iscoroutinefunction(_member(m))
        and not getattr(getattr(runtime, m.split(".")[0]), "_is_protocol", False)
    ],
)
def test_every_public_async_method_says_what_cancelling_it_does(member: str) -> None:
    assert "Cancelling" in (_doc(_member(member)) or "")
