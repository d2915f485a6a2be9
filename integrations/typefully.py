"""Publishing through Typefully (HTTP API v2, httpx: Typefully has no maintained Python SDK).

The daily draft becomes one Typefully draft on a social set, its tweets the X thread, published now,
in the next free slot of the Typefully queue, or a number of hours from now. Typefully then posts it.
A draft must not be created twice: its id is recorded in the publish progress right after creation,
and before creating one we look for a recent draft with the same posts (created by a run that
stopped before recording it, or whose answer was lost) and reuse it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from itertools import count
from typing import Any

import httpx
from pydantic import SecretStr

from core.draft import Draft
from integrations.errors import PublishError
from integrations.publishers import PublishProgress

KEY_FIX = "check GUILDFLOW_TYPEFULLY_API_KEY (create a key in Typefully: Settings > API)"
RATE_LIMIT_WAITS_PER_CALL = 3


class _Unavailable(PublishError):
    """Typefully could not be reached or answered 5xx: worth another try."""

    transient = True


class TypefullyPublisher:
    def __init__(
        self,
        api_key: SecretStr,
        social_set_id: str,
        publish_at: str,
        api_base: str = "https://api.typefully.com",
        *,
        rate_limit_wait_cap: float = 120.0,
        retry_delays: Sequence[float] = (2.0, 5.0, 10.0),
        timeout: float = 30.0,
        recent_drafts_checked: int = 50,
    ) -> None:
        """publish_at: "now", "next-free-slot", or hours from the moment of publishing ("2", "0.5");
        retry_delays: pauses before trying again after a 5xx or a network error."""
        self._delay = _delay(publish_at)
        self.social_set_id, self.publish_at = social_set_id, publish_at
        self.api_base = api_base.rstrip("/")
        self._http = httpx.Client(
            base_url=f"{self.api_base}/v2",
            headers={"Authorization": f"Bearer {api_key.get_secret_value()}"},
            timeout=timeout,
        )
        self._rate_limit_wait_cap = rate_limit_wait_cap
        self._retry_delays = tuple(retry_delays)
        self._recent_drafts_checked = recent_drafts_checked

    def describe(self) -> str:
        when = self.publish_at if self._delay is None else f"in {self.publish_at} h"
        return f"Typefully social set {self.social_set_id}, publishing {when} ({self.api_base})"

    def check(self) -> str:
        social_set = self._request("GET", f"/social-sets/{self.social_set_id}/", "read the social set")
        x_account = (social_set.get("platforms") or {}).get("x")
        if not x_account:
            raise PublishError(
                f"Typefully social set {self.social_set_id} has no X account connected: connect one in "
                "Typefully, or set GUILDFLOW_TYPEFULLY_SOCIAL_SET_ID to a social set that has one"
            )
        return f"social set {self.social_set_id} ({social_set.get('name')}), posting to X as @{x_account['username']}"

    def publish(self, draft: Draft, progress: PublishProgress) -> str:
        posted = progress.posted_parts()
        if posted:
            return f"typefully:{posted[0]}"
        delays = iter(self._retry_delays)
        while True:
            try:
                created = self._existing_draft(draft) or self._create_draft(draft)
                break
            except _Unavailable:
                delay = next(delays, None)
                if delay is None:
                    raise
                time.sleep(delay)
        progress.record_part(0, str(created["id"]))
        url = created.get("share_url") or created.get("private_url")
        return f"typefully:{created['id']}" + (f" {url}" if url else "")

    def _create_draft(self, draft: Draft) -> dict[str, Any]:
        body = {
            "platforms": {"x": {"enabled": True, "posts": [{"text": text} for text in draft.tweets]}},
            "publish_at": self._publish_at_value(),
        }
        return self._request("POST", f"/social-sets/{self.social_set_id}/drafts", "create the draft", json=body)

    def _publish_at_value(self) -> str:
        if self._delay is None:
            return self.publish_at
        return (datetime.now(timezone.utc) + self._delay).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _existing_draft(self, draft: Draft) -> dict[str, Any] | None:
        """A recent draft on the social set with exactly these posts, if one exists.

        Listed drafts carry a preview, not their posts: only drafts whose preview could be the start of
        this one are read in full.
        """
        listed = self._request(
            "GET",
            f"/social-sets/{self.social_set_id}/drafts",
            "list recent drafts",
            params={"order_by": "-created_at", "limit": self._recent_drafts_checked},
        )
        wanted = [_words(text) for text in draft.tweets]
        for item in listed.get("results", []):
            preview = _words(item.get("preview") or "").rstrip(".…").rstrip()
            if not _words(draft.text).startswith(preview):
                continue
            candidate = self._request(
                "GET", f"/social-sets/{self.social_set_id}/drafts/{item['id']}", "read a recent draft"
            )
            x = (candidate.get("platforms") or {}).get("x") or {}
            if [_words(post.get("text", "")) for post in x.get("posts", [])] == wanted:
                return candidate
        return None

    def _request(self, method: str, path: str, action: str, **kwargs: Any) -> Any:
        for waits in count(1):
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as error:
                raise _Unavailable(
                    f"could not reach Typefully at {self.api_base} to {action} ({type(error).__name__}); "
                    "check GUILDFLOW_TYPEFULLY_API_BASE and the network"
                ) from None
            if response.status_code == 429:
                time.sleep(self._rate_limit_wait(response, action, waits))
                continue
            if response.is_success:
                try:
                    return response.json()
                except ValueError:
                    raise _Unavailable(f"Typefully's answer to {action} was not JSON; trying again may help") from None
            raise self._refused(response, action)

    def _rate_limit_wait(self, response: httpx.Response, action: str, waits: int) -> float:
        wait = _retry_after(response)
        if wait is None or waits > RATE_LIMIT_WAITS_PER_CALL or wait > self._rate_limit_wait_cap:
            when = f" for {wait:.0f} s" if wait is not None else ""
            raise PublishError(
                f"Typefully's rate limit stops us from trying to {action}{when}; the next run tries again",
                transient=True,
            )
        return wait

    def _refused(self, response: httpx.Response, action: str) -> PublishError:
        status, said = response.status_code, _what_typefully_said(response)
        what = f"Typefully refused to {action} ({status}: {said})"
        if status >= 500:
            return _Unavailable(f"{what}; trying again later may help")
        fixes = {
            401: KEY_FIX,
            402: "the Typefully account is paused or needs a paid plan for the API",
            403: f"the key's user may not do this on social set {self.social_set_id}: API keys have their "
            "creator's permissions (publishing needs publish rights on the social set)",
            404: f"social set {self.social_set_id} not found: check GUILDFLOW_TYPEFULLY_SOCIAL_SET_ID "
            "(GET /v2/social-sets lists yours)",
        }
        fix = fixes.get(status, "the draft or GUILDFLOW_TYPEFULLY_PUBLISH_AT is not acceptable to Typefully")
        return PublishError(f"{what}; {fix}")


def _delay(publish_at: str) -> timedelta | None:
    """How long after publishing the post goes out; None for Typefully's own "now" and "next-free-slot"."""
    if publish_at in ("now", "next-free-slot"):
        return None
    try:
        return timedelta(hours=float(publish_at))
    except ValueError:
        raise PublishError(
            f"'{publish_at}' is not a Typefully publish time: set GUILDFLOW_TYPEFULLY_PUBLISH_AT to now, "
            "next-free-slot or a delay in hours such as 2"
        ) from None


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait: Retry-After (seconds or a date), else the latest X-RateLimit-*-Reset."""
    header = response.headers.get("retry-after")
    if header:
        if header.strip().isdigit():
            return float(header)
        try:
            return max((parsedate_to_datetime(header) - datetime.now(timezone.utc)).total_seconds(), 0.0)
        except (TypeError, ValueError):
            return None
    resets = [
        float(value)
        for name in ("x-ratelimit-user-reset", "x-ratelimit-socialset-reset")
        if (value := response.headers.get(name, "")).isdigit()
    ]
    return max(max(resets) - time.time(), 0.0) if resets else None


def _what_typefully_said(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        error = error.get("message")
    return str(error) if error else response.reason_phrase or "no details"


def _words(text: str) -> str:
    return " ".join(text.split())
