import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hrcore import db, keys
from hrcore.actor import Channel, Role
from hrcore.audit import AuditEntry
from hrcore.auth import service as auth
from hrcore.auth import tokens
from hrcore.auth.models import AuthSession, RefreshToken
from hrcore.clock import frozen
from hrcore.config import get_settings
from hrcore.errors import RateLimited, Unauthenticated
from hrcore.people.models import Organization, User
from tests.factories import arranged, make_org, make_user

PASSWORD = "correct horse battery"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def org(session: Session) -> Organization:
    return make_org(session)


@pytest.fixture
def user(session: Session, org: Organization) -> User:
    return make_user(session, org, role=Role.SUPERVISOR, password=PASSWORD)


def _fresh(session: Session, user: User) -> User:
    """The user as the database holds it now (other sessions may have changed it)."""
    fresh = session.scalar(
        select(User).where(User.id == user.id).execution_options(populate_existing=True)
    )
    assert fresh is not None
    return fresh


def _login_outcomes(session: Session) -> list[tuple[int | None, str]]:
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "auth.login").order_by(AuditEntry.id)
    ).all()
    return [(e.actor_user_id, e.outcome) for e in entries]


def _token_count(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count()).select_from(RefreshToken).where(RefreshToken.user_id == user.id)
    )


def row_session_id(session: Session, user: User) -> str:
    """The id of the user's one sign-in session."""
    return session.scalars(select(AuthSession.id).where(AuthSession.user_id == user.id)).one()


def _login_in_own_transaction(login: str, password: str) -> auth.TokenPair:
    """Log in the way the API does: in a unit of work that commits or rolls back."""
    with db.unit_of_work() as uow:
        return auth.login(uow, login=login, password=password)


