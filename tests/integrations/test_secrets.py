import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from integrations import secrets
from integrations.secrets import SecretUnreadable

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@override_settings(SYNC_SECRET_KEYS=[])
def test_secret_round_trip_with_the_key_derived_from_secret_key():
    token = secrets.encrypt("hunter2 ✓")

    assert "hunter2" not in token
    assert secrets.decrypt(token) == "hunter2 ✓"
    assert Fernet(secrets.derived_key()).decrypt(token.encode()) == "hunter2 ✓".encode()


@override_settings(SYNC_SECRET_KEYS=[])
def test_secret_unreadable_after_secret_key_changed():
    token = secrets.encrypt("hunter2")

    with override_settings(SECRET_KEY="another-secret-key"), pytest.raises(SecretUnreadable) as e:
        secrets.decrypt(token)

    assert str(e.value) == (
        "The saved secret cannot be read with the keys of this server (SYNC_SECRET_KEYS or "
        "SECRET_KEY changed): a Global admin must set the secret again."
    )
    assert token not in str(e.value)
    assert e.value.__cause__ is None


def test_secret_first_key_encrypts_every_key_decrypts():
    with override_settings(SYNC_SECRET_KEYS=[OLD_KEY]):
        old_token = secrets.encrypt("under the old key")

    with override_settings(SYNC_SECRET_KEYS=[NEW_KEY, OLD_KEY]):
        new_token = secrets.encrypt("under the new key")
        assert secrets.decrypt(old_token) == "under the old key"
        rotated = secrets.rotate(old_token)

    assert Fernet(NEW_KEY).decrypt(new_token.encode()) == b"under the new key"
    with override_settings(SYNC_SECRET_KEYS=[NEW_KEY]):
        assert secrets.decrypt(rotated) == "under the old key"
        with pytest.raises(SecretUnreadable):
            secrets.decrypt(old_token)


@override_settings(SYNC_SECRET_KEYS=[OLD_KEY])
def test_secret_garbage_token_is_unreadable():
    with pytest.raises(SecretUnreadable):
        secrets.decrypt("not a token")


@override_settings(SYNC_SECRET_KEYS=[NEW_KEY, "not-a-fernet-key"])
def test_secret_bad_key_in_settings_is_named_by_position_never_shown():
    with pytest.raises(ImproperlyConfigured) as e:
        secrets.encrypt("x")

    assert str(e.value) == (
        "Key 2 of SYNC_SECRET_KEYS is not a Fernet key (32 url-safe base64 bytes): make one with "
        "`manage.py sync new-key`."
    )


def test_new_key_is_a_fernet_key():
    key = secrets.new_key()

    assert isinstance(key, str)
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"
    assert key != secrets.new_key()
