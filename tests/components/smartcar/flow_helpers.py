"""Drive Smartcar Connect (the simulator's consent page) as a browser would."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlparse

import aiohttp

_INPUT = re.compile(r"<input[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def _form_fields(page: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for tag in _INPUT.findall(page):
        attrs = {k.lower(): html.unescape(v) for k, v in _ATTR.findall(tag)}
        if attrs.get("type", "").lower() == "hidden" and "name" in attrs:
            fields[attrs["name"]] = attrs.get("value", "")
    return fields


async def approve_consent(authorize_url: str, *, action: str = "approve") -> dict[str, str]:
    """Open the consent page, press Approve (or Deny); return the redirect's query."""
    async with aiohttp.ClientSession() as session:
        async with session.get(authorize_url) as response:
            assert response.status == 200, await response.text()
            page = await response.text()
        form = _form_fields(page)
        form["action"] = action
        target = authorize_url.split("?", 1)[0]
        async with session.post(target, data=form, allow_redirects=False) as response:
            assert response.status in (302, 303), await response.text()
            location = response.headers["Location"]
    query = parse_qs(urlparse(location).query)
    return {key: values[0] for key, values in query.items()}
