"""Run one untrusted command in a bubblewrap sandbox, with a time limit and an output cap.

The grader runs every submitted notebook through :func:`run`. The isolation comes
from `bubblewrap <https://github.com/containers/bubblewrap>`_ (``bwrap``, Debian
package ``bubblewrap``), the unprivileged sandbox Flatpak is built on, not from
checks of our own. Inside the sandbox the command

- sees a read-only ``/usr``, the Python installation, the virtual environment, the
  ``buildbuy`` package and ``data/`` (each at its host path), a read-only copy of its
  own input at ``/input``, and nothing else of the host's file system;
- can write only to ``/submission`` and ``/tmp``, two private in-memory file systems
  of at most :attr:`Limits.disk_bytes` each, which vanish when it ends;
- has at most :attr:`Limits.memory_bytes` of address space per process, so a runaway
  allocation is a ``MemoryError`` in the notebook, not a machine out of memory;
- runs as user ``nobody`` (uid 65534) with every capability dropped, in its own user,
  PID, network, IPC, UTS and cgroup namespaces: ``/proc`` lists only its own
  processes, so the grader's command line and other runs are invisible; the network
  is a private loopback (a server on ``127.0.0.1`` works, the outside does not);
- cannot outlive its run: bubblewrap's init is PID 1 of the namespace, so when the
  command ends, or the grader kills the sandbox (time limit, output cap), the kernel
  ends every process left in it, double-forked daemons included
  (``--die-with-parent`` covers a grader that dies first).

bubblewrap's own options reach it through a file descriptor (``--args FD``), so its
command line, which the sandbox can read as ``/proc/1/cmdline``, shows only the
command it runs, not the host paths it binds.

:func:`run` with ``sandbox=False`` runs the same command unisolated, for trusted
notebooks on a machine where user namespaces are not available (the grader's
``--no-sandbox``); it still enforces the time limit and the output cap.

Examples
--------
>>> Limits().wall_s
300.0
>>> Limits(output_bytes=2**20).output_mb
1.0
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from buildbuy._validate import integer, positive

__all__ = [
    "BWRAP_ENV",
    "INPUT_DIR",
    "WORK_DIR",
    "Limits",
    "Outcome",
    "SandboxUnavailable",
    "bwrap_arguments",
    "check_available",
    "read_only_paths",
    "run",
]

#: environment variable naming the bwrap executable (default: ``bwrap`` on the PATH)
BWRAP_ENV = "BUILDBUY_BWRAP"
#: where the command finds its read-only input inside the sandbox
INPUT_DIR = "/input"
#: the command's writable folder inside the sandbox (a private tmpfs)
WORK_DIR = "/submission"
#: the sandbox user: ``nobody``
SANDBOX_UID = 65534
_STDERR_TAIL_BYTES = 64 * 1024
_CHUNK = 64 * 1024


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces on this machine."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one sandboxed run may use.

    Attributes
    ----------
    wall_s : float
        Wall-clock seconds before the whole sandbox is killed.
    output_bytes : int
        Bytes the command may write to stdout and stderr together.
    disk_bytes : int
        Size of each writable in-memory file system (``/submission``, ``/tmp``).
    memory_bytes : int
        Address space per process (``RLIMIT_AS``): past it an allocation fails with
        ``MemoryError`` in the notebook instead of exhausting the machine.
    open_files : int
        Open file descriptors per process (``RLIMIT_NOFILE``).
    """

    wall_s: float = 300.0
    output_bytes: int = 64 * 2**20
    disk_bytes: int = 512 * 2**20
    memory_bytes: int = 4 * 2**30
    open_files: int = 1024

    def __post_init__(self) -> None:
        object.__setattr__(self, "wall_s", positive("wall_s", self.wall_s))
        for name in ("output_bytes", "disk_bytes", "memory_bytes", "open_files"):
            value = integer(name, getattr(self, name), minimum=1)
            object.__setattr__(self, name, value)

    @property
    def output_mb(self) -> float:
        """:attr:`output_bytes` in MiB (for messages)."""
        return self.output_bytes / 2**20


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a run ended.

    Attributes
    ----------
    returncode : int or None
        The command's exit status; ``None`` when the grader killed it.
    stdout : bytes
        Everything it printed to stdout (at most :attr:`Limits.output_bytes`).
    stderr_tail : str
        The last 64 KiB it printed to stderr.
    killed : str or None
        ``"time"`` (over :attr:`Limits.wall_s`), ``"output"`` (printed more than
        :attr:`Limits.output_bytes`) or ``None``.
    seconds : float
        Wall time of the run.
    """

    returncode: int | None
    stdout: bytes
    stderr_tail: str
    killed: str | None
    seconds: float


def _bwrap() -> str | None:
    name = os.environ.get(BWRAP_ENV) or "bwrap"
    return shutil.which(name)


_FIX = ("Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) on a kernel that "
        "allows user namespaces (on Ubuntu 24.04 and later: sysctl "
        "kernel.apparmor_restrict_unprivileged_userns=0), or, for notebooks you trust, "
        "grade with --no-sandbox.")


@functools.cache
def _probe(bwrap: str) -> str | None:
    """Run a trivial command in the full sandbox; return why it failed, or ``None``."""
    try:
        cmd, fd_args = _command(bwrap, bwrap_arguments(["/bin/true"], input_dir=None))
        with _args_file(fd_args) as fd:
            proc = subprocess.run([*cmd[:2], str(fd), *cmd[2:]], pass_fds=(fd,),
                                  capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{type(exc).__name__}: {exc}"
    if proc.returncode != 0:
        return (proc.stderr.strip() or f"exit code {proc.returncode}")[:500]
    return None


def check_available() -> str:
    """Return the bwrap executable, or raise :class:`SandboxUnavailable` saying why.

    The check runs ``/bin/true`` in exactly the sandbox :func:`run` builds, once per
    process and executable.
    """
    bwrap = _bwrap()
    if bwrap is None:
        name = os.environ.get(BWRAP_ENV) or "bwrap"
        raise SandboxUnavailable(f"cannot sandbox submissions: {name!r} was not found. {_FIX}")
    problem = _probe(bwrap)
    if problem is not None:
        raise SandboxUnavailable(f"cannot sandbox submissions: bubblewrap could not create "
                                 f"its namespaces here ({problem}). {_FIX}")
    return bwrap


def read_only_paths() -> list[Path]:
    """Host folders the sandbox sees read-only, at the same path: the Python installation,
    the virtual environment, the ``buildbuy`` package's folder and the data folder."""
    import buildbuy
    from buildbuy.paths import data_dir

    found = [Path(sys.base_prefix), Path(sys.prefix),
             Path(buildbuy.__file__).resolve().parents[1], data_dir().resolve()]
    # the interpreter the venv points at may live outside base_prefix (a symlink chain)
    found.append(Path(os.path.realpath(sys.executable)).parents[1])
    out: list[Path] = []
    for p in found:
        p = p.resolve()
        if str(p).startswith("/usr/") or p == Path("/usr"):
            continue  # /usr is bound whole
        if not any(p == q or p.is_relative_to(q) for q in out):
            out = [q for q in out if not q.is_relative_to(p)] + [p]
    return sorted(out)


