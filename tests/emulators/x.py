"""The subset of X's API v2 that XPublisher uses, checking what X checks.

Every request must carry a valid OAuth 1.0a HMAC-SHA1 signature for the four credentials the
emulator was given, computed over the public URL (https://api.twitter.com/...) that tweepy signed
before the request was redirected here. Posts are limited to 280 weighted characters (counted by
twitter-text, as X does), identical text is refused as duplicate content, a reply must reply to an
existing post, and posting can be rate limited until a reset time sent in x-rate-limit-reset.
Like X, the text of a post comes back with its links as t.co links and &, < and > escaped.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from oauthlib.oauth1.rfc5849 import signature, utils
from twitter_text import extract_urls_with_indices, parse_tweet

from tests.emulators.base import Emulator, Request, Response

PUBLIC_BASE = "https://api.twitter.com"
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."


@dataclass
class Credentials:
    api_key: str = "emulated-api-key"
    api_secret: str = "emulated-api-secret"
    access_token: str = "1500000000000000001-emulated-access-token"
    access_token_secret: str = "emulated-access-token-secret"


@dataclass
class Tweet:
    id: str
    text: str  # as posted
    in_reply_to: str | None
    received_at: float  # time.time() when X accepted it


class XEmulator(Emulator):
    def __init__(self, credentials: Credentials | None = None, username: str = "guildflow_bot") -> None:
        super().__init__()
        self.credentials = credentials or Credentials()
        self.user = {"id": "1500000000000000001", "name": "Guildflow", "username": username}
        self.tweets: list[Tweet] = []
        self.read_only = False  # the app has "Read" permission only: posting is forbidden
        self.posts_limited_until = 0  # epoch seconds: POST /2/tweets answers 429 before this
        self.lost_answers = 0  # this many accepted posts are answered 503 all the same (X posted them)
        self._ids = itertools.count(1800000000000000001)
        self._nonces: set[str] = set()
        self._state = threading.Lock()
        self.route("GET", r"/2/users/me", self.me)
        self.route("GET", r"/2/users/(?P<user_id>\d+)/tweets", self.users_tweets)
        self.route("POST", r"/2/tweets", self.create_tweet)

    # --- for tests ------------------------------------------------------------------------------

    def add_tweet(self, text: str, in_reply_to: str | None = None) -> Tweet:
        """A post the account made outside the code under test."""
        with self._state:
            tweet = Tweet(str(next(self._ids)), text, in_reply_to, time.time())
            self.tweets.append(tweet)
        return tweet

    def limit_posts(self, seconds: float) -> int:
        """Answer posts with 429 for about this long; returns the reset time sent to the client."""
        self.posts_limited_until = int(time.time() + seconds) + 1
        return self.posts_limited_until

    def throttled(self) -> Response:
        """X's 429, its window resetting a second after the answer is made."""
        return _too_many_requests(int(time.time()) + 1)

    def server_error(self, status: int = 503) -> Response:
        return _problem(status, "Service Unavailable" if status == 503 else "Internal Server Error", "Try again later")

    def thread(self) -> list[str]:
        """The texts of the first post and its chain of replies, in order."""
        if not self.tweets:
            return []
        chain, current = [], self.tweets[0]
        while current is not None:
            chain.append(current.text)
            current = next((tweet for tweet in self.tweets if tweet.in_reply_to == current.id), None)
        return chain

    # --- the API --------------------------------------------------------------------------------

    def me(self, request: Request) -> Response:
        return self._authenticated(request) or Response.json({"data": self.user})

    def users_tweets(self, request: Request) -> Response:
        if refused := self._authenticated(request):
            return refused
        if request.params["user_id"] != self.user["id"]:
            return _problem(404, "Not Found Error", f"Could not find user with id: [{request.params['user_id']}].")
        limit = int(request.arg("max_results", "10") or 10)
        if not 5 <= limit <= 100:
            return _invalid(
                "max_results", str(limit), "The `max_results` query parameter value is not between 5 and 100"
            )
        fields = set((request.arg("tweet.fields") or "").split(","))
        newest_first = list(reversed(self.tweets))[:limit]
        data = [self._as_returned(tweet, fields) for tweet in newest_first]
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            meta |= {"newest_id": data[0]["id"], "oldest_id": data[-1]["id"]}
            return Response.json({"data": data, "meta": meta})
        return Response.json({"meta": meta})

    def create_tweet(self, request: Request) -> Response:
        if refused := self._authenticated(request):
            return refused
        if time.time() < self.posts_limited_until:
            return _too_many_requests(self.posts_limited_until)
        if self.read_only:
            return _problem(403, "Forbidden", "You are not permitted to perform this action.")
        body = request.json() or {}
        text = body.get("text", "")
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if not parse_tweet(text).valid:
            return _invalid("text", text, "Your Tweet text is too long or empty.")
        with self._state:
            if any(tweet.text == text for tweet in self.tweets):
                return _problem(403, "Forbidden", DUPLICATE)
            if reply_to is not None and not any(tweet.id == reply_to for tweet in self.tweets):
                return _invalid(
                    "reply.in_reply_to_tweet_id",
                    reply_to,
                    f"The `reply.in_reply_to_tweet_id` query parameter value [{reply_to}] does not exist",
                )
            tweet = Tweet(str(next(self._ids)), text, reply_to, time.time())
            self.tweets.append(tweet)
            if self.lost_answers:
                self.lost_answers -= 1
                return _problem(503, "Service Unavailable", "Service Unavailable")
        returned = self._as_returned(tweet, set())
        return Response.json({"data": {**returned, "edit_history_tweet_ids": [tweet.id]}}, status=201)

    # --- what X checks and how it answers -------------------------------------------------------

    def _authenticated(self, request: Request) -> Response | None:
        """None when the OAuth 1.0a signature is valid for our credentials, else X's 401."""
        header = request.headers.get("authorization", "")
        if not header.startswith("OAuth "):
            return _unauthorized()
        try:
            oauth = {name: utils.unescape(value) for name, value in utils.parse_authorization_header(header)}
            timestamp = int(oauth.get("oauth_timestamp", "0"))
        except ValueError:
            return _unauthorized()
        expected = self.credentials
        if (
            oauth.get("oauth_consumer_key") != expected.api_key
            or oauth.get("oauth_token") != expected.access_token
            or oauth.get("oauth_signature_method") != "HMAC-SHA1"
            or abs(time.time() - timestamp) > 300
            or not oauth.get("oauth_nonce")
        ):
            return _unauthorized()
        signed = [(name, value) for name, value in oauth.items() if name not in ("oauth_signature", "realm")]
        query = [(name, value) for name, values in request.query.items() for value in values]
        base_string = signature.signature_base_string(
            request.method,
            signature.base_string_uri(PUBLIC_BASE + request.path),
            signature.normalize_parameters(query + signed),
        )
        secrets = SimpleNamespace(client_secret=expected.api_secret, resource_owner_secret=expected.access_token_secret)
        wanted = signature.sign_hmac_sha1_with_client(base_string, secrets)
        if not signature.safe_string_equals(wanted, oauth.get("oauth_signature", "")):
            return _unauthorized()
        with self._state:
            if oauth["oauth_nonce"] in self._nonces:
                return _unauthorized()
            self._nonces.add(oauth["oauth_nonce"])
        return None

    def _as_returned(self, tweet: Tweet, fields: set[str]) -> dict[str, Any]:
        text, links, shift = tweet.text, [], 0
        for found in extract_urls_with_indices(tweet.text):
            short = "https://t.co/" + hashlib.sha256(found["url"].encode()).hexdigest()[:10]
            start, end = found["indices"][0] + shift, found["indices"][1] + shift
            text = text[:start] + short + text[end:]
            shift += len(short) - (end - start)
            links.append({"start": start, "end": start + len(short), "url": short, "expanded_url": found["url"]})
        returned: dict[str, Any] = {"id": tweet.id, "text": html.escape(text, quote=False)}
        if "entities" in fields and links:
            returned["entities"] = {"urls": links}
        if "referenced_tweets" in fields and tweet.in_reply_to:
            returned["referenced_tweets"] = [{"type": "replied_to", "id": tweet.in_reply_to}]
        return returned


def _problem(status: int, title: str, detail: str) -> Response:
    return Response.json({"title": title, "detail": detail, "type": "about:blank", "status": status}, status=status)


def _too_many_requests(reset: int) -> Response:
    return Response.json(
        {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429},
        status=429,
        headers={"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
    )


def _unauthorized() -> Response:
    return _problem(401, "Unauthorized", "Unauthorized")


def _invalid(parameter: str, value: str, message: str) -> Response:
    return Response.json(
        {
            "errors": [{"parameters": {parameter: [value]}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
        status=400,
    )
