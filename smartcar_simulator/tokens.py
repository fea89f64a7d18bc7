"""Authorization codes, grants, access and refresh tokens (rotation with a grace window)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Final
import uuid

from .clock import VirtualClock, isoformat_ms

PERMISSIONS: Final[Mapping[str, str]] = {
    "read_vehicle_info": "Know make, model, and year",
    "read_vin": "Read VIN",
    "read_battery": "Read EV battery's capacity and state of charge",
    "read_charge": "Know whether vehicle is charging",
    "control_charge": "Start or stop your vehicle's charging",
    "read_security": "Read the lock status of doors, windows, charging port, etc.",
    "control_security": "Lock or unlock your vehicle",
    "read_location": "Access location",
    "read_odometer": "Retrieve total distance traveled",
    "read_fuel": "Read fuel tank level",
    "read_engine_oil": "Read vehicle engine oil health",
    "read_diagnostics": "Read vehicle diagnostic trouble codes",
    "control_navigation": "Send commands to your vehicle's navigation system",
    "read_tires": "Read tire pressure",
    "read_thermometer": "Read temperatures",
    "read_extended_vehicle_info": "Read extended vehicle information",
}
ALL_PERMISSIONS: Final = frozenset(PERMISSIONS)

CODE_TTL: Final = 600.0
DEFAULT_ACCESS_TTL: Final = 7200
DEFAULT_REFRESH_TTL: Final = 5184000  # 60 days
DEFAULT_REFRESH_GRACE: Final = 60.0


class OAuthError(Exception):
    """An OAuth token endpoint error (`{"error", "error_description"}`)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        """The JSON error body."""
        return {"error": self.error, "error_description": self.description}


def parse_scope(scope: str | Iterable[str] | None) -> frozenset[str]:
    """Known permissions in a scope (space separated or a list); `required:` is accepted."""
    if scope is None:
        return ALL_PERMISSIONS
    items = scope.split() if isinstance(scope, str) else list(scope)
    return frozenset(p.removeprefix("required:") for p in items) & ALL_PERMISSIONS


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What the token endpoint hands out."""

    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int = DEFAULT_REFRESH_TTL
    expiration: datetime | None = None
    refresh_expiration: datetime | None = None
    token_type: str = "Bearer"
    scope: tuple[str, ...] = ()

    def as_response(self) -> dict[str, Any]:
        """The token endpoint's JSON body."""
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "refresh_expires_in": self.refresh_expires_in,
            "expiration": isoformat_ms(self.expiration) if self.expiration else None,
            "refresh_expiration": isoformat_ms(self.refresh_expiration)
            if self.refresh_expiration
            else None,
        }


@dataclass(slots=True)
class Grant:
    """One user's consent: which permissions an app got."""

    id: str
    user_id: str
    client_id: str
    permissions: frozenset[str]
    created: float


@dataclass(slots=True)
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    user_id: str
    permissions: frozenset[str]
    expires_at: float
    used: bool = False


@dataclass(slots=True)
class _Access:
    token: str
    grant_id: str
    expires_at: float
    revoked: bool = False


@dataclass(slots=True)
class _Refresh:
    token: str
    grant_id: str
    expires_at: float
    used_at: float | None = None
    revoked: bool = False