def test_login_by_email_issues_tokens_for_the_user(session: Session, user: User) -> None:
    with frozen(T0):
        pair = auth.login(session, login=user.email.upper(), password=PASSWORD)

    assert pair.token_type == "bearer"
    assert pair.expires_in == 15 * 60
    claims = jwt.decode(
        pair.access_token,
        keys.token_key(),
        algorithms=["HS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["sub"] == str(user.id)
    assert claims["org"] == user.organization_id
    assert claims["role"] == "supervisor"
    assert claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["sid"] == row_session_id(session, user)
    assert claims["iat"] == int(T0.timestamp())
    with frozen(T0):
        refresh_claims = tokens.decode_refresh_token(pair.refresh_token)
    row = session.get(RefreshToken, refresh_claims.jti)
    assert row is not None
    assert row.user_id == user.id
    assert row.family_id == refresh_claims.family_id
    assert row.expires_at == T0 + timedelta(days=14)
    assert _login_outcomes(session) == [(user.id, "ok")]


def test_login_by_e164_phone(session: Session, user: User) -> None:
    pair = auth.login(session, login=user.phone, password=PASSWORD)
    actor = auth.authenticate_access_token(session, pair.access_token, Channel.API)
    assert actor.user_id == user.id


def test_login_by_local_phone_number_read_in_the_default_region(
    session: Session, user: User
) -> None:
    assert user.phone.startswith("+254")
    local = "0" + user.phone.removeprefix("+254")
    pair = auth.login(session, login=f" {local[:4]} {local[4:]} ", password=PASSWORD)
    actor = auth.authenticate_access_token(session, pair.access_token, Channel.API)
    assert actor.user_id == user.id


def test_wrong_password_is_refused_audited_and_issues_nothing(session: Session, user: User) -> None:
    with pytest.raises(Unauthenticated) as err:
        _login_in_own_transaction(user.email, "not the password")
    assert err.value.code == "invalid_credentials"
    assert _token_count(session, user) == 0
    # The failure's audit row outlived the rolled-back call: it was written on its own.
    assert _login_outcomes(session) == [(user.id, "invalid_credentials")]


def test_unknown_login_gets_the_same_answer_and_leaves_no_trace_of_the_login(
    session: Session, user: User
) -> None:
    with pytest.raises(Unauthenticated) as wrong:
        auth.login(session, login=user.email, password="not the password")
    with pytest.raises(Unauthenticated) as unknown:
        _login_in_own_transaction("nobody@nowhere.test", PASSWORD)

    assert unknown.value.code == "invalid_credentials"
    assert unknown.value.message == wrong.value.message
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "auth.login").order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None
    assert (entry.actor_user_id, entry.organization_id, entry.target_id, entry.outcome) == (
        None,
        None,
        None,
        "invalid_credentials",
    )


def test_inactive_user_cannot_log_in_even_with_the_right_password(
    session: Session, org: Organization
) -> None:
    gone = make_user(session, org, password=PASSWORD, is_active=False)
    with pytest.raises(Unauthenticated) as err:
        auth.login(session, login=gone.email, password=PASSWORD)
    assert err.value.code == "invalid_credentials"
    assert _token_count(session, gone) == 0


def test_user_without_a_password_cannot_log_in(session: Session, org: Organization) -> None:
    pin_only = make_user(session, org)
    with pytest.raises(Unauthenticated) as err:
        auth.login(session, login=pin_only.phone, password="anything")
    assert err.value.code == "invalid_credentials"


def _attempt(login: str, password: str, client: str) -> str:
    """One sign-in as the API makes it; its outcome as a code ("ok" on success)."""
    try:
        with db.unit_of_work() as uow:
            auth.login(uow, login=login, password=password, client=client)
    except (Unauthenticated, RateLimited) as exc:
        return exc.code
    return "ok"


def test_five_failures_from_one_address_refuse_even_the_right_password_there(
    session: Session, user: User
) -> None:
    outcomes = [_attempt(user.email, "guess", "203.0.113.9") for _ in range(5)]
    assert outcomes == ["invalid_credentials"] * 5
    with pytest.raises(RateLimited) as limited, db.unit_of_work() as uow:
        auth.login(uow, login=user.email, password=PASSWORD, client="203.0.113.9")
    assert limited.value.status == 429
    # Fifteen minutes from the first failure, give or take the seconds the test took.
    assert 14 * 60 <= limited.value.details["retry_after_s"] <= 15 * 60
    assert _token_count(session, user) == 0


def test_an_attacker_elsewhere_cannot_lock_the_real_user_out(session: Session, user: User) -> None:
    for _ in range(8):
        _attempt(user.email, "guess", "198.51.100.66")
    assert _attempt(user.email, "guess", "198.51.100.66") == "rate_limited"
    assert _attempt(user.email, PASSWORD, "192.0.2.10") == "ok"


def test_unknown_and_known_logins_are_answered_and_throttled_alike(
    session: Session, user: User
) -> None:
    known = [_attempt(user.email, "guess", "192.0.2.20") for _ in range(7)]
    unknown = [_attempt("nobody@nowhere.test", "guess", "192.0.2.20") for _ in range(7)]
    assert known == unknown == ["invalid_credentials"] * 5 + ["rate_limited"] * 2


def test_a_right_password_ends_the_run_of_failures(session: Session, user: User) -> None:
    for _ in range(4):
        assert _attempt(user.email, "guess", "192.0.2.30") == "invalid_credentials"
    assert _attempt(user.email, PASSWORD, "192.0.2.30") == "ok"
    outcomes = [_attempt(user.email, "guess", "192.0.2.30") for _ in range(6)]
    assert outcomes == ["invalid_credentials"] * 5 + ["rate_limited"]


def test_one_address_is_limited_across_every_login(session: Session, org: Organization) -> None:
    limit = int(get_settings().login_limit_per_address.split("/")[0])
    logins = [f"someone{i}@nowhere.test" for i in range(limit + 1)]
    outcomes = [_attempt(login, "guess", "192.0.2.40") for login in logins]
    assert outcomes[:limit] == ["invalid_credentials"] * limit
    assert outcomes[limit] == "rate_limited"


def test_parallel_wrong_guesses_cannot_outrun_the_limit(committed_engine: Engine) -> None:
    with arranged() as uow:
        victim = make_user(uow, make_org(uow), password=PASSWORD)
        email = victim.email
    barrier = threading.Barrier(15)
    checked: list[str] = []

    def guess(i: int) -> str:
        barrier.wait()
        outcome = _attempt(email, f"guess-{i}", "203.0.113.77")
        checked.append(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=15) as pool:
        outcomes = list(pool.map(guess, range(15)))
    # Every guess was counted before any was checked: only five reached the password.
    assert sorted(outcomes) == ["invalid_credentials"] * 5 + ["rate_limited"] * 10
    assert _attempt(email, PASSWORD, "203.0.113.77") == "rate_limited"
    with arranged() as uow:
        failures = uow.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "auth.login", AuditEntry.outcome == "invalid_credentials")
        )
    assert failures == 5


