"""Publishing to X with tweepy (OAuth 1.0a user context): the daily draft as a reply thread.

Every post costs money and a double post is a visible mistake, so each part is recorded in the
publish progress the moment X accepts it, a retry resumes after the last recorded part, and X's
"duplicate content" refusal (a part posted just before a crash, never recorded) is answered by
finding that post among the account's recent posts instead of posting again.

Redirecting tweepy: tweepy 4 hard-codes https://api.twitter.com, and OAuth 1.0a signs the method,
the URL and the parameters. When api_base is not X itself (a proxy, or the emulator in tests), a
requests adapter mounted on the client's session rewrites each request's URL as it is sent, after
requests-oauthlib has signed it. The signature therefore covers the public URL
https://api.twitter.com/..., so whatever listens at api_base must forward requests to X unchanged
(the test emulator verifies signatures against that public URL).
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import requests
import tweepy
from pydantic import SecretStr
from requests.adapters import HTTPAdapter

from core.draft import Draft, post_problem
from integrations.errors import PublishError
from integrations.publishers import PublishProgress

TWEEPY_HOST = "https://api.twitter.com"
X_HOSTS = (TWEEPY_HOST, "https://api.x.com")
CREDENTIALS = (
    "GUILDFLOW_X_API_KEY, GUILDFLOW_X_API_SECRET, GUILDFLOW_X_ACCESS_TOKEN and GUILDFLOW_X_ACCESS_TOKEN_SECRET"
)
# X's clock and ours differ a little; tweepy waits one second past the reset too.
CLOCK_MARGIN_SECONDS = 1.0
RATE_LIMIT_WAITS_PER_CALL = 3


def tweepy_client(
    api_key: SecretStr,
    api_secret: SecretStr,
    access_token: SecretStr,
    access_token_secret: SecretStr,
    api_base: str,
    timeout: float = 30.0,
) -> tweepy.Client:
    """A tweepy client for OAuth 1.0a user context whose requests go to api_base (see the module doc)."""
    client = tweepy.Client(
        consumer_key=api_key.get_secret_value(),
        consumer_secret=api_secret.get_secret_value(),
        access_token=access_token.get_secret_value(),
        access_token_secret=access_token_secret.get_secret_value(),
        return_type=dict,
    )
    base = api_base.rstrip("/")
    client.session.mount(TWEEPY_HOST + "/", _SignedForX(None if base in X_HOSTS else base, timeout))
    return client


class _SignedForX(HTTPAdapter):
    """Sends requests signed for https://api.twitter.com to another base URL, always with a timeout."""

    def __init__(self, api_base: str | None, timeout: float) -> None:
        super().__init__()
        self._api_base, self._timeout = api_base, timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        if self._api_base and request.url:
            request.url = self._api_base + request.url.removeprefix(TWEEPY_HOST)
            # requests chose proxies for api.twitter.com; choose again for the real destination (no_proxy).
            proxies = requests.utils.get_environ_proxies(request.url)
        return super().send(
            request, stream=stream, timeout=timeout or self._timeout, verify=verify, cert=cert, proxies=proxies
        )


class _DuplicateContent(Exception):
    """X refused a post because the account already posted that exact text."""


