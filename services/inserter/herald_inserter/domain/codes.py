"""Voucher codes from a cryptographically secure source.

12 symbols from a 32-letter alphabet without look-alikes (0/O, 1/I) give 60 random bits
per code: guessing is hopeless, and the unique index turns the rare collision into a retry.
"""

from __future__ import annotations

import base64
import secrets

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SYMBOLS_PER_CODE = 12
_BASE32_TO_CODE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CODE_ALPHABET)


def generate_codes(prefix: str, count: int) -> list[str]:
    """`count` codes `PREFIX-XXXX-XXXX-XXXX`, drawn in one call to the OS random source."""
    if count <= 0:
        return []
    # base32 turns every 5 random bytes into 8 symbols; 15 bytes make exactly two codes.
    pairs = (count + 1) // 2
    symbols = base64.b32encode(secrets.token_bytes(15 * pairs)).decode().translate(_BASE32_TO_CODE)
    codes = []
    for i in range(count):
        s = symbols[i * SYMBOLS_PER_CODE : (i + 1) * SYMBOLS_PER_CODE]
        codes.append(f"{prefix}-{s[0:4]}-{s[4:8]}-{s[8:12]}")
    return codes
