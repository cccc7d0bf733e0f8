"""aiohttp plumbing shared by the remote adapters: status → AdapterError mapping, Retry-After, SSE."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Mapping
from typing import Any

from voicecore.errors import AdapterError, ConfigError

try:
    import aiohttp
except ImportError:  # pragma: no cover - optional extra
    aiohttp = None  # type: ignore[assignment]

__all__ = ["HttpClient", "iter_sse", "openai_compatible_client"]

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"


def openai_compatible_client(base_url: str | None, api_key: str | None, what: str) -> HttpClient:
    """A client for an OpenAI-compatible server: explicit arguments, else OPENAI_BASE_URL /
    OPENAI_API_KEY, else api.openai.com. No key means no Authorization header (local servers)."""
    url = base_url or os.environ.get("OPENAI_BASE_URL", OPENAI_DEFAULT_BASE_URL)
    key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return HttpClient(url, headers, provider=f"openai-compatible {what} {url}".replace("  ", " "))


class RemoteError(AdapterError):
    """An HTTP error from a provider; ``retry_after_s`` comes from the Retry-After header."""

    def __init__(
        self, message: str, *, status: int | None, retryable: bool, retry_after_s: float | None = None
    ):
        super().__init__(message, retryable=retryable)
        self.status = status
        self.retry_after_s = retry_after_s


class HttpClient:
    """One lazily created ``aiohttp.ClientSession`` per adapter; ``aclose()`` closes it."""

    def __init__(self, base_url: str, headers: Mapping[str, str], *, provider: str) -> None:
        if aiohttp is None:
            raise ConfigError(f"{provider} needs aiohttp: pip install 'voicecore[agent]'")
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers)
        self.provider = provider
        self._session: aiohttp.ClientSession | None = None

    def _get(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Per-read timeouts come from ConnOptions (voicecore.adapters.base.retrying); this bounds
            # connection setup so a dead host fails fast and can be retried or fallen back from.
            self._session = aiohttp.ClientSession(
                headers=self.headers, timeout=aiohttp.ClientTimeout(total=None, sock_connect=10)
            )
        return self._session

    async def post(self, path: str, *, json_body: Any = None, data: Any = None) -> aiohttp.ClientResponse:
        url = f"{self.base_url}{path}"
        try:
            resp = await self._get().post(url, json=json_body, data=data)
        except aiohttp.ClientError as exc:
            raise RemoteError(
                f"{self.provider}: cannot reach {url}: {exc}", status=None, retryable=True
            ) from exc
        if resp.status >= 400:
            body = (await resp.text())[:300]
            resp.release()
            retry_after = _retry_after(resp.headers.get("Retry-After"))
            retryable = resp.status in (408, 409, 429) or resp.status >= 500
            hint = {
                401: "check the API key",
                403: "check the API key's permissions",
                404: "check base_url and model",
                429: "rate limited",
            }.get(resp.status, "")
            raise RemoteError(
                f"{self.provider}: HTTP {resp.status} from {url} ({hint}): {body}".replace(" ()", ""),
                status=resp.status,
                retryable=retryable,
                retry_after_s=retry_after,
            )
        return resp

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, min(float(value), 30.0))
    except ValueError:
        return None


async def iter_sse(resp: Any, provider: str) -> AsyncIterator[tuple[str, str]]:
    """(event, data) pairs of a ``text/event-stream`` response; a dropped connection is retryable."""
    event = "message"
    data_lines: list[str] = []
    try:
        async for raw in resp.content:
            line = raw.decode("utf-8").rstrip("\r\n")
            if not line:
                if data_lines:
                    yield event, "\n".join(data_lines)
                event, data_lines = "message", []
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "data":
                data_lines.append(value)
        if data_lines:
            yield event, "\n".join(data_lines)
    except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, ConnectionError) as exc:
        raise RemoteError(
            f"{provider}: connection dropped mid-stream: {exc}", status=None, retryable=True
        ) from exc
    finally:
        resp.release()


def loads(data: str, provider: str) -> Any:
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise RemoteError(
            f"{provider}: malformed JSON in stream: {data[:120]!r}", status=None, retryable=True
        ) from exc