def _refresh_in_own_transaction(token: str) -> auth.TokenPair:
    with db.unit_of_work() as uow:
        return auth.refresh(uow, refresh_token=token)


def test_refresh_rotates_and_a_replayed_token_revokes_the_whole_family(
    session: Session, user: User
) -> None:
    first = auth.login(session, login=user.email, password=PASSWORD)
    second = _refresh_in_own_transaction(first.refresh_token)

    first_claims = tokens.decode_refresh_token(first.refresh_token)
    second_claims = tokens.decode_refresh_token(second.refresh_token)
    assert second_claims.family_id == first_claims.family_id
    assert second_claims.jti != first_claims.jti
    assert auth.authenticate_access_token(session, second.access_token, Channel.API).user_id == (
        user.id
    )
    old_row = session.get(RefreshToken, first_claims.jti, populate_existing=True)
    assert old_row is not None
    assert old_row.used_at is not None

    with pytest.raises(Unauthenticated) as reused:
        _refresh_in_own_transaction(first.refresh_token)
    assert reused.value.code == "refresh_token_reused"
    # The revocation was committed although the call raised: the new token is dead too.
    family = session.scalars(
        select(RefreshToken)
        .where(RefreshToken.family_id == first_claims.family_id)
        .execution_options(populate_existing=True)
    ).all()
    assert len(family) == 2
    assert all(row.revoked_at is not None for row in family)
    with pytest.raises(Unauthenticated) as after:
        _refresh_in_own_transaction(second.refresh_token)
    assert after.value.code == "refresh_token_reused"


def test_refresh_leaves_other_sessions_alone(session: Session, user: User) -> None:
    phone_session = auth.login(session, login=user.phone, password=PASSWORD)
    web_session = auth.login(session, login=user.email, password=PASSWORD)
    auth.refresh(session, refresh_token=web_session.refresh_token)
    with pytest.raises(Unauthenticated):
        auth.refresh(session, refresh_token=web_session.refresh_token)
    assert auth.refresh(session, refresh_token=phone_session.refresh_token).access_token


def test_expired_refresh_token_is_refused(session: Session, user: User) -> None:
    with frozen(T0):
        pair = auth.login(session, login=user.email, password=PASSWORD)
    with frozen(T0 + timedelta(days=14, minutes=1)), pytest.raises(Unauthenticated) as err:
        auth.refresh(session, refresh_token=pair.refresh_token)
    assert err.value.code == "token_expired"


def test_refresh_for_a_deactivated_user_is_refused(session: Session, user: User) -> None:
    pair = auth.login(session, login=user.email, password=PASSWORD)
    user.is_active = False
    session.flush()
    with pytest.raises(Unauthenticated) as err:
        auth.refresh(session, refresh_token=pair.refresh_token)
    assert err.value.code == "invalid_credentials"


