"""The subset of Typefully's API v2 that TypefullyPublisher uses: social sets and drafts, in memory.

Requests need `Authorization: Bearer <key>`. Listed drafts carry a preview (the first post), not
their posts, as in the API; a single draft is read in full. Errors look like {"error": {"code",
"message"}}.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.emulators.base import Emulator, Request, Response

SET = r"/v2/social-sets/(?P<set_id>\d+)"
LISTED_FIELDS = ("id", "social_set_id", "status", "draft_title", "preview", "private_url", "share_url", "tags")
LISTED_FIELDS += ("created_at", "updated_at", "published_at", "scheduled_date")


class TypefullyEmulator(Emulator):
    def __init__(self, api_key: str = "emulated-typefully-key", social_set_id: int = 4242) -> None:
        super().__init__()
        self.api_key = api_key
        self.social_sets: dict[int, dict[str, Any]] = {
            social_set_id: {
                "id": social_set_id,
                "username": "guildflow",
                "name": "Guildflow",
                "profile_image_url": "https://typefully.com/avatar.png",
                "team": None,
                "platforms": {
                    "x": {"platform": "x", "username": "guildflow_bot", "name": "Guildflow", "profile_image_url": ""},
                    "linkedin": None,
                    "mastodon": None,
                    "threads": None,
                    "bluesky": None,
                },
            }
        }
        self.drafts: list[dict[str, Any]] = []  # oldest first, as returned by GET .../drafts/{id}
        self.created: list[dict[str, Any]] = []  # the request bodies of POST .../drafts, in order
        self._ids = itertools.count(880001)
        self._state = threading.Lock()
        self.route("GET", SET + "/?", self.social_set)
        self.route("GET", SET + "/drafts", self.list_drafts)
        self.route("GET", SET + r"/drafts/(?P<draft_id>\d+)", self.get_draft)
        self.route("POST", SET + "/drafts", self.create_draft)

    def social_set(self, request: Request) -> Response:
        return self._refused(request) or Response.json(self.social_sets[int(request.params["set_id"])])

    def list_drafts(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        set_id = int(request.params["set_id"])
        drafts = [draft for draft in self.drafts if draft["social_set_id"] == set_id]
        order = request.arg("order_by", "-updated_at") or "-updated_at"
        if order.lstrip("-") not in ("created_at", "updated_at", "scheduled_date", "published_at"):
            return _error(422, "VALIDATION_ERROR", f"order_by: '{order}' is not a valid choice.")
        drafts.sort(key=lambda draft: draft[order.lstrip("-")] or "", reverse=order.startswith("-"))
        offset, limit = int(request.arg("offset", "0") or 0), int(request.arg("limit", "10") or 10)
        page = [{field: draft[field] for field in LISTED_FIELDS} for draft in drafts[offset : offset + limit]]
        return Response.json(
            {"results": page, "count": len(drafts), "limit": limit, "offset": offset, "next": None, "previous": None}
        )

    def get_draft(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        set_id, draft_id = int(request.params["set_id"]), int(request.params["draft_id"])
        for draft in self.drafts:
            if draft["id"] == draft_id and draft["social_set_id"] == set_id:
                return Response.json(draft)
        return _error(404, "NOT_FOUND", "Draft not found.")

    def create_draft(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        body = request.json() or {}
        x = (body.get("platforms") or {}).get("x") or {}
        posts = x.get("posts") or []
        if not x.get("enabled") or not posts or not all(isinstance(post.get("text"), str) for post in posts):
            return _error(422, "VALIDATION_ERROR", "platforms.x needs enabled: true and posts with text.")
        now = datetime.now(timezone.utc)
        publish_at = body.get("publish_at")
        if publish_at in (None, "now", "next-free-slot"):
            status = {None: "draft", "now": "publishing", "next-free-slot": "scheduled"}[publish_at]
            scheduled = (now + timedelta(hours=3)).isoformat() if publish_at == "next-free-slot" else None
        else:
            try:
                when = datetime.fromisoformat(publish_at.replace("Z", "+00:00"))
            except (AttributeError, ValueError):
                return _error(400, "VALIDATION_ERROR", f"publish_at: '{publish_at}' is not an ISO 8601 datetime.")
            if when.tzinfo is None or when <= now:
                return _error(400, "VALIDATION_ERROR", "publish_at must be a future time with a time zone.")
            status, scheduled = "scheduled", when.isoformat()
        with self._state:
            draft_id = next(self._ids)
            token = hashlib.sha256(str(draft_id).encode()).hexdigest()[:12]
            draft = {
                "id": draft_id,
                "social_set_id": int(request.params["set_id"]),
                "status": status,
                "created_at": now.isoformat(),
                "updated_at": now.isoformat(),
                "scheduled_date": scheduled,
                "published_at": None,
                "draft_title": body.get("draft_title"),
                "tags": body.get("tags") or [],
                "preview": posts[0]["text"],
                "share_url": f"https://typefully.com/t/{token}" if body.get("share") else None,
                "private_url": f"https://typefully.com/?d={draft_id}",
                "platforms": {"x": {"enabled": True, "posts": [{"text": p["text"], "media_ids": []} for p in posts]}},
                "x_published_url": None,
            }
            self.drafts.append(draft)
            self.created.append(body)
        return Response.json(draft, status=201)

    def _refused(self, request: Request) -> Response | None:
        """401 without the right Bearer key; 404 for a social set the key cannot see."""
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "UNAUTHORIZED", "Invalid or missing API key.")
        set_id = request.params.get("set_id")
        if set_id is not None and int(set_id) not in self.social_sets:
            return _error(404, "NOT_FOUND", "Social set not found.")
        return None


def _error(status: int, code: str, message: str) -> Response:
    return Response.json({"error": {"code": code, "message": message}}, status=status)
