from __future__ import annotations

import pytest

# The contract suite and the fault-injecting store live in the package (every store's tests
# import them); give their asserts pytest's explanations. Registered here, at the root, so it
# runs before any test module imports them.
pytest.register_assert_rewrite("stores.testing", "stores.faults")


@pytest.fixture
def anyio_backend() -> str:
    # aiosqlite is asyncio-only, so the whole framework runs on asyncio.
    return "asyncio"
