"""Run a lab: in this process (a background thread, for notebooks and tests) or in the
foreground (``buildbuy lab serve``). Always on 127.0.0.1, always for a bounded time.

aiohttp's ``AppRunner`` serves the app on a socket we bind ourselves (port 0 = a free
port chosen by the kernel) through ``SockSite``; an event stops it. Every lab stops by
itself after ``max_seconds``.

Examples
--------
>>> with start(seed=0, kind="none", time_scale=0.05, max_seconds=30) as lab:
...     lab.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import threading
from types import TracebackType
from typing import Any

from buildbuy._validate import bad, integer, positive
from buildbuy.lab.app import create_app
from buildbuy.lab.spec import REFERENCE_PROMPT_TOKENS, LabSpec

__all__ = ["HOST", "MIN_WALL_STEP_MS", "WALL_TOKENS_PER_S", "Lab", "Served", "auto_time_scale",
           "serve_in_thread", "start"]

#: The only address a lab listens on.
HOST: str = "127.0.0.1"
#: :func:`auto_time_scale` sets a lab's clock so that its engine's full-batch output rate
#: is this many tokens per wall second: slow enough for one Python process to serve and
#: audit it on a busy 2-core machine, fast enough that a 70B lab takes seconds too.
WALL_TOKENS_PER_S: float = 1000.0
#: The shortest wall-clock decode step :func:`auto_time_scale` allows, ms.
MIN_WALL_STEP_MS: float = 3.0


def auto_time_scale(spec: LabSpec) -> float:
    """The clock at which the lab's ceiling at the reference shape is
    :data:`WALL_TOKENS_PER_S` on the wall clock (every lab then runs at the same pace),
    but no faster than :data:`MIN_WALL_STEP_MS` per batch-1 step (the event loop's timers
    have a resolution of about 1 ms).

    Examples
    --------
    >>> spec = LabSpec.from_seed(1, kind="none")
    >>> round(auto_time_scale(spec) * 1000 / spec.truth().ceiling_tokens_per_s, 6)
    1.0
    """
    pace = spec.truth().ceiling_tokens_per_s / WALL_TOKENS_PER_S
    return max(pace, MIN_WALL_STEP_MS / spec.step_ms(1, REFERENCE_PROMPT_TOKENS, 0, 0))


def bind_loopback(port: int = 0) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (``port`` 0: any free port).

    The protocol is given as ``IPPROTO_TCP`` on purpose: asyncio switches Nagle's
    algorithm off (``TCP_NODELAY``) only on sockets whose ``proto`` says TCP
    (``asyncio.base_events._set_nodelay``), and accepted sockets inherit it. With
    ``proto=0`` every response written in two parts (headers, then body) waits for the
    client's delayed ACK: 40 ms on Linux, measured here.
    """
    p = integer("port", port, minimum=0, maximum=65535)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, p))
    except OSError as exc:
        sock.close()
        raise bad("port", port, f"a free port on {HOST} ({exc.strerror})") from None
    sock.listen(128)
    return sock


