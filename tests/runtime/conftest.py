from __future__ import annotations

import pytest

from . import probes


@pytest.fixture(autouse=True, params=["sleeping", "parked"])
def idle_actors(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every runtime test runs twice: with probes that sleep with no task when idle (as
    aggregates do), and with probes that keep a task group and park their task (projections)."""
    monkeypatch.setattr(probes, "TASK_GROUP_BY_DEFAULT", request.param == "parked")
    return str(request.param)
