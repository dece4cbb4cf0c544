"""Start real daphne processes for browser, integration and smoke tests.

A server started here serves the database the test is using (pytest-django's test database, a
SQLite file or PostgreSQL) so rows a ``transaction=True`` test commits are visible to it.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(
    port: int, *, timeout: float = 30.0, process: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def database_url_of_current_test_db() -> str:
    """The URL of the database Django is connected to now (call inside a test)."""
    from django.db import connection

    conf = connection.settings_dict
    if conf["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{conf['NAME']}"
    user = quote(conf.get("USER") or "")
    password = quote(conf.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = conf.get("HOST") or "127.0.0.1"
    port = conf.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{conf['NAME']}"


class ManagedProcess:
    """What a test's server process shares: start in a session of its own, kill, stop, log.

    Subclasses are dataclasses with ``port``, ``log_path`` and ``process``.
    """

    port: int
    log_path: Path
    process: subprocess.Popen | None

    def _launch(
        self, argv: list[str], *, what: str, timeout: float, cwd: Path | None = None, env=None
    ) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_port(self.port, timeout=timeout, process=self.process)
        except Exception as exc:
            self.stop()
            raise RuntimeError(f"{what} did not start:\n{self.log()}") from exc

    def kill(self) -> None:
        """Kill the process at once (SIGKILL): what a crash looks like to its clients."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""


@dataclass
class DaphneServer(ManagedProcess):
    port: int
    env: dict[str, str]
    log_path: Path
    #: Further daphne options, e.g. those of deploy/systemd (:func:`daphne_args_of_unit`).
    args: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 30.0) -> DaphneServer:
        argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
        argv += [*self.args, "deliberation.asgi:application"]
        self._launch(argv, what="daphne", timeout=timeout, cwd=ROOT, env=self.env)
        return self


def daphne_server(
    *,
    log_dir: Path,
    database_url: str,
    extra_env: Mapping[str, str] | None = None,
    args: list[str] | None = None,
) -> DaphneServer:
    """A daphne server (not yet started) on a free port serving ``database_url``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "REDIS_URL", "DATABASE_URL"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "deliberation.settings",
            "DATABASE_URL": database_url,
            "DJANGO_VAR_DIR": str(log_dir),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra_env or {})
    port = free_port()
    return DaphneServer(
        port=port, env=env, log_path=log_dir / f"daphne-{port}.log", args=list(args or [])
    )


# --- the documented production front: deploy/ ---------------------------------------------------

NGINX = Path("/usr/sbin/nginx")
DAPHNE_UNIT = ROOT / "deploy" / "systemd" / "mitmachen-daphne@.service"
NGINX_SITE = ROOT / "deploy" / "nginx" / "mitmachen.conf"


def daphne_args_of_unit(unit: Path = DAPHNE_UNIT) -> list[str]:
    """The daphne options of the systemd unit's ExecStart, without bind address, port and app."""
    text = unit.read_text().replace("\\\n", " ")
    command = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    words = shlex.split(command.removeprefix("ExecStart="))[1:]  # without the daphne binary
    args: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in {"-b", "-p", "--bind", "--port"}:
            skip = True
        elif ":" not in word:  # the application (deliberation.asgi:application)
            args.append(word)
    return args


def nginx_config_of_site(*, listen_port: int, upstream_ports: list[int], work_dir: Path) -> str:
    """deploy/nginx/mitmachen.conf as a complete nginx.conf on 127.0.0.1 without TLS.

    Kept from the file: the upstream, the ``map`` and every ``location`` of the TLS server with its
    proxy headers. Changed: the upstream's servers (the test's daphne ports), ``listen`` (plain
    HTTP on ``listen_port``), no certificates, logs and temporary files in ``work_dir``. The
    redirecting port-80 server is left out.
    """
    site = NGINX_SITE.read_text()
    upstream = "".join(f"    server 127.0.0.1:{port};\n" for port in upstream_ports)
    site = re.sub(r"^\s*#?\s*server (127\.0\.0\.1|unix):\S+[^;]*;\n", "", site, flags=re.M)
    site = site.replace("    least_conn;\n", "    least_conn;\n" + upstream, 1)
    plain, tls = site.split("\nserver {", 2)[0], site.split("\nserver {", 2)[2]
    tls = re.sub(r"^\s*listen \[::\]:443[^;]*;\n", "", tls, flags=re.M)
    tls = re.sub(r"^\s*listen 443[^;]*;", f"    listen 127.0.0.1:{listen_port};", tls, flags=re.M)
    tls = re.sub(r"^\s*ssl_[a-z_]+ [^;]*;\n", "", tls, flags=re.M)
    tls = re.sub(
        r"^(\s*)access_log /var/log/\S+;", rf"\1access_log {work_dir}/access.log;", tls, flags=re.M
    )
    tls = re.sub(
        r"^(\s*)error_log\s+/var/log/\S+ (\w+);",
        rf"\1error_log {work_dir}/error.log \2;",
        tls,
        flags=re.M,
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {work_dir}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {work_dir}/nginx.pid;\n"
        f"error_log {work_dir}/error.log warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n    access_log {work_dir}/access.log;\n{temp}"
        f"{plain}\nserver {{{tls}}}\n"
    )


@dataclass
class NginxServer:
    port: int
    work_dir: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, upstream_ports: list[int], timeout: float = 30.0) -> NginxServer:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        config = self.work_dir / "nginx.conf"
        config.write_text(
            nginx_config_of_site(
                listen_port=self.port, upstream_ports=upstream_ports, work_dir=self.work_dir
            )
        )
        checked = subprocess.run(
            [str(NGINX), "-t", "-p", str(self.work_dir), "-c", str(config), "-e", "stderr"],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t refused the generated config:\n{checked.stderr}")
        self.process = subprocess.Popen(
            [str(NGINX), "-p", str(self.work_dir), "-c", str(config), "-e", "stderr"],
            stdout=subprocess.DEVNULL,
            stderr=(self.work_dir / "stderr.log").open("ab"),
            start_new_session=True,
        )
        try:
            wait_for_port(self.port, timeout=timeout, process=self.process)
        except Exception as exc:
            self.stop()
            raise RuntimeError(f"nginx did not start:\n{self.log()}") from exc
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGQUIT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def log(self) -> str:
        parts = []
        for name in ("stderr.log", "error.log"):
            path = self.work_dir / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)


@dataclass
class RedisServer(ManagedProcess):
    """A Redis of a test's own on a spare port, which the test may kill and start again.

    No persistence (``--save "" --appendonly no``): a restart loses every key, groups included,
    as a Redis restarted without persistence does in production.
    """

    port: int
    log_path: Path
    executable: str = "redis-server"
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 15.0) -> RedisServer:
        argv = [self.executable, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no"]
        # A client limit above the default 10,000 is not needed; the file limit of the machine
        # might be lower, and Redis refuses to start then, so ask for less.
        argv += ["--maxclients", "4000"]
        self._launch(argv, what="redis-server", timeout=timeout)
        return self


def redis_server(*, log_dir: Path, executable: str = "redis-server") -> RedisServer:
    """A Redis server (not yet started) on a free port."""
    port = free_port()
    return RedisServer(port=port, log_path=log_dir / f"redis-{port}.log", executable=executable)