def test_refresh_token_is_not_an_access_token_and_vice_versa(session: Session, user: User) -> None:
    pair = auth.login(session, login=user.email, password=PASSWORD)
    with pytest.raises(Unauthenticated) as as_access:
        auth.authenticate_access_token(session, pair.refresh_token, Channel.API)
    with pytest.raises(Unauthenticated) as as_refresh:
        auth.refresh(session, refresh_token=pair.access_token)
    assert (as_access.value.code, as_refresh.value.code) == ("invalid_token", "invalid_token")


def test_logout_revokes_the_family_and_is_idempotent(session: Session, user: User) -> None:
    pair = auth.login(session, login=user.email, password=PASSWORD)
    rotated = auth.refresh(session, refresh_token=pair.refresh_token)

    auth.logout(session, refresh_token=rotated.refresh_token)
    family_id = tokens.decode_refresh_token(rotated.refresh_token).family_id
    revoked = session.scalars(
        select(RefreshToken.revoked_at).where(RefreshToken.family_id == family_id)
    ).all()
    assert len(revoked) == 2
    assert all(at is not None for at in revoked)
    with pytest.raises(Unauthenticated):
        auth.refresh(session, refresh_token=rotated.refresh_token)

    auth.logout(session, refresh_token=rotated.refresh_token)  # no error the second time
    logouts = session.scalars(
        select(AuditEntry.outcome).where(AuditEntry.action == "auth.logout")
    ).all()
    assert logouts == ["ok"]


def test_logout_with_garbage_is_an_invalid_token(session: Session) -> None:
    with pytest.raises(Unauthenticated) as err:
        auth.logout(session, refresh_token="not-a-token")
    assert err.value.code == "invalid_token"


def test_access_token_gives_the_actor_with_the_channel(session: Session, user: User) -> None:
    pair = auth.login(session, login=user.email, password=PASSWORD)
    actor = auth.authenticate_access_token(session, pair.access_token, Channel.WEB)
    assert (actor.user_id, actor.organization_id, actor.role, actor.channel) == (
        user.id,
        user.organization_id,
        Role.SUPERVISOR,
        Channel.WEB,
    )


def test_expired_access_token_is_refused(session: Session, user: User) -> None:
    with frozen(T0):
        pair = auth.login(session, login=user.email, password=PASSWORD)
    with frozen(T0 + timedelta(minutes=14)):
        assert auth.authenticate_access_token(session, pair.access_token, Channel.API)
    with frozen(T0 + timedelta(minutes=16)), pytest.raises(Unauthenticated) as err:
        auth.authenticate_access_token(session, pair.access_token, Channel.API)
    assert err.value.code == "token_expired"


def test_tampered_or_foreign_tokens_are_refused(session: Session, user: User) -> None:
    pair = auth.login(session, login=user.email, password=PASSWORD)
    header, payload, signature = pair.access_token.split(".")
    forged_claims = jwt.decode(pair.access_token, options={"verify_signature": False})
    forged_claims["role"] = "admin"
    forged = jwt.encode(forged_claims, "someone-else's-key-of-sufficient-length!")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    for bad in (forged, tampered, "garbage", ""):
        with pytest.raises(Unauthenticated) as err:
            auth.authenticate_access_token(session, bad, Channel.API)
        assert err.value.code == "invalid_token"


def test_a_changed_role_or_deactivation_invalidates_access_tokens(
    session: Session, user: User
) -> None:
    pair = auth.login(session, login=user.email, password=PASSWORD)
    user.role = Role.EMPLOYEE
    session.flush()
    with pytest.raises(Unauthenticated) as changed:
        auth.authenticate_access_token(session, pair.access_token, Channel.API)
    assert changed.value.code == "token_outdated"

    # A refresh picks up the current role.
    fresh = auth.refresh(session, refresh_token=pair.refresh_token)
    actor = auth.authenticate_access_token(session, fresh.access_token, Channel.API)
    assert actor.role is Role.EMPLOYEE

    user.is_active = False
    session.flush()
    with pytest.raises(Unauthenticated) as inactive:
        auth.authenticate_access_token(session, fresh.access_token, Channel.API)
    assert inactive.value.code == "invalid_credentials"
