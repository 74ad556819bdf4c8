"""Credentials encrypted at rest: Fernet (AES-128-CBC with HMAC-SHA256, from the ``cryptography`` package)
under the keys of CONNECTOR_ENCRYPTION_KEYS. The first key encrypts; every key decrypts (MultiFernet), so a new
key is put first and ``rotate_connector_keys`` re-encrypts every stored token under it before the old one is
dropped. Production refuses to start without the setting (config/settings/production.py); development and tests
use a fixed key derived from a published string (config/settings/base.py), which protects nothing."""

import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialsUnreadable(Exception):
    """No configured key decrypts the stored token (the key that encrypted it was dropped)."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ValueError("CONNECTOR_ENCRYPTION_KEYS is empty: no key to encrypt provider credentials with.")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.CONNECTOR_ENCRYPTION_KEYS))


def encrypt(credentials: dict) -> str:
    return fernet().encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict:
    try:
        return json.loads(fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise CredentialsUnreadable(
            "The stored credentials cannot be decrypted with the configured CONNECTOR_ENCRYPTION_KEYS; enter the "
            "key again (or restore the encryption key that was removed)."
        ) from exc


def rotate(token: str) -> str:
    """The token re-encrypted under the first key (unchanged text when it already is)."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise CredentialsUnreadable("The stored credentials cannot be decrypted with any configured key.") from exc


def hint(secret: str) -> str:
    """What may be shown of a key: its last four characters."""
    secret = secret.strip()
    return f"…{secret[-4:]}" if len(secret) >= 12 else "…"
