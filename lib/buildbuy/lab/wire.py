"""The lab's bytes on the wire: OpenAI chat-completion shapes, its word tokenizer, errors.

The lab copies the shapes of OpenAI's chat completions API (API reference, "Create chat
completion" and "The chat completion chunk object", platform.openai.com/docs, 2026):

- a stream is server-sent events, one ``data: {json}`` event per chunk, each ended by a
  blank line: a role chunk, one chunk per token, a chunk with ``finish_reason``, a usage
  chunk with ``"choices": []`` when ``stream_options.include_usage`` is true, then
  ``data: [DONE]``;
- errors are ``{"error": {"message", "type", "param", "code"}}``.

The lab has no real tokenizer: **one token is one whitespace-separated word** of the
prompt, and it writes tokens from a fixed list of four-letter words, so every token chunk
has the same size and the stream's bytes per token are exact.

Examples
--------
>>> count_prompt_tokens([{"role": "user", "content": "three short words"}])
3
>>> stream_bytes("llama-3.1-8b", 16, prompt_tokens=128)
3887
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = [
    "WORDS",
    "StreamFormat",
    "completion_body",
    "count_prompt_tokens",
    "error_body",
    "stream_bytes",
]

#: The words the lab generates, each a leading space plus four letters.
WORDS: tuple[str, ...] = (" data", " time", " over", " with", " from", " into", " more",
                          " each", " part", " rate", " cost", " load", " fast", " slow",
                          " user", " node")
_DUMP = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class StreamFormat:
    """Renders the events of one response (``request_no`` makes the id, ``created`` is
    the Unix second the lab started; both have a fixed width)."""

    def __init__(self, model: str, request_no: int, created: int) -> None:
        self.model = model
        self.id = f"chatcmpl-lab-{request_no % 10**8:08d}"
        self.created = int(created)
        head = _DUMP({"id": self.id, "object": "chat.completion.chunk",
                      "created": self.created, "model": model})[:-1]
        self._head = "data: " + head + ',"choices":[{"index":0,"delta":'
        self._tokens = [(self._head + '{"content":' + _DUMP(w)
                         + '},"logprobs":null,"finish_reason":null}]}\n\n').encode()
                        for w in WORDS]

    def word(self, i: int) -> str:
        """The text of token ``i``."""
        return WORDS[i % len(WORDS)]

    def role(self) -> bytes:
        """The first chunk: the assistant role and empty content."""
        return (self._head + '{"role":"assistant","content":""},"logprobs":null,'
                '"finish_reason":null}]}\n\n').encode()

    def token(self, i: int) -> bytes:
        """The chunk carrying token ``i``."""
        return self._tokens[i % len(WORDS)]

    def finish(self, reason: str = "length") -> bytes:
        """The chunk with an empty delta and the finish reason."""
        return (self._head + '{},"logprobs":null,"finish_reason":' + _DUMP(reason)
                + "}]}\n\n").encode()

    def usage(self, prompt_tokens: int, completion_tokens: int) -> bytes:
        """The usage chunk (``choices`` empty), sent when the request asked for it."""
        return ("data: " + _DUMP({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "choices": [], "usage": _usage(prompt_tokens,
                                                                completion_tokens)})
            + "\n\n").encode()

    @staticmethod
    def done() -> bytes:
        """The end-of-stream sentinel."""
        return b"data: [DONE]\n\n"

    def events(self, prompt_tokens: int, completion_tokens: int, *,
               include_usage: bool) -> Iterator[bytes]:
        """Every event of a complete stream, in order (for sizing and tests)."""
        yield self.role()
        for i in range(completion_tokens):
            yield self.token(i)
        yield self.finish()
        if include_usage:
            yield self.usage(prompt_tokens, completion_tokens)
        yield self.done()


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": int(prompt_tokens), "completion_tokens": int(completion_tokens),
            "total_tokens": int(prompt_tokens) + int(completion_tokens)}


def completion_body(model: str, request_no: int, created: int, prompt_tokens: int,
                    completion_tokens: int) -> bytes:
    """A non-streamed response: the whole message, ``finish_reason`` and usage."""
    fmt = StreamFormat(model, request_no, created)
    text = "".join(fmt.word(i) for i in range(completion_tokens))
    return _DUMP({
        "id": fmt.id, "object": "chat.completion", "created": fmt.created, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "logprobs": None, "finish_reason": "length"}],
        "usage": _usage(prompt_tokens, completion_tokens)}).encode()


def stream_bytes(model: str, completion_tokens: int, *, prompt_tokens: int = 128,
                 include_usage: bool = True) -> int:
    """Bytes of the body of a complete stream of ``completion_tokens`` tokens."""
    fmt = StreamFormat(model, 0, 1_700_000_000)
    return sum(len(e) for e in fmt.events(prompt_tokens, int(completion_tokens),
                                          include_usage=include_usage))


def error_body(message: str, *, type_: str = "invalid_request_error", code: str | None = None,
               param: str | None = None) -> dict[str, Any]:
    """The OpenAI error object."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def count_prompt_tokens(messages: Sequence[Any]) -> int:
    """Tokens of a chat prompt for the lab: whitespace-separated words of every message.

    A message's ``content`` is a string or a list of parts; text parts count, others not.
    Raises ``ValueError`` naming the first malformed message.
    """
    if not isinstance(messages, list) or not messages:
        raise ValueError(f"messages={_short(messages)} is invalid: must be a non-empty list "
                         "of {'role': ..., 'content': ...} objects")
    total = 0
    for i, msg in enumerate(messages):
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            total += len(content.split())
        elif isinstance(content, list):
            total += sum(len(str(p.get("text", "")).split()) for p in content
                         if isinstance(p, dict) and p.get("type") == "text")
        elif not (isinstance(msg, dict) and "role" in msg and content is None):
            raise ValueError(f"messages[{i}]={_short(msg)} is invalid: must be an object "
                             "with 'role' and a 'content' string or list of parts")
    return total


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
