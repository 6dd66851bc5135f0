"""No key in the repository signs anything: keys come from the environment or are generated."""

from __future__ import annotations

import ast
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from sqlalchemy.orm import Session

from hrcore import keys
from hrcore.actor import Channel
from hrcore.auth import service as auth
from hrcore.auth import tokens
from hrcore.config import Settings, get_settings
from hrcore.errors import Unauthenticated
from tests.factories import make_org, make_user

ROOT = Path(__file__).resolve().parents[1]
# The development key this project once shipped in hrcore/config.py.
HISTORIC_KEYS = ("ajira-development-key-not-for-production-use",)


@pytest.fixture
def default_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The settings `make run` starts with: development, no AJIRA_SECRET_KEY."""
    monkeypatch.delenv("AJIRA_SECRET_KEY", raising=False)
    monkeypatch.delenv("AJIRA_PREVIOUS_SECRET_KEYS", raising=False)
    monkeypatch.setenv("AJIRA_ENV", "development")
    monkeypatch.setenv("AJIRA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    get_settings.cache_clear()
    yield get_settings()
    monkeypatch.undo()
    get_settings.cache_clear()


def repository_strings() -> set[str]:
    """Every string literal of 16+ characters in the project's Python and config files."""
    found: set[str] = set(HISTORIC_KEYS)
    skip = {".git", ".venv", ".ajira", "node_modules", "__pycache__"}
    for path in ROOT.rglob("*"):
        if skip & set(path.relative_to(ROOT).parts) or not path.is_file():
            continue
        name = path.name
        if name.endswith(".py"):
            try:
                tree = ast.parse(path.read_text())
            except (SyntaxError, UnicodeDecodeError):
                continue
            found |= {
                node.value
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and 16 <= len(node.value) <= 200
            }
        elif name.endswith((".env.example", ".yml", ".yaml", ".toml", ".md")):
            for line in path.read_text(errors="ignore").splitlines():
                if "=" in line or ":" in line:
                    value = line.split("=", 1)[-1].split(":", 1)[-1].strip().strip("'\"")
                    if 16 <= len(value) <= 200:
                        found.add(value)
    return found


def test_without_a_key_one_is_generated_once_private_and_kept(default_settings: Settings) -> None:
    path = default_settings.data_dir / keys.KEY_FILE
    assert not path.exists()
    first = keys.master_key()
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    # A restart reads the same key: tokens survive it.
    assert keys.master_key() == first
    assert first not in repository_strings()


def test_a_token_signed_with_any_key_in_the_repository_is_refused(
    default_settings: Settings, session: Session
) -> None:
    user = make_user(session, make_org(session))
    genuine = auth.open_session(session, user)
    actor = auth.authenticate_access_token(session, genuine.access_token, Channel.API)
    assert actor.user_id == user.id
    claims = jwt.decode(genuine.access_token, options={"verify_signature": False})
    header = jwt.get_unverified_header(genuine.access_token)

    candidates = repository_strings()
    assert "ajira-development-key-not-for-production-use" in candidates
    for candidate in candidates:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
            forged = jwt.encode(claims, candidate, algorithm="HS256", headers=header)
        with pytest.raises(Unauthenticated):
            auth.authenticate_access_token(session, forged, Channel.API)


def test_tokens_and_mood_hashes_use_different_keys(default_settings: Settings) -> None:
    assert keys.token_key() != keys.mood_key()
    assert keys.master_key().encode() not in (keys.token_key(), keys.mood_key())


def test_an_explicit_key_is_used_and_a_short_one_refused(
    default_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AJIRA_SECRET_KEY", "k" * 40)
    get_settings.cache_clear()
    assert keys.master_key() == "k" * 40
    assert not (default_settings.data_dir / keys.KEY_FILE).exists()
    with pytest.raises(ValueError, match="at least 32"):
        Settings(AJIRA_SECRET_KEY="too-short")  # type: ignore[call-arg]


def test_production_refuses_to_start_without_a_key(default_settings: Settings) -> None:
    with pytest.raises(ValueError, match="AJIRA_SECRET_KEY"):
        Settings(AJIRA_ENV="production")  # type: ignore[call-arg]


def test_a_rotated_out_key_still_verifies_until_its_tokens_expire(
    default_settings: Settings, monkeypatch: pytest.MonkeyPatch, session: Session
) -> None:
    monkeypatch.setenv("AJIRA_SECRET_KEY", "old-" + "o" * 40)
    get_settings.cache_clear()
    user = make_user(session, make_org(session))
    old = auth.open_session(session, user)

    monkeypatch.setenv("AJIRA_SECRET_KEY", "new-" + "n" * 40)
    get_settings.cache_clear()
    with pytest.raises(Unauthenticated):
        tokens.decode_access_token(old.access_token)

    monkeypatch.setenv("AJIRA_PREVIOUS_SECRET_KEYS", "old-" + "o" * 40)
    get_settings.cache_clear()
    assert tokens.decode_access_token(old.access_token).user_id == user.id
    fresh = auth.open_session(session, user)
    assert jwt.get_unverified_header(fresh.access_token)["kid"] == keys.key_id(keys.token_key())