class XPublisher:
    """Posts a draft's tweets as a thread on the account the access token belongs to."""

    def __init__(
        self,
        api_key: SecretStr,
        api_secret: SecretStr,
        access_token: SecretStr,
        access_token_secret: SecretStr,
        api_base: str = "https://api.x.com",
        *,
        rate_limit_wait_cap: float = 15 * 60,
        retry_delays: Sequence[float] = (2.0, 5.0, 10.0),
        timeout: float = 30.0,
        recent_posts_checked: int = 100,
    ) -> None:
        """rate_limit_wait_cap: the longest wait for X's rate limit to reset (the posting window is 15
        minutes); retry_delays: pauses before retrying after a 5xx or a network error."""
        self.api_base = api_base.rstrip("/")
        self._client = tweepy_client(api_key, api_secret, access_token, access_token_secret, api_base, timeout)
        self._rate_limit_wait_cap = rate_limit_wait_cap
        self._retry_delays = tuple(retry_delays)
        self._recent_posts_checked = max(5, min(recent_posts_checked, 100))
        self._account: dict[str, str] | None = None

    def describe(self) -> str:
        return f"X via tweepy, OAuth 1.0a user context ({self.api_base})"

    def check(self) -> str:
        return f"posting as @{self._me()['username']}"

    def publish(self, draft: Draft, progress: PublishProgress) -> str:
        total = len(draft.tweets)
        for number, text in enumerate(draft.tweets, start=1):
            if problem := post_problem(text):
                raise PublishError(
                    f"part {number} of {total} of draft {draft.id} {problem}; nothing was posted. Drafts are "
                    "made to be valid X posts, so this is a bug in core/draft.py: report it with the draft's text"
                )
        username = self._me()["username"]
        posted = progress.posted_parts()
        for index in range(len(posted), total):
            tweet_id = self._post_part(draft, index, reply_to=posted[-1] if posted else None)
            progress.record_part(index, tweet_id)
            posted.append(tweet_id)
        return f"x:https://x.com/{username}/status/{posted[0]}"

    def _post_part(self, draft: Draft, index: int, reply_to: str | None) -> str:
        text, part = draft.tweets[index], f"part {index + 1} of {len(draft.tweets)}"
        try:
            response = self._call(
                f"post {part}", lambda: self._client.create_tweet(text=text, in_reply_to_tweet_id=reply_to)
            )
            return str(response["data"]["id"])
        except _DuplicateContent:
            found = self._find_recent_post(text, reply_to)
        if found is None:
            replying = f" in reply to post {reply_to}" if reply_to else ""
            raise PublishError(
                f"X refuses {part} of draft {draft.id} as duplicate content, so it appears to be posted "
                f"already, but none of @{self._me()['username']}'s {self._recent_posts_checked} most recent posts "
                f"has that text{replying}. Check the account on x.com: X refuses identical text, so delete any "
                "earlier post with the same text and run again"
            )
        return found

    def _find_recent_post(self, text: str, reply_to: str | None) -> str | None:
        """The newest recent post of the account with this text (and replying to reply_to, for a reply)."""
        user_id = self._me()["id"]
        response = self._call(
            "look through the account's recent posts",
            lambda: self._client.get_users_tweets(
                user_id,
                max_results=self._recent_posts_checked,
                tweet_fields=["entities", "referenced_tweets"],
                user_auth=True,
            ),
        )
        for tweet in response.get("data", []):  # newest first
            replied_to = {ref["id"] for ref in tweet.get("referenced_tweets", []) if ref.get("type") == "replied_to"}
            if _same_text(_posted_text(tweet), text) and (reply_to is None or reply_to in replied_to):
                return str(tweet["id"])
        return None

    def _me(self) -> dict[str, str]:
        if self._account is None:
            self._account = self._call("read the account (GET /2/users/me)", self._client.get_me)["data"]
        return self._account

    def _call(self, action: str, request: Callable[[], Any]) -> Any:
        """request() with X's rate limit waited out and 5xx/network errors retried; errors become ours."""
        delays, rate_limit_waits = iter(self._retry_delays), 0
        while True:
            try:
                return request()
            except tweepy.TooManyRequests as error:
                rate_limit_waits += 1
                time.sleep(self._rate_limit_wait(error, action, rate_limit_waits))
            except (tweepy.TwitterServerError, requests.RequestException) as error:
                delay = next(delays, None)
                if delay is None:
                    raise self._unavailable(error, action) from None
                time.sleep(delay)
            except tweepy.HTTPException as error:
                raise self._refused(error, action) from None

    def _rate_limit_wait(self, error: tweepy.TooManyRequests, action: str, waits: int) -> float:
        if error.reset_time is None or waits > RATE_LIMIT_WAITS_PER_CALL:
            raise PublishError(
                f"X's rate limit stops us from trying to {action}; the next run will try again", transient=True
            )
        wait = error.reset_time - time.time() + CLOCK_MARGIN_SECONDS
        if wait > self._rate_limit_wait_cap:
            reset = datetime.fromtimestamp(error.reset_time, timezone.utc).isoformat(timespec="seconds")
            raise PublishError(
                f"X's rate limit stops us from trying to {action} until {reset}, longer than the "
                f"{self._rate_limit_wait_cap:.0f} s we wait; the next run after that continues the thread "
                "(X allows 100 posts per 15 minutes per account and 10,000 per day per app)",
                transient=True,
            )
        return max(wait, 0.0)

    def _unavailable(self, error: Exception, action: str) -> PublishError:
        if isinstance(error, tweepy.HTTPException):
            cause = f"X answered {error.response.status_code}"
        else:
            cause = f"could not reach {self.api_base} ({type(error).__name__})"
        tries = len(self._retry_delays) + 1
        return PublishError(
            f"could not {action}: {cause} on {tries} tries; the next run resumes where this one stopped "
            "(if the API base is not X itself, check GUILDFLOW_X_API_BASE)",
            transient=True,
        )

    def _refused(self, error: tweepy.HTTPException, action: str) -> Exception:
        status, said = error.response.status_code, _what_x_said(error)
        if isinstance(error, tweepy.Forbidden) and "duplicate content" in said.lower():
            return _DuplicateContent()
        if isinstance(error, tweepy.Unauthorized):
            fix = (
                f"check {CREDENTIALS}: the API key and secret of your app and the access token and secret "
                "of the posting account, from the X developer portal (Keys and tokens)"
            )
        elif isinstance(error, tweepy.Forbidden):
            fix = (
                "the app needs 'Read and write' permission: set it in the X developer portal under the "
                "app's User authentication settings, then regenerate the access token and secret and update "
                "GUILDFLOW_X_ACCESS_TOKEN and GUILDFLOW_X_ACCESS_TOKEN_SECRET"
            )
        elif status == 402:
            fix = "the X developer account has no credits left: add credits in the X developer console"
        elif isinstance(error, tweepy.NotFound):
            fix = f"check GUILDFLOW_X_API_BASE ({self.api_base})"
        else:
            fix = "if an earlier part of the thread was deleted on x.com, the reply chain is broken"
        return PublishError(f"X refused to {action} ({status}: {said}); {fix}")


def _what_x_said(error: tweepy.HTTPException) -> str:
    return "; ".join(error.api_messages) or error.response.reason or "no details"


def _posted_text(tweet: dict[str, Any]) -> str:
    """A post's text as it was written: X returns links as t.co links and escapes &, < and >."""
    text = tweet.get("text", "")
    for link in tweet.get("entities", {}).get("urls", []):
        if link.get("url") and link.get("expanded_url"):
            text = text.replace(link["url"], link["expanded_url"])
    return html.unescape(text)


def _same_text(posted: str, text: str) -> bool:
    return posted.split() == text.split()
