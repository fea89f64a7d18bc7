"""Drive Smartcar Connect (the simulator's consent page) as a browser would."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import aiohttp

from scripts.devstack import consent_form


async def approve_consent(authorize_url: str, *, action: str = "approve") -> dict[str, str]:
    """Open the consent page, press Approve (or Deny); return the redirect's query."""
    async with aiohttp.ClientSession() as session:
        async with session.get(authorize_url) as response:
            assert response.status == 200, await response.text()
            target, form = consent_form(authorize_url, await response.text(), action)
        async with session.post(target, data=form, allow_redirects=False) as response:
            assert response.status in (302, 303), await response.text()
            location = response.headers["Location"]
    query = parse_qs(urlparse(location).query)
    return {key: values[0] for key, values in query.items()}
