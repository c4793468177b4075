#!/usr/bin/env python3
"""Serve the atlas from N Streamlit processes behind nginx, with sticky sessions, for a lab's own server.

    make serve WORKERS=2 PORT=8080            # or: .venv/bin/python deploy/serve.py --workers 2 --port 8080

Starts N ``streamlit run app.py`` processes on free loopback ports, writes an nginx config from
``deploy/nginx.conf.template`` into a run folder (default ``tmp/serve``: config, pid, logs and nginx's temp
folders; nothing under /etc), starts nginx in the foreground (``daemon off``) and waits until every worker's
``/_stcore/health`` and the proxy's answer 200. Then it watches them: Ctrl+C (SIGINT) or SIGTERM stops nginx
first, then the workers, and exits 0; if any of them dies, the others are stopped too and it exits 1. Once ready,
it opens every page's default view on each worker in the background (``deploy/warm.py``; ``--no-warm`` skips it),
so the first visitors do not pay for the dataset's load and the default state's first build. nginx serves
Streamlit's own scripts (``/static/``) itself from a folder built at start (``compressed_static``: links to the
installed package's files and a gzip of each script), so a first visit costs the workers no file serving and
fetches a third of the bytes.

Sessions live in one process's memory, so each browser must keep talking to the same process: nginx gives a new
browser a random id in the cookie ``rankl_worker`` and hashes on it (``hash ... consistent``). Not ``ip_hash``:
every visitor behind one NAT (a conference Wi-Fi) would land on one process. All workers share one cookie
secret (generated per start, or ``STREAMLIT_SERVER_COOKIE_SECRET``). Community Cloud stays the default deploy;
this is for a lab's own machine (README, "Serve it yourself on several cores"; figures in docs/load.md).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gzip
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
COOKIE = "rankl_worker"
LOOPBACK = "127.0.0.1"
NGINX_HELP = (
    "nginx not found: serving on several processes needs it. On Debian/Ubuntu: "
    "`sudo apt-get install nginx` (or `nginx-light`); or pass --nginx /path/to/nginx (or set RANKL_ATLAS_NGINX)."
)


def find_nginx(explicit: str | None = None) -> str | None:
    """The nginx binary: --nginx, $RANKL_ATLAS_NGINX, one on PATH, or Debian's /usr/sbin/nginx."""
    candidates = [explicit, os.environ.get("RANKL_ATLAS_NGINX"), shutil.which("nginx"), "/usr/sbin/nginx"]
    return next((c for c in candidates if c and Path(c).is_file() and os.access(c, os.X_OK)), None)


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def streamlit_static_dir() -> Path:
    """The folder the installed Streamlit serves its web app from (index.html, static/js, static/css, ...)."""
    spec = importlib.util.find_spec("streamlit")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


#: Text files nginx sends compressed (gzip_static) when the browser accepts it: Streamlit's scripts, styles, manifest.
COMPRESSED = (".js", ".css", ".json", ".svg")


def compressed_static(source: Path, target: Path) -> Path:
    """A copy of Streamlit's web folder for nginx to serve: each file a symbolic link to the installed one, and beside
    each script or style its gzip (level 6) for nginx's gzip_static: the 7.9 MB a first visit fetches until its first
    chart go out as 2.8 MB. Nothing is written into the package; the copy is rebuilt at every start (≈ 1 s)."""
    if target.exists():
        shutil.rmtree(target)
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        copy = target / path.relative_to(source)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.symlink_to(path)
        if path.suffix in COMPRESSED:
            packed = copy.with_name(copy.name + ".gz")
            packed.write_bytes(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))
    return target


