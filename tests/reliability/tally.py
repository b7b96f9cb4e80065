"""A pytest plugin for ``make reliability``: counts the faults injected and the inputs fuzzed
over the whole run, and prints them in the closing summary.

Loaded only on request (``pytest -p tests.reliability.tally``): it wraps ``FaultyStore`` to
see every store's fault counter, and hypothesis's example runs to count fuzzed inputs.
"""

from __future__ import annotations

import inspect
from collections import Counter
from typing import Any

import pytest

_faults: list[Counter[Any]] = []
_examples: Counter[str] = Counter()


def pytest_configure(config: pytest.Config) -> None:
    # Imported here, not at the top: the root conftest must first register stores.faults for
    # assert rewriting, and -p plugins are imported before any conftest.
    from stores.faults import FaultyStore

    original = FaultyStore.__init__

    def counting_init(self: FaultyStore, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _faults.append(self.injected)  # the counter only: the store itself may be collected

    FaultyStore.__init__ = counting_init  # type: ignore[method-assign]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    # Each hypothesis example calls the test's inner function; count them per test.
    function = getattr(item, "obj", None)
    inner = getattr(getattr(function, "hypothesis", None), "inner_test", None)
    if inner is not None:
        name = item.name
        counted: Any
        if inspect.iscoroutinefunction(inner):
            # Stays a coroutine function, so anyio's plugin still runs it in its event loop.
            async def counted(*args: Any, **kwargs: Any) -> Any:
                _examples[name] += 1
                return await inner(*args, **kwargs)
        else:

            def counted(*args: Any, **kwargs: Any) -> Any:
                _examples[name] += 1
                return inner(*args, **kwargs)

        function.hypothesis.inner_test = counted  # type: ignore[union-attr]
        try:
            return (yield)
        finally:
            function.hypothesis.inner_test = inner  # type: ignore[union-attr]
    return (yield)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    injected: Counter[Any] = Counter()
    for counter in _faults:
        injected.update(counter)
    kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(injected.items()))
    fuzzed = sum(_examples.values())
    terminalreporter.write_line(
        f"faults injected per kind: {kinds or 'none'}; "
        f"inputs fuzzed (hypothesis examples of corrupt stored rows): {fuzzed:,}"
    )
