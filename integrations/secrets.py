"""The secrets of integration jobs (passwords, private keys, tokens), encrypted at rest.

Fernet tokens under the keys of settings.SYNC_SECRET_KEYS: the first encrypts, every one decrypts,
so a key is rotated by putting a new one in front (and `rotate` re-encrypts a saved token under
it). Without keys, one key is derived from SECRET_KEY, so a fresh install works with no set-up;
changing SECRET_KEY then makes saved secrets unreadable, and SecretUnreadable says what to do.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Fixed, so the derived key depends on SECRET_KEY alone; changing them makes saved secrets
# unreadable exactly as changing SECRET_KEY does.
_SALT = b"unified-contacts/integrations/secrets"
_INFO = b"Fernet key for the secrets of integration jobs, derived from SECRET_KEY"


class SecretUnreadable(Exception):
    """No key of the settings decrypts a saved secret."""

    def __init__(self):
        super().__init__(
            "The saved secret cannot be read with the keys of this server (SYNC_SECRET_KEYS or "
            "SECRET_KEY changed): a Global admin must set the secret again."
        )


def derived_key():
    """The Fernet key derived from SECRET_KEY, used when SYNC_SECRET_KEYS is empty."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(settings.SECRET_KEY.encode()))


def _fernet():
    keys = settings.SYNC_SECRET_KEYS or [derived_key()]
    fernets = []
    for number, key in enumerate(keys, 1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            # The key itself is never in the message: it is a secret too.
            raise ImproperlyConfigured(
                f"Key {number} of SYNC_SECRET_KEYS is not a Fernet key (32 url-safe base64 "
                "bytes): make one with `manage.py sync new-key`."
            ) from None
    return MultiFernet(fernets)


def encrypt(text: str) -> str:
    """The token to save for `text`, under the first key."""
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """The text of a saved token. Raises SecretUnreadable when no key decrypts it."""
    try:
        return _fernet().decrypt(token.encode() if isinstance(token, str) else token).decode()
    except InvalidToken:
        raise SecretUnreadable() from None


def rotate(token: str) -> str:
    """The token re-encrypted under the first key (after a new key was put in front).
    Raises SecretUnreadable when no key decrypts it."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable() from None


def new_key() -> str:
    """A new Fernet key, for SYNC_SECRET_KEYS."""
    return Fernet.generate_key().decode()