def render_config(
    worker_ports: list[int],
    listen: str,
    run_dir: Path,
    access_log: bool = False,
    template: Path = TEMPLATE,
    static_dir: Path | None = None,
) -> str:
    """The nginx config for these workers; listen is 'ADDRESS:PORT'; static_dir: Streamlit's web folder (the
    installed package's by default), whose scripts nginx serves itself."""
    if not worker_ports:
        raise ValueError("at least one worker")
    servers = "\n".join(f"        server {LOOPBACK}:{p} max_fails=1 fail_timeout=5s;" for p in worker_ports)
    values = {
        # nginx's workers would otherwise run as nobody, who may not traverse a private run folder.
        "user_line": "user root;" if hasattr(os, "geteuid") and os.geteuid() == 0 else "",
        "run_dir": str(run_dir),
        "access_log": f"{run_dir / 'nginx-access.log'} rankl" if access_log else "off",
        "cookie": COOKIE,
        "servers": servers,
        "listen": listen,
        "static_dir": str(static_dir or streamlit_static_dir()),
    }
    text = template.read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM if the launcher dies without cleaning up (kill -9)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def http_status(url: str, timeout: float = 2) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code
    except (OSError, ValueError):
        return 0


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    log: Path
    health: str  # URL that answers 200 when ready

    def tail(self, chars: int = 1500) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-chars:]
        return ""


def start(cmd: list[str], name: str, log: Path, health: str, env: dict | None = None, cwd: Path = ROOT) -> Child:
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stopped by the launcher, in order, not by the terminal
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    return Child(name, proc, log, health)


def stop(children: list[Child], timeout: float = 10) -> None:
    """SIGTERM (nginx: SIGQUIT, a graceful stop) to each child's process group, then SIGKILL what is left."""
    for child in children:
        if child.proc.poll() is None:
            sig = signal.SIGQUIT if child.name == "nginx" else signal.SIGTERM
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.proc.pid, sig)
        if child.name == "nginx":  # let the proxy close its connections before the workers go
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(timeout)
    deadline = time.monotonic() + timeout
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(max(0.1, deadline - time.monotonic()))
        if child.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.proc.pid, signal.SIGKILL)
            child.proc.wait(5)