class TokenStore:
    """All OAuth artefacts, with time from the virtual clock."""

    def __init__(
        self,
        clock: VirtualClock,
        *,
        access_ttl: int = DEFAULT_ACCESS_TTL,
        refresh_ttl: int = DEFAULT_REFRESH_TTL,
        refresh_grace: float = DEFAULT_REFRESH_GRACE,
    ) -> None:
        self._clock = clock
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.refresh_grace = refresh_grace
        self._grants: dict[str, Grant] = {}
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._issued = 0

    # -- issuing ------------------------------------------------------------------------------

    def create_code(
        self, client_id: str, redirect_uri: str, user_id: str, permissions: frozenset[str]
    ) -> str:
        """A single-use authorization code, valid for 10 minutes."""
        self._prune()
        code = str(uuid.uuid4())
        self._codes[code] = _Code(
            code,
            client_id,
            redirect_uri,
            user_id,
            permissions,
            self._clock.timestamp() + CODE_TTL,
        )
        return code

    def issue(self, user_id: str, client_id: str, permissions: frozenset[str]) -> TokenSet:
        """A fresh grant and token pair (no OAuth round trip)."""
        self._maybe_prune()
        grant = Grant(str(uuid.uuid4()), user_id, client_id, permissions, self._clock.timestamp())
        self._grants[grant.id] = grant
        return self._new_pair(grant)

    def _maybe_prune(self) -> None:
        self._issued += 1
        if self._issued % 256 == 0:
            self._prune()

    def _new_pair(self, grant: Grant) -> TokenSet:
        now = self._clock.timestamp()
        access = _Access(str(uuid.uuid4()), grant.id, now + self.access_ttl)
        refresh = _Refresh(str(uuid.uuid4()), grant.id, now + self.refresh_ttl)
        self._access[access.token] = access
        self._refresh[refresh.token] = refresh
        return TokenSet(
            access_token=access.token,
            refresh_token=refresh.token,
            expires_in=self.access_ttl,
            refresh_expires_in=self.refresh_ttl,
            expiration=datetime.fromtimestamp(access.expires_at, UTC),
            refresh_expiration=datetime.fromtimestamp(refresh.expires_at, UTC),
            scope=tuple(sorted(grant.permissions)),
        )

    def exchange_code(self, client_id: str, code: str, redirect_uri: str) -> TokenSet:
        """`grant_type=authorization_code`."""
        entry = self._codes.get(code)
        now = self._clock.timestamp()
        if entry is None or entry.used or entry.client_id != client_id:
            raise OAuthError("invalid_grant", "Invalid or already used authorization code.")
        if now >= entry.expires_at:
            raise OAuthError("invalid_grant", "The authorization code has expired.")
        if entry.redirect_uri != redirect_uri:
            raise OAuthError(
                "invalid_grant", "redirect_uri does not match the one used to authorize."
            )
        entry.used = True
        return self.issue(entry.user_id, client_id, entry.permissions)

    def refresh(self, client_id: str, token: str) -> TokenSet:
        """`grant_type=refresh_token`: rotate; the used token keeps working for the grace time."""
        self._maybe_prune()
        entry = self._refresh.get(token)
        now = self._clock.timestamp()
        grant = self._grants.get(entry.grant_id) if entry is not None else None
        if entry is None or grant is None or entry.revoked or grant.client_id != client_id:
            raise OAuthError("invalid_grant", "Invalid or revoked refresh token.")
        if now >= entry.expires_at:
            raise OAuthError("invalid_grant", "The refresh token has expired.")
        if entry.used_at is not None and now > entry.used_at + self.refresh_grace:
            raise OAuthError("invalid_grant", "The refresh token has already been used.")
        if entry.used_at is None:
            entry.used_at = now
        return self._new_pair(grant)

    # -- checking -----------------------------------------------------------------------------

    def authenticate(self, token: str) -> Grant | None:
        """The grant behind a live access token, else None."""
        entry = self._access.get(token)
        if entry is None or entry.revoked or self._clock.timestamp() >= entry.expires_at:
            return None
        return self._grants.get(entry.grant_id)

    def revoke(self, user_id: str | None = None) -> int:
        """Invalidate every access and refresh token (of one user); return how many."""
        grant_ids = {g.id for g in self._grants.values() if user_id in (None, g.user_id)}
        count = 0
        entries: list[_Access | _Refresh] = [*self._access.values(), *self._refresh.values()]
        for entry in entries:
            if entry.grant_id in grant_ids and not entry.revoked:
                entry.revoked = True
                count += 1
        for code in self._codes.values():
            if user_id in (None, code.user_id):
                code.used = True
        return count

    def _prune(self) -> None:
        """Forget expired artefacts (keeps long refresh sequences cheap)."""
        now = self._clock.timestamp()
        self._codes = {k: v for k, v in self._codes.items() if v.expires_at > now and not v.used}
        self._access = {k: v for k, v in self._access.items() if v.expires_at > now}
        self._refresh = {
            k: v
            for k, v in self._refresh.items()
            if v.expires_at > now and (v.used_at is None or v.used_at + self.refresh_grace >= now)
        }
        live = {e.grant_id for e in self._access.values()}
        live.update(e.grant_id for e in self._refresh.values())
        self._grants = {k: v for k, v in self._grants.items() if k in live}

    # -- persistence --------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """JSON form for the state file."""
        self._prune()
        return {
            "grants": [
                {**asdict(g), "permissions": sorted(g.permissions)} for g in self._grants.values()
            ],
            "codes": [
                {**asdict(c), "permissions": sorted(c.permissions)} for c in self._codes.values()
            ],
            "access": [asdict(a) for a in self._access.values()],
            "refresh": [asdict(r) for r in self._refresh.values()],
        }

    def load(self, data: Mapping[str, Any]) -> None:
        """Restore what `dump()` wrote."""
        self._grants = {
            g["id"]: Grant(**{**g, "permissions": frozenset(g["permissions"])})
            for g in data.get("grants", [])
        }
        self._codes = {
            c["code"]: _Code(**{**c, "permissions": frozenset(c["permissions"])})
            for c in data.get("codes", [])
        }
        self._access = {a["token"]: _Access(**a) for a in data.get("access", [])}
        self._refresh = {r["token"]: _Refresh(**r) for r in data.get("refresh", [])}
