"""Fast random (version 4) UUID strings for event and command ids."""

from __future__ import annotations

from random import getrandbits

_VERSION_4 = 0x4000 << 64 | 0x8000 << 48
_CLEAR = ~(0xF000 << 64 | 0xC000 << 48)


def new_id() -> str:
    """A random RFC 4122 version 4 UUID, as its usual 36-character string.

    Four times cheaper than ``str(uuid.uuid4())``, which reads the OS entropy pool on every
    call: ids need uniqueness (122 random bits), not unpredictability, and ``random`` is reseeded
    in a forked child, so processes do not repeat each other's ids.
    """
    h = f"{getrandbits(128) & _CLEAR | _VERSION_4:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