def wait_healthy(children: list[Child], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(children)
    while waiting:
        for child in list(waiting):
            if child.proc.poll() is not None:
                raise RuntimeError(f"{child.name} exited with {child.proc.returncode}; log:\n{child.tail()}")
            if http_status(child.health) == 200:
                waiting.remove(child)
        if waiting and time.monotonic() > deadline:
            names = ", ".join(c.name for c in waiting)
            raise RuntimeError(f"not healthy within {timeout:g} s: {names}; log:\n{waiting[0].tail()}")
        if waiting:
            time.sleep(0.3)


class Stop(Exception):
    """SIGINT or SIGTERM arrived."""


def serve(args: argparse.Namespace) -> int:
    nginx = find_nginx(args.nginx)
    if nginx is None:
        print(NGINX_HELP, file=sys.stderr)
        return 2
    run_dir = Path(args.run_dir).resolve()
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    ports = [free_port() for _ in range(args.workers)]
    listen = f"{args.address}:{args.port}"
    conf = run_dir / "nginx.conf"
    web = compressed_static(streamlit_static_dir(), run_dir / "web")
    conf.write_text(render_config(ports, listen, run_dir, access_log=args.access_log, static_dir=web))
    check = subprocess.run(
        [nginx, "-t", "-q", "-p", str(run_dir), "-c", str(conf), "-e", str(run_dir / "nginx-error.log")],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        print(f"nginx rejected {conf}:\n{check.stderr}", file=sys.stderr)
        return 2

    def on_signal(signum, _frame):
        raise Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    env = {"STREAMLIT_SERVER_COOKIE_SECRET": os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET") or secrets.token_hex(32)}
    children: list[Child] = []
    try:
        for i, port in enumerate(ports, 1):
            cmd = [
                sys.executable, "-m", "streamlit", "run", args.app, "--server.port", str(port),
                "--server.address", LOOPBACK, "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none", *args.server_arg,
            ]  # fmt: skip
            log = run_dir / f"worker-{i}.log"
            children.append(
                start(cmd, f"worker {i} (port {port})", log, f"http://{LOOPBACK}:{port}/_stcore/health", env)
            )
        wait_healthy(children, args.timeout)
        host = LOOPBACK if args.address in ("0.0.0.0", "::", "[::]", "") else args.address
        proxy_url = f"http://{host}:{args.port}"
        nginx_cmd = [nginx, "-p", str(run_dir), "-c", str(conf), "-e", str(run_dir / "nginx-error.log")]
        nginx_cmd += ["-g", "daemon off;"]
        children.insert(0, start(nginx_cmd, "nginx", run_dir / "nginx-error.log", f"{proxy_url}/_stcore/health"))
        wait_healthy(children[:1], 20)
        state = {
            "launcher_pid": os.getpid(),
            "url": f"http://{args.address}:{args.port}",
            "nginx_pid": children[0].proc.pid,
            "workers": [{"port": p, "pid": c.proc.pid} for p, c in zip(ports, children[1:], strict=True)],
        }
        (run_dir / "serve.json").write_text(json.dumps(state, indent=1))
        print(
            f"RANKL Atlas on {proxy_url} (listening on {listen}): nginx -> {args.workers} Streamlit process(es) on "
            f"ports {', '.join(map(str, ports))}, sticky by cookie {COOKIE}. Logs: {run_dir}. Stop: Ctrl+C "
            f"(or kill -TERM {os.getpid()}).",
            flush=True,
        )
        if args.warm:
            worker_urls = [f"http://{LOOPBACK}:{p}" for p in ports]
            threading.Thread(target=warm_workers, args=(worker_urls,), name="warm-up", daemon=True).start()
        while True:
            for child in children:
                if child.proc.poll() is not None:
                    print(
                        f"{child.name} exited with {child.proc.returncode}; stopping the others. Log:\n{child.tail()}",
                        file=sys.stderr,
                        flush=True,
                    )
                    return 1
            time.sleep(0.5)
    except Stop as sig:
        print(f"{sig}: stopping nginx and {args.workers} worker(s)", flush=True)
        return 0
    except RuntimeError as err:
        print(f"could not start: {err}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl+C must not interrupt the clean-up
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop(children)
        with contextlib.suppress(OSError):
            (run_dir / "serve.json").unlink()
        print("stopped", flush=True)


def warm_workers(urls: list[str]) -> None:
    """Open every page's default view on each worker once, and say how it went (a failure is reported, not fatal)."""
    import warm  # deploy/warm.py, next to this script

    warm.main(urls)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="N Streamlit processes behind nginx with sticky sessions.")
    p.add_argument("--workers", type=int, default=2, help="Streamlit processes (about one per core)")
    p.add_argument("--port", type=int, default=8080, help="port nginx listens on")
    p.add_argument("--address", default="0.0.0.0", help="address nginx listens on (workers stay on 127.0.0.1)")
    p.add_argument("--app", default="app.py", help="Streamlit script, relative to the repository root")
    p.add_argument("--run-dir", default=str(ROOT / "tmp" / "serve"), help="config, pid, logs, nginx temp folders")
    p.add_argument("--nginx", help="nginx binary (default: $RANKL_ATLAS_NGINX, PATH, /usr/sbin/nginx)")
    p.add_argument("--access-log", action="store_true", help="write nginx's access log into the run folder")
    p.add_argument("--server-arg", action="append", default=[], help="extra streamlit flag for every worker")
    p.add_argument("--timeout", type=float, default=120, help="seconds to wait for the workers to be healthy")
    p.add_argument("--no-warm", dest="warm", action="store_false", help="do not open every page once at start")
    args = p.parse_args(argv)
    if args.workers < 1:
        p.error("--workers must be >= 1")
    return args


if __name__ == "__main__":
    sys.exit(serve(parse_args()))