#: the sandbox's /etc/hosts: its own loopback under the usual names
HOSTS = "127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost ip6-loopback\n"


def bwrap_arguments(argv: Sequence[str], *, input_dir: Path | None,
                    limits: Limits = Limits(), env: Mapping[str, str] | None = None,
                    hosts_file: Path | None = None) -> list[str]:
    """bubblewrap's arguments (without the ``bwrap`` itself) to run ``argv`` sandboxed.

    ``input_dir`` is bound read-only at :data:`INPUT_DIR`; the command starts in
    :data:`WORK_DIR`. ``env`` is the command's whole environment (nothing else of the
    grader's environment is passed on). ``hosts_file`` (holding :data:`HOSTS`) becomes
    ``/etc/hosts``, so ``localhost`` resolves to the sandbox's own loopback.
    """
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for extra in ("/etc/ld.so.cache", "/etc/localtime", "/etc/fonts"):
        args += ["--ro-bind-try", extra, extra]
    if hosts_file is not None:
        args += ["--ro-bind", str(hosts_file), "/etc/hosts"]
    # the in-memory folders first, then the read-only binds: bubblewrap mounts in order, so
    # a repository or venv that lives under /tmp (a CI clone) is bound on top of the
    # sandbox's empty /tmp instead of being hidden by it
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(limits.disk_bytes), "--tmpfs", "/tmp",
             "--size", str(limits.disk_bytes), "--tmpfs", WORK_DIR,
             "--dir", "/tmp/home"]
    for path in read_only_paths():
        args += ["--ro-bind", str(path), str(path)]
    if input_dir is not None:
        args += ["--ro-bind", str(input_dir), INPUT_DIR]
    args += ["--chdir", WORK_DIR,
             "--unshare-all", "--unshare-user", "--disable-userns",
             "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
             "--hostname", "sandbox", "--cap-drop", "ALL",
             "--die-with-parent", "--new-session", "--clearenv"]
    for key, value in (env or {}).items():
        args += ["--setenv", key, value]
    return [*args, "--", *argv]


def _command(bwrap: str, arguments: list[str]) -> tuple[list[str], list[str]]:
    """Split :func:`bwrap_arguments` into the command line (``bwrap --args FD -- argv``,
    FD to be filled in) and the options that go through the file descriptor."""
    cut = arguments.index("--")
    return [bwrap, "--args", *arguments[cut:]], arguments[:cut]


@contextlib.contextmanager
def _args_file(args: Sequence[str]):  # type: ignore[no-untyped-def]
    """An open, unlinked file holding ``args`` NUL-separated (for ``bwrap --args FD``)."""
    with tempfile.TemporaryFile() as fh:
        fh.write(b"".join(a.encode() + b"\0" for a in args))
        fh.flush()
        fh.seek(0)
        fd = fh.fileno()
        os.set_inheritable(fd, True)
        yield fd


