"""The grader's sandbox: what a command inside can see, reach and leave behind.

Each test runs a short Python program in :func:`buildbuy.grading.sandbox.run` (about a
second each) and checks what it reports and what happened on the host.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
import time
from pathlib import Path

import pytest

from buildbuy.grading import sandbox
from sandbox_helpers import processes_with, require_sandbox

pytestmark = pytest.mark.usefixtures("_needs_sandbox")


@pytest.fixture
def _needs_sandbox() -> None:
    require_sandbox()


def _run(code: str, tmp_path: Path, env: dict[str, str] | None = None,
         **limits: float) -> sandbox.Outcome:
    inp = tmp_path / "input"
    inp.mkdir(exist_ok=True)
    (inp / "mine.txt").write_text("my own file")
    return sandbox.run([sys.executable, "-c", textwrap.dedent(code)], input_dir=inp,
                       limits=sandbox.Limits(**limits), env=env)


PROBE = """
import json, os, socket, threading, subprocess
seen = {"uid": os.getuid(), "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "root": sorted(os.listdir("/")), "etc": sorted(os.listdir("/etc")), "cwd": os.getcwd(),
        "mine": open("/input/mine.txt").read()}
cmdlines = []
for p in seen["pids"]:
    try:
        cmdlines.append(open(f"/proc/{p}/cmdline", "rb").read().decode(errors="replace"))
    except OSError:
        pass
seen["cmdlines"] = cmdlines
def attempt(fn):
    try:
        fn()
        return "ok"
    except OSError as exc:
        return type(exc).__name__
seen["write_input"] = attempt(lambda: open("/input/mine.txt", "w").write("x"))
seen["write_usr"] = attempt(lambda: open("/usr/evil", "w").write("x"))
seen["write_work"] = attempt(lambda: open("out.txt", "w").write("x"))
seen["read_host_secret"] = attempt(lambda: open(os.environ["SECRET"]).read())
seen["internet"] = attempt(lambda: socket.create_connection(("1.1.1.1", 53), timeout=3))
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen()
threading.Thread(target=lambda: srv.accept()[0].sendall(b"pong"), daemon=True).start()
with socket.create_connection(("localhost", srv.getsockname()[1]), timeout=3) as c:
    seen["loopback"] = c.recv(4).decode()
seen["nested_userns"] = subprocess.run(["unshare", "--user", "true"],
                                       capture_output=True).returncode
print(json.dumps(seen))
"""


def test_a_sandboxed_command_sees_only_its_own_world(tmp_path: Path) -> None:
    secret = tmp_path / "other_learner.ipynb"
    secret.write_text("someone else's work")
    out = _run(PROBE, tmp_path, env={"SECRET": str(secret)}, wall_s=60)
    assert out.returncode == 0, out.stderr_tail
    seen = json.loads(out.stdout)
    assert seen["uid"] == sandbox.SANDBOX_UID
    assert len(seen["pids"]) <= 3  # bubblewrap's init and the command: no host process
    # neither the grader's command line nor the host paths bubblewrap binds
    assert not any("pytest" in c or str(tmp_path) in c for c in seen["cmdlines"])
    assert seen["mine"] == "my own file" and seen["cwd"] == sandbox.WORK_DIR
    assert seen["write_input"] != "ok" and seen["write_usr"] != "ok"
    assert seen["write_work"] == "ok"
    assert seen["read_host_secret"] == "FileNotFoundError"
    assert seen["internet"] != "ok"
    assert seen["loopback"] == "pong"  # a server on localhost inside the sandbox works
    assert seen["nested_userns"] != 0  # no way to regain capabilities
    # the file system: system folders, the read-only Python/buildbuy paths, its own two
    allowed = {"bin", "dev", "etc", "input", "lib", "lib32", "lib64", "proc", "sbin",
               "submission", "tmp", "usr"} | {p.parts[1] for p in sandbox.read_only_paths()}
    assert set(seen["root"]) <= allowed
    assert set(seen["etc"]) <= {"ld.so.cache", "localtime", "fonts", "hosts"}  # no passwd


def test_nothing_outlives_the_run(tmp_path: Path) -> None:
    marker = f"bb-leftover-{os.getpid()}-{time.monotonic_ns()}"
    code = f"""
    import os, subprocess, sys
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "{marker}"],
                     start_new_session=True, stdin=subprocess.DEVNULL)
    if os.fork() == 0:  # a double-forked daemon as well
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)",
                                      "{marker}"])
        os._exit(0)
    print("detached")
    """
    out = _run(code, tmp_path, wall_s=60)
    assert out.returncode == 0 and b"detached" in out.stdout, out.stderr_tail
    time.sleep(0.5)
    assert processes_with(marker) == []


def test_time_limit_kills_the_whole_sandbox(tmp_path: Path) -> None:
    marker = f"bb-slow-{os.getpid()}-{time.monotonic_ns()}"
    code = f"""
    import subprocess, sys, time
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "{marker}"],
                     start_new_session=True)
    time.sleep(60)
    """
    out = _run(code, tmp_path, wall_s=3)
    assert out.killed == "time" and out.returncode is None  # stopped, not run to the end
    time.sleep(0.5)
    assert processes_with(marker) == []


def test_output_cap_stops_a_flood(tmp_path: Path) -> None:
    out = _run("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", tmp_path,
               wall_s=60, output_bytes=2**20)
    assert out.killed == "output"
    assert len(out.stdout) <= 2**20


def test_disk_cap_is_enforced_by_the_kernel(tmp_path: Path) -> None:
    code = """
    try:
        with open("big.bin", "wb") as fh:
            for _ in range(64):
                fh.write(b"0" * 2**20)
        print("wrote 64 MB")
    except OSError as exc:
        print("refused:", exc.strerror)
    """
    out = _run(code, tmp_path, wall_s=60, disk_bytes=8 * 2**20)
    assert out.stdout.decode().startswith("refused: No space left on device")


def test_unavailable_bubblewrap_is_a_clear_error(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\n"
                    "exit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(sandbox.BWRAP_ENV, str(fake))
    with pytest.raises(sandbox.SandboxUnavailable,
                       match=r"No permissions to creating new namespace.*--no-sandbox"):
        sandbox.check_available()
    monkeypatch.setenv(sandbox.BWRAP_ENV, str(tmp_path / "missing-bwrap"))
    with pytest.raises(sandbox.SandboxUnavailable, match=r"was not found.*apt-get install"):
        sandbox.run(["true"], input_dir=None)


def test_memory_cap_turns_a_runaway_allocation_into_a_memory_error(tmp_path: Path) -> None:
    code = """
    try:
        block = bytearray(3 * 2**30)
        print("allocated 3 GB")
    except MemoryError:
        print("MemoryError")
    """
    out = _run(code, tmp_path, wall_s=60, memory_bytes=2**30)
    assert out.stdout.decode().strip() == "MemoryError", out.stderr_tail
