"""Event and command ids: valid version 4 UUIDs that seeding the global random cannot repeat."""

from __future__ import annotations

import os
import random
import uuid
import warnings

from stores import NewEvent


def test_event_ids_are_version_4_uuids() -> None:
    for _ in range(200):
        parsed = uuid.UUID(NewEvent("T", b"{}").event_id)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)


def test_seeding_the_global_random_does_not_repeat_ids() -> None:
    random.seed(42)
    first = [NewEvent("T", b"{}").event_id for _ in range(5)]
    random.seed(42)
    second = [NewEvent("T", b"{}").event_id for _ in range(5)]
    assert not set(first) & set(second)


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    read, write = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() beside other threads; this child only writes a line.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write, NewEvent("T", b"{}").event_id.encode())
        os._exit(0)
    os.close(write)
    parent = NewEvent("T", b"{}").event_id
    child = os.read(read, 100).decode()
    os.waitpid(pid, 0)
    os.close(read)
    assert child != parent
    assert len(child) == 36
