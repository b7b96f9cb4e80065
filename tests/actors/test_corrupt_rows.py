"""Fuzzed stored rows (corrupt JSON, wrong shape, unknown type): a clear error naming the row,
never a crash of the runtime or a silently wrong state."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors import GetProjectionStatus, Recorded, on
from runtime import open_runtime
from stores import EventDecodeError, MemoryEventStore, NewEvent

from .domain import Account, Balances, Deposit, Deposited, GetBalance, GetState

pytestmark = pytest.mark.anyio

GOOD = b'{"amount":5}'
# make reliability raises it (ESACTORS_FUZZ_EXAMPLES); make test keeps it quick.
_EXAMPLES = int(os.environ.get("ESACTORS_FUZZ_EXAMPLES", "60"))

corrupt_data = st.one_of(
    # Anything at all, but a raw NUL: append refuses that one up front (InvalidEvent).
    st.binary(max_size=40).filter(lambda b: b"\x00" not in b),
    st.sampled_from([b"", b"{", b'{"amount":', b"[]", b"null", b'{"amount":"x"}', b'{"amt":5}']),
    st.builds(  # well-formed JSON of the wrong shape
        lambda value: json.dumps({"amount": value}).encode(),
        st.one_of(st.text(max_size=5), st.lists(st.integers(), max_size=2), st.none()),
    ),
    st.builds(lambda n: GOOD[:n], st.integers(min_value=0, max_value=len(GOOD) - 1)),
)


def _decodes(data: bytes) -> bool:
    try:
        Deposited.model_validate_json(data)
    except ValueError:
        return False
    return True


@settings(
    max_examples=_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=corrupt_data)
async def test_a_corrupt_row_in_a_stream_fails_activation_naming_it_and_nothing_else(
    data: bytes,
) -> None:
    store = MemoryEventStore()
    await store.append("bad", [NewEvent("Deposited", GOOD), NewEvent("Deposited", data)], 0)
    async with open_runtime(store=store) as rt:
        if _decodes(data):
            await rt.get(Account, "bad").ask(GetState())
        else:
            with pytest.raises(EventDecodeError) as caught:
                await rt.get(Account, "bad").ask(GetState())
            assert (caught.value.stream_id, caught.value.version, caught.value.type) == (
                "bad",
                2,
                "Deposited",
            )
        # The runtime and every other aggregate carry on.
        assert (await rt.get(Account, "good").ask(Deposit(amount=1))).version == 1


@settings(max_examples=_EXAMPLES // 2, deadline=None)
@given(data=corrupt_data)
async def test_a_corrupt_row_in_the_log_stops_or_parks_a_projection_never_skips_silently(
    data: bytes,
) -> None:
    class Strict(Balances):
        retry_limit = 0

    class Lenient(Balances):
        retry_limit = 0
        on_failure = "park"

        @on(Deposited)
        def deposited(self, e: Recorded[Deposited]) -> None:
            super().deposited(e)

    store = MemoryEventStore()
    await store.append("a", [NewEvent("Deposited", GOOD)], 0)
    await store.append("b", [NewEvent("Deposited", data)], 0)
    await store.append("a", [NewEvent("Deposited", GOOD)], 1)
    async with open_runtime(store=store) as rt:
        strict = await rt.spawn(Strict)
        lenient = await rt.spawn(Lenient)
        assert await lenient.ask(GetBalance(account_id="a"), after=3) == 10
        parked = (await lenient.ask(GetProjectionStatus())).parked
        if _decodes(data):
            assert parked == ()
            assert await strict.ask(GetBalance(account_id="a"), after=3) == 10
        else:
            assert [(p.position, p.stream_id, p.version) for p in parked] == [(2, "b", 1)]
            # Position 1 is reached and answered; the stop comes with the very next event.
            assert await strict.ask(GetBalance(account_id="a"), after=1) == 5
            status = await strict.ask(GetProjectionStatus())
            assert (status.state, status.position) == ("stopped", 1)
