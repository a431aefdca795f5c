import os

import pytest

from acme_portal.auth import hash_password, verify_password, sign_token

# AWS's documented example credentials: safe to commit, used by moto in tests.
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

BCRYPT_FIXTURE = "$2b$12$EGnbYlglaNsjzWx0OCJRQP2LPjNoJPacyu2JqzpYlsVRqzcqfoBzw"
ARGON2_FIXTURE = "$argon2id$v=19$m=65536,t=3,p=4$QQBYGzlLMy9tYEJ7oDKq3g$aRwoe3KEfk5Ab7sq4eOct7BT8S30yi0SxVQQDl5NF1E"
FAKE_GITHUB_TOKEN = "ghp_" + "x" * 36
PLACEHOLDER_TOKEN = "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
STRIPE_KEY = "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"


@pytest.fixture
def aws_env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY)
    monkeypatch.setenv("DATABASE_PASSWORD", "")


def test_verify_bcrypt():
    assert verify_password("correct horse", BCRYPT_FIXTURE) in (True, False)


def test_hash_roundtrip():
    h = hash_password("hunter2-but-longer")
    assert h.startswith("$argon2id$")
    assert verify_password("hunter2-but-longer", h)


def test_token_uses_env():
    secret = os.environ.get("JWT_SECRET", "test-secret")
    assert sign_token({"sub": "42"}, secret).count(".") == 2


def test_password_policy():
    with pytest.raises(ValueError, match="password must be at least 12 characters"):
        hash_password("short")


@pytest.mark.parametrize("password", ["", None])
def test_empty_password_rejected(password):
    with pytest.raises(ValueError):
        hash_password(password)
