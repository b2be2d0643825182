"""The server-key cipher that seals access-key secrets at rest (AES-256-GCM, HKDF-derived).

Its own module because the unit of work's configuration carries one: ``uow`` must not
import the access-key service, which imports ``uow``.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from chatkeep.core.errors import Unauthenticated

_CIPHER_VERSION = b"\x01"
_GCM_NONCE_LEN = 12


class AccessKeyCipher:
    """Encrypts access-key secrets at rest under a key derived from the server key."""

    def __init__(self, server_key: bytes) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=b"chatkeep access-key secrets v1",
        ).derive(server_key)
        self._aead = AESGCM(derived)

    def encrypt(self, access_key_id: str, secret: str) -> bytes:
        nonce = os.urandom(_GCM_NONCE_LEN)
        sealed = self._aead.encrypt(nonce, secret.encode(), access_key_id.encode())
        return _CIPHER_VERSION + nonce + sealed

    def decrypt(self, access_key_id: str, blob: bytes) -> str:
        """The secret; Unauthenticated if the blob was sealed under another server key."""
        version, nonce = blob[:1], blob[1 : 1 + _GCM_NONCE_LEN]
        try:
            if version != _CIPHER_VERSION:
                raise InvalidTag
            plain = self._aead.decrypt(nonce, blob[1 + _GCM_NONCE_LEN :], access_key_id.encode())
        except InvalidTag:
            raise Unauthenticated(
                "This access key was issued under a different server key; issue a new one.",
                reason="unreadable",
            ) from None
        return plain.decode()
