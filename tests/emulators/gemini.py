"""The Gemini API (generativelanguage.googleapis.com) as google-genai uses it: generateContent, models.

The "model" answers deterministically with the offline rules (core.offline_analysis) for every post in
the request, so a pipeline run through Gemini writes the same rows as an offline run. It reads the
posts from the prompt's last part (a JSON list) and the mode from the prompt's "Mode: ..." line.

Summary requests (integrations.gemini_summary's prompts) are answered by the offline summariser
(core.offline_summary) in the response schema: the messages (or the summaries to combine) from the last part,
the length, action items and terms from the prompt's rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from core.models import DiscordMessage
from core.offline_analysis import analyse_offline
from core.offline_summary import combine_offline, summarise_offline
from core.summaries import KEY_POINTS, ChannelSummary, SummaryOptions
from tests.emulators.base import Emulator, Request, Response

_VERSION = r"/(?P<version>v1|v1beta)"
_MODE_LINE = re.compile(r"^Mode: (summary|keywords)$", re.MULTILINE)
MODELS = ("gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro", "gemini-embedding-001")

# What the emulated model answers: the list of answer dicts, or raw candidate text.
AnswerRewrite = Callable[[list[dict[str, Any]]], "list[dict[str, Any]] | str"]
# A summary answer (the schema's object), or raw candidate text.
SummaryRewrite = Callable[[dict[str, Any]], "dict[str, Any] | str"]
_SUMMARISE, _COMBINE = "You summarise conversations", "You combine summaries"


def api_error(code: int, status: str, message: str, details: list[dict[str, Any]] | None = None) -> Response:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return Response.json({"error": error}, status=code)


def quota_exceeded(period: str, model: str = "gemini-2.5-flash", retry_seconds: int = 7) -> Response:
    """The real 429 for a spent per-minute or per-day quota: a QuotaFailure naming it, and a RetryInfo."""
    quota_id, limit = {"minute": ("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "10")}.get(
        period, ("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "250")
    )
    metric = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    return api_error(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details. For more information on "
        "this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n"
        f"* Quota exceeded for metric: {metric}, limit: {limit}, model: {model}\n"
        f"Please retry in {retry_seconds}.0s.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": metric,
                        "quotaId": quota_id,
                        "quotaDimensions": {"location": "global", "model": model},
                        "quotaValue": limit,
                    }
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {
                        "description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                    }
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_seconds}s"},
        ],
    )


def overloaded() -> Response:
    return api_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")


def invalid_key() -> Response:
    return api_error(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": "API key not valid. Please pass a valid API key.",
            },
        ],
    )


def candidate(text: str, finish_reason: str = "STOP") -> Response:
    """A 200 generateContent answer whose only candidate says `text`."""
    return Response.json(
        {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish_reason, "index": 0}
            ],
            "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 50, "totalTokenCount": 150},
            "modelVersion": "gemini-2.5-flash",
            "responseId": "emulated",
        }
    )


class GeminiEmulator(Emulator):
    def __init__(self, api_key: str = "test-gemini-key", models: tuple[str, ...] = MODELS) -> None:
        super().__init__()
        self.api_key = api_key
        self.models = models
        self.requests_per_day: int | None = None  # the project's daily quota; None: unlimited
        self.answered = 0  # generateContent requests answered (what a daily quota counts)
        self._rewrites: list[AnswerRewrite] = []
        self._summary_rewrites: list[SummaryRewrite] = []
        self.route("POST", rf"{_VERSION}/models/(?P<model>[^/:]+):generateContent", self.generate_content)
        self.route("GET", rf"{_VERSION}/models/(?P<model>[^/:]+)", self.get_model)

    # --- for tests ------------------------------------------------------------------------------

    def throttled(self) -> Response:
        return quota_exceeded("minute", retry_seconds=1)

    def server_error(self, status: int = 503) -> Response:
        return overloaded() if status == 503 else api_error(status, "INTERNAL", "An internal error has occurred.")

    def rewrite_answers(self, rewrite: AnswerRewrite, times: int = 1) -> None:
        """The next `times` generateContent answers go through `rewrite` (partial or malformed answers)."""
        with self._lock:
            self._rewrites.extend([rewrite] * times)

    def rewrite_summaries(self, rewrite: SummaryRewrite, times: int = 1) -> None:
        """The next `times` summary answers go through `rewrite` (partial or malformed answers)."""
        with self._lock:
            self._summary_rewrites.extend([rewrite] * times)

    def generate_calls(self) -> int:
        return self.calls("POST", r":generateContent$")

    def sent_posts(self, index: int = -1) -> list[dict[str, Any]]:
        """The posts of one generateContent request (the last by default)."""
        requests = [r for r in self.requests if r.method == "POST" and r.path.endswith(":generateContent")]
        return _posts(requests[index].json())

    # --- routes ---------------------------------------------------------------------------------

    def generate_content(self, request: Request) -> Response:
        if refused := self._refuse(request):
            return refused
        model = request.params["model"]
        if model not in self.models:
            return _unknown_model(model, request.params["version"])
        body = request.json()
        if _texts(body)[0].startswith((_SUMMARISE, _COMBINE)):
            return self._summarise(body, model)
        mode_line = _MODE_LINE.search("\n".join(_texts(body)))
        if mode_line is None:
            return api_error(400, "INVALID_ARGUMENT", "emulator: the prompt has no 'Mode: summary|keywords' line")
        try:
            posts = _posts(body)
        except (KeyError, IndexError, TypeError, ValueError):
            return api_error(400, "INVALID_ARGUMENT", "emulator: the prompt's last part is not a JSON list of posts")
        with self._lock:
            if self.requests_per_day is not None and self.answered >= self.requests_per_day:
                return quota_exceeded("day", model)
            self.answered += 1
            rewrite = self._rewrites.pop(0) if self._rewrites else None
        answers: list[dict[str, Any]] | str = [_answer(post, mode_line.group(1)) for post in posts]
        if rewrite is not None:
            answers = rewrite(answers)  # type: ignore[arg-type]
        text = answers if isinstance(answers, str) else json.dumps(answers, ensure_ascii=False)
        if body.get("generationConfig", {}).get("responseMimeType") != "application/json":
            text = f"Here is the analysis:\n```json\n{text}\n```"  # what a model does without JSON mode
        return candidate(text)

    def _summarise(self, body: dict[str, Any], model: str) -> Response:
        config = body.get("generationConfig", {})
        if config.get("responseMimeType") != "application/json" or config.get("responseSchema", {}).get("type") != (
            "OBJECT"
        ):
            return api_error(400, "INVALID_ARGUMENT", "emulator: a summary is asked with a JSON object schema")
        instructions, data = _texts(body)[0], json.loads(_texts(body)[-1])
        points = int(re.search(r"key_points: at most (\d+) points", instructions)[1])  # type: ignore[index]
        options = SummaryOptions(
            length=next(length for length, count in KEY_POINTS.items() if count == points),  # type: ignore[arg-type]
            action_items="action_items: every task" in instructions,
            technical_terms="technical_terms: the jargon" in instructions,
        )
        with self._lock:
            if self.requests_per_day is not None and self.answered >= self.requests_per_day:
                return quota_exceeded("day", model)
            self.answered += 1
            rewrite = self._summary_rewrites.pop(0) if self._summary_rewrites else None
        if instructions.startswith(_COMBINE):
            summary = combine_offline([ChannelSummary.model_validate(item) for item in data], options)
        else:
            summary = summarise_offline([_message(item) for item in data], options)
        answer: dict[str, Any] | str = summary.model_dump(mode="json")
        if rewrite is not None:
            answer = rewrite(answer)  # type: ignore[arg-type]
        return candidate(answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False))

    def get_model(self, request: Request) -> Response:
        if refused := self._refuse(request):
            return refused
        model = request.params["model"]
        if model not in self.models:
            return _unknown_model(model, request.params["version"])
        return Response.json(_model_resource(model))

    def _refuse(self, request: Request) -> Response | None:
        key = request.headers.get("x-goog-api-key") or request.arg("key")
        if not key:
            return api_error(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API.",
            )
        return None if key == self.api_key else invalid_key()


def _texts(body: dict[str, Any]) -> list[str]:
    return [part.get("text", "") for content in body.get("contents", []) for part in content.get("parts", [])]


def _posts(body: dict[str, Any]) -> list[dict[str, Any]]:
    posts = json.loads(body["contents"][-1]["parts"][-1]["text"])
    if not isinstance(posts, list):
        raise ValueError("not a list")
    return posts


def _answer(post: dict[str, Any], mode: str) -> dict[str, Any]:
    analysis = analyse_offline(post["content"], post["x_handle"], mode)  # type: ignore[arg-type]
    return {
        "post_link": post["post_link"],
        "is_crypto_project": analysis.is_project,
        "project_name": analysis.project,
        "summary": analysis.summary,
        "keywords": list(analysis.keywords),
    }


def _message(item: dict[str, Any]) -> DiscordMessage:
    """A message as the summary prompt sends it ("id", "author", "time", "text")."""
    return DiscordMessage(
        id=int(item["id"]),
        channel_id=0,
        timestamp=datetime.strptime(item["time"], "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc),
        author_id=0,
        author_name=item["author"],
        author_is_bot=False,
        content=item["text"],
    )


def _unknown_model(model: str, version: str) -> Response:
    return api_error(
        404,
        "NOT_FOUND",
        f"models/{model} is not found for API version {version}, or is not supported for generateContent. "
        "Call ListModels to see the list of available models and their supported methods.",
    )


def _model_resource(model: str) -> dict[str, Any]:
    embedding = "embedding" in model
    return {
        "name": f"models/{model}",
        "version": "001",
        "displayName": model.replace("-", " ").title(),
        "description": "emulated model",
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": ["embedContent"] if embedding else ["generateContent", "countTokens"],
        "temperature": 1.0,
        "topP": 0.95,
        "topK": 64,
    }
