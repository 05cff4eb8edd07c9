"""Servers for the real-browser tests: start a Jupyter-family server in its own session
with private runtime, config and settings folders, and stop it, checking process by process
that the server and every kernel it started are gone."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children() -> dict[int, int]:
    """Map pid -> parent pid for every process visible in /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: split after it
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (kernels, their helpers)."""
    parents = _children()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


@dataclass
class Server:
    """A Jupyter-family server we started: its process, URL and token."""

    proc: subprocess.Popen[bytes]
    base_url: str
    token: str
    log: Path

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}{path}{sep}token={self.token}"

    def log_tail(self, n: int = 40) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])


def isolated_env(tmp: Path) -> dict[str, str]:
    """Environment with private Jupyter runtime/config/settings folders under ``tmp``."""
    env = dict(os.environ)
    for var, sub in {
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
        "IPYTHONDIR": "ipython",
    }.items():
        (tmp / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(tmp / sub)
    # No "Would you like to receive Jupyter news?" toast over the notebook.
    news = tmp / "lab-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True, exist_ok=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    # Render every cell: JupyterLab 4 virtualises long notebooks by default, so cells
    # scrolled out of view would be missing from the page we inspect.
    tracker = tmp / "lab-settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True, exist_ok=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    env["MPLBACKEND"] = "Agg"
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def start_server(cmd: list[str], *, tmp: Path, cwd: Path, token: str, port: int,
                 ready_path: str) -> Server:
    """Start ``cmd`` in its own session and wait until ``ready_path`` answers HTTP.

    Any answer below 500 counts (Voilà has no status endpoint; a 404 from its
    router proves it is up). JupyterLab's ``/api/status`` answers 200.
    """
    log = tmp / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=cwd, env=isolated_env(tmp), stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(proc, f"http://127.0.0.1:{port}", token, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url(ready_path), timeout=5) as resp:
                if resp.status == 200:
                    return server
        except urllib.error.HTTPError as exc:  # it answers HTTP: routing works
            if exc.code < 500:
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    stop_server(server, graceful_path=None)
    raise RuntimeError(f"{cmd[0]} did not answer within {START_TIMEOUT_S:.0f} s:\n"
                       f"{server.log_tail()}")


def stop_server(server: Server, *, graceful_path: str | None) -> None:
    """Stop the server and every process it started; raise if any survives.

    ``graceful_path`` is an endpoint that shuts the server down cleanly (Jupyter
    Server's ``POST /api/shutdown`` also shuts down its kernels). Without one,
    or when it does not work, the server gets SIGTERM, then SIGKILL. Kernels
    run in sessions of their own, so they are tracked by pid, not by group.
    """
    proc = server.proc
    spawned = descendants(proc.pid)
    if graceful_path is not None and proc.poll() is None:
        req = urllib.request.Request(server.url(graceful_path), method="POST", data=b"")
        try:
            urllib.request.urlopen(req, timeout=10).close()
            proc.wait(timeout=30)
        except (urllib.error.URLError, ConnectionError, TimeoutError,
                subprocess.TimeoutExpired):
            pass
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(p) for p in spawned):
        time.sleep(0.25)
    survivors = sorted(p for p in spawned if alive(p))
    for pid in survivors:  # clean up, then fail: a leak is a bug in the shutdown path
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert proc.poll() is not None, "server process still running"
    assert not survivors, f"processes left running after shutdown: {survivors}"
