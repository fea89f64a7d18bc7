"""How the client gets an access token: one call per request, so tokens can rotate freely."""

from __future__ import annotations

from abc import ABC, abstractmethod


class AbstractAuth(ABC):
    """Supplies a valid access token; Home Assistant's OAuth2Session plugs in here."""

    @abstractmethod
    async def async_get_access_token(self) -> str:
        """Return an access token valid for the next request (refreshing it if needed)."""

    async def async_invalidate(self, access_token: str) -> None:  # noqa: B027
        """Smartcar refused this token (401): fetch another next time, if this source can."""


class StaticAuth(AbstractAuth):
    """A fixed access token (scripts, tests)."""

    def __init__(self, access_token: str) -> None:
        """Keep the token."""
        self._access_token = access_token

    async def async_get_access_token(self) -> str:
        """Return the token."""
        return self._access_token