class Handle:
    """Stops a serving lab from any thread (see :func:`serve`)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, runner: Any) -> None:
        self.loop = loop
        self.runner = runner
        self.stopped = asyncio.Event()

    @property
    def addresses(self) -> list[Any]:
        """The (host, port) pairs the lab listens on."""
        return list(self.runner.addresses)

    def stop(self) -> None:
        """Ask the lab to stop (thread-safe)."""
        with contextlib.suppress(RuntimeError):  # the loop already ended
            self.loop.call_soon_threadsafe(self.stopped.set)


async def serve(app: Any, sock: socket.socket, *, max_seconds: float,
                on_start: Any = None) -> None:
    """Serve ``app`` on ``sock`` until stopped or ``max_seconds`` have passed."""
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        handle = Handle(asyncio.get_running_loop(), runner)
        if on_start is not None:
            on_start(handle)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(handle.stopped.wait(), timeout=max_seconds)
    finally:
        await runner.cleanup()


class Lab:
    """A lab running in a background thread of this process (see :func:`start`)."""

    def __init__(self, spec: LabSpec, *, time_scale: float, port: int,
                 thread: threading.Thread, handle: Handle) -> None:
        self.spec = spec
        self.time_scale = time_scale
        self.port = port
        self._thread = thread
        self._handle = handle

    @property
    def url(self) -> str:
        """The OpenAI base URL, ``http://127.0.0.1:PORT/v1``."""
        return f"http://{HOST}:{self.port}/v1"

    @property
    def model(self) -> str:
        """The model name the lab serves."""
        return self.spec.model

    @property
    def addresses(self) -> list[Any]:
        """The (host, port) pairs the lab listens on (while it runs)."""
        return self._handle.addresses if self.running else []

    @property
    def running(self) -> bool:
        """True while the server thread is alive."""
        return self._thread.is_alive()

    def describe(self) -> str:
        """One line without the port (which changes every run)."""
        if self.time_scale == 1:
            pace = "at real time"
        elif self.time_scale < 1:
            pace = f"{1 / self.time_scale:.1f}x faster than real time"
        else:
            pace = f"{self.time_scale:.1f}x slower than real time"
        return (f"lab (seed {self.spec.seed}): {self.spec.model} on {self.spec.gpu}"
                f"{' x' + str(self.spec.tensor_parallel) if self.spec.tensor_parallel > 1 else ''}"
                f", {pace}; the bottleneck is hidden")

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the server and wait (at most ``timeout_s``) for its thread."""
        self._handle.stop()
        self._thread.join(timeout=timeout_s)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{self.describe()}; {self.url if self.running else 'stopped'}>"


class Served:
    """Any aiohttp app served by :func:`serve_in_thread` (the lab uses it too)."""

    def __init__(self, port: int, thread: threading.Thread, handle: Handle) -> None:
        self.port = port
        self.thread = thread
        self.handle = handle

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{HOST}:{self.port}"

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop serving and wait (at most ``timeout_s``) for the thread."""
        self.handle.stop()
        self.thread.join(timeout=timeout_s)

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(app: Any, *, port: int = 0, max_seconds: float = 900.0,
                    startup_timeout_s: float = 20.0) -> Served:
    """Serve ``app`` on 127.0.0.1 from a daemon thread; return once it listens."""
    life = positive("max_seconds", max_seconds)
    if not math.isfinite(life):
        raise bad("max_seconds", max_seconds, "a finite number of seconds")
    sock = bind_loopback(port)
    port = sock.getsockname()[1]
    box: dict[str, Any] = {}
    ready = threading.Event()

    def on_start(handle: Handle) -> None:
        box["handle"] = handle
        ready.set()

    def run() -> None:
        try:
            asyncio.run(serve(app, sock, max_seconds=life, on_start=on_start))
        except BaseException as exc:  # reported to the caller below
            box["error"] = exc
        finally:
            sock.close()
            ready.set()

    thread = threading.Thread(target=run, name=f"buildbuy-serve-{port}", daemon=True)
    thread.start()
    ready.wait(timeout=startup_timeout_s)
    if "handle" not in box:
        thread.join(timeout=5)
        raise RuntimeError(f"the server did not start within {startup_timeout_s:g} s"
                           f"{': ' + repr(box['error']) if 'error' in box else ''}")
    return Served(port, thread, box["handle"])


def start(spec: LabSpec | None = None, *, seed: int = 0, kind: str | None = None,
          model: str = "llama-3.1-8b", gpu: str = "H100-SXM",
          time_scale: float | str = 1.0, port: int = 0, api_key: str | None = None,
          max_seconds: float = 900.0, startup_timeout_s: float = 20.0) -> Lab:
    """Start a lab in a background thread on 127.0.0.1 and return when it accepts requests.

    Parameters
    ----------
    spec : LabSpec, optional
        The lab; default ``LabSpec.from_seed(seed, model=model, gpu=gpu, kind=kind)``.
    time_scale : float or "auto"
        Wall seconds per model second (< 1 runs faster than the modelled GPU);
        ``"auto"``: :func:`auto_time_scale`.
    port : int
        0 (default) picks a free port.
    api_key : str, optional
        Require ``Authorization: Bearer <api_key>``.
    max_seconds : float
        The lab stops by itself after this long (default 15 minutes).
    """
    spec = spec if spec is not None else LabSpec.from_seed(seed, model=model, gpu=gpu,
                                                           kind=kind)
    scale = auto_time_scale(spec) if time_scale == "auto" else positive("time_scale",
                                                                        time_scale)
    served = serve_in_thread(create_app(spec, time_scale=scale, api_key=api_key), port=port,
                             max_seconds=max_seconds, startup_timeout_s=startup_timeout_s)
    return Lab(spec, time_scale=scale, port=served.port, thread=served.thread,
               handle=served.handle)