def sandbox_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment inside the sandbox: a PATH, a private HOME, matplotlib headless."""
    from buildbuy.paths import data_dir

    env = {"PATH": f"{Path(sys.prefix) / 'bin'}:/usr/bin:/bin", "HOME": "/tmp/home",
           "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/home/.matplotlib",
           "PYTHONDONTWRITEBYTECODE": "1", "BUILDBUY_DATA_DIR": str(data_dir().resolve())}
    env.update(extra or {})
    return env


def _limit_resources(limits: Limits) -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))


class _Reader(threading.Thread):
    """Drain one pipe; keep its first ``keep`` bytes and its last ``tail`` bytes."""

    def __init__(self, fd: int, count: Callable[[int], None], *, keep: int = 0,
                 tail: int = 0) -> None:
        super().__init__(daemon=True)
        self.fd, self.count, self.keep, self.tail_max = fd, count, keep, tail
        self.head = bytearray()
        self.tail: collections.deque[bytes] = collections.deque()
        self.tail_bytes = 0

    def run(self) -> None:
        while chunk := os.read(self.fd, _CHUNK):
            self.count(len(chunk))
            if len(self.head) < self.keep:
                self.head += chunk[:self.keep - len(self.head)]
            if self.tail_max:
                self.tail.append(chunk)
                self.tail_bytes += len(chunk)
                while self.tail_bytes - len(self.tail[0]) >= self.tail_max:
                    self.tail_bytes -= len(self.tail.popleft())

    def tail_text(self) -> str:
        return b"".join(self.tail)[-self.tail_max:].decode("utf-8", "replace")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the whole process group, then every descendant still alive (unsandboxed
    kernels start their own session)."""
    import psutil

    try:
        procs = [*psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        procs = []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(procs, timeout=10)


def run(argv: Sequence[str], *, input_dir: Path | None, limits: Limits = Limits(),
        env: Mapping[str, str] | None = None, sandbox: bool = True,
        work_dir: Path | None = None) -> Outcome:
    """Run ``argv`` (sandboxed by default) until it ends, runs out of time or prints too much.

    Parameters
    ----------
    argv : sequence of str
        The command; with ``sandbox=True`` its paths are the sandbox's
        (:data:`INPUT_DIR`, :data:`WORK_DIR`, the read-only host paths).
    input_dir : Path or None
        Host folder shown read-only at :data:`INPUT_DIR`.
    limits : Limits
        Wall time, output, disk and open-file limits.
    env : mapping, optional
        Extra environment on top of :func:`sandbox_env`.
    sandbox : bool
        ``False`` runs ``argv`` directly (trusted notebooks only), in ``work_dir``.
    work_dir : Path, optional
        The working folder of an unsandboxed run.

    Raises
    ------
    SandboxUnavailable
        ``sandbox=True`` on a machine where bubblewrap cannot run.
    """
    full_env = sandbox_env(env)
    t0 = time.monotonic()
    with contextlib.ExitStack() as stack:
        if sandbox:
            bwrap = check_available()
            hosts = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "hosts"
            hosts.write_text(HOSTS)
            hosts.chmod(0o644)
            line, options = _command(bwrap, bwrap_arguments(
                argv, input_dir=input_dir, limits=limits, env=full_env, hosts_file=hosts))
            fd = stack.enter_context(_args_file(options))
            cmd = [*line[:2], str(fd), *line[2:]]
            pass_fds, cwd, penv = (fd,), None, None
        else:
            if work_dir is not None:
                work_dir.mkdir(parents=True, exist_ok=True)
            cmd, pass_fds, cwd = list(argv), (), str(work_dir) if work_dir else None
            penv = {**os.environ, **full_env, "HOME": str(work_dir or Path.home())}
            penv.pop("MPLCONFIGDIR", None)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, pass_fds=pass_fds, cwd=cwd, env=penv,
                                start_new_session=True,
                                preexec_fn=functools.partial(_limit_resources, limits))
        out, err, killed = _watch(proc, limits, deadline=t0 + limits.wall_s)
    return Outcome(None if killed else proc.returncode, bytes(out.head), err.tail_text(),
                   killed, time.monotonic() - t0)


def _watch(proc: subprocess.Popen[bytes], limits: Limits,
           deadline: float) -> tuple[_Reader, _Reader, str | None]:
    """Drain ``proc``'s output until it ends; kill it past ``deadline`` or the output cap."""
    printed = [0]
    flooded = threading.Event()
    lock = threading.Lock()

    def count(n: int) -> None:
        with lock:
            printed[0] += n
            if printed[0] > limits.output_bytes:
                flooded.set()

    assert proc.stdout is not None and proc.stderr is not None
    out = _Reader(proc.stdout.fileno(), count, keep=limits.output_bytes)
    err = _Reader(proc.stderr.fileno(), count, tail=_STDERR_TAIL_BYTES)
    out.start()
    err.start()
    killed = None
    while proc.poll() is None:
        if flooded.is_set():
            killed = "output"
        elif time.monotonic() > deadline:
            killed = "time"
        if killed:
            _kill(proc)
            break
        flooded.wait(0.1)
    proc.wait()
    out.join(10)
    err.join(10)
    if killed is None and flooded.is_set():
        killed = "output"
    return out, err, killed
