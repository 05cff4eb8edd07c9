"""An incremental parser of server-sent events (the framing of streamed chat completions).

It follows the WHATWG HTML standard's event-stream parsing rules ("Server-sent events",
section 9.2.6, html.spec.whatwg.org, living standard as of 2026): lines end with CRLF, LF
or CR; a line starting with ``:`` is a comment (servers send them as keep-alive pings);
``field: value`` with one leading space stripped; several ``data`` lines join with LF; a
blank line dispatches the event; an event with no data is dropped. Bytes may arrive split
anywhere, even inside a UTF-8 character or between CR and LF.

Examples
--------
>>> p = SSEParser()
>>> p.feed(b"data: {\\"a\\": 1}\\r\\n\\r\\n: ping\\n\\ndata: [DO")
['{"a": 1}']
>>> p.feed(b"NE]\\n\\n")
['[DONE]']
"""

from __future__ import annotations

import codecs

__all__ = ["SSEParser"]


class SSEParser:
    """Feed bytes with :meth:`feed`; get the ``data`` of each complete event back."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []
        self._pending_cr = False
        self.events = 0
        self.comments = 0

    def feed(self, chunk: bytes) -> list[str]:
        """Parse ``chunk``; return the data of every event it completed, in order."""
        text = self._decoder.decode(chunk)
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF split across two chunks
        self._pending_cr = text.endswith("\r")
        self._buffer += text
        lines = self._buffer.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._buffer = lines.pop()  # the unfinished last line
        out: list[str] = []
        for line in lines:
            if not line:
                if self._data:
                    out.append("\n".join(self._data))
                    self.events += 1
                self._data = []
            elif line.startswith(":"):
                self.comments += 1
            else:
                name, _, value = line.partition(":")
                if value.startswith(" "):
                    value = value[1:]
                if name == "data":
                    self._data.append(value)
        return out

    def close(self) -> list[str]:
        """End of stream: an event without its blank line is dropped (as the standard
        says); return nothing but report whether bytes were left over via :attr:`leftover`."""
        self.leftover = bool(self._buffer.strip() or self._data)
        self._buffer, self._data = "", []
        return []
