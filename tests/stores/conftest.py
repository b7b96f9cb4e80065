from __future__ import annotations

import pytest

# The contract suite lives in the package (other stores' tests import it); give its asserts
# pytest's explanations. This runs before any test module here imports it.
pytest.register_assert_rewrite("stores.testing")
