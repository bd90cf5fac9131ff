"""Benchmark (not a test): the portal cutover's redirect map in nginx, 1,000 vs 100,000
mapped URLs, on a local nginx (loopback, plain HTTP so the map lookup is what differs).

For each size: the map is rendered by the cutover's own renderer
(cutover.cutovers.portal.redirects), then measured: `nginx -t` time, reload time (from
`nginx -s reload` until a request is answered by the new configuration), and with wrk
(random mapped URLs, keep-alive) requests/s, median and p99 latency. Finally a client
(wrk) requests continuously while the configuration is switched from serving pages to
the redirects and back several times (reloads): failed requests must be zero.

    sudo apt-get install nginx wrk       # (scripts/setup.sh installs them)
    .venv/bin/python bench/portal_redirects.py [--seconds 10] [--connections 50]

Nothing listens beyond 127.0.0.1; the nginx started here is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cutover.cutovers.portal import redirects

OLD, NEW = "kontum.gov.vn", "quangngai.gov.vn"
SECTIONS = ("tin-tuc", "thong-bao", "van-ban-phap-quy", "thu-tuc-hanh-chinh", "gioi-thieu")


def url_map(n: int) -> dict[str, str]:
    rng = random.Random(n)  # noqa: S311 -- benchmark data
    out: dict[str, str] = {}
    while len(out) < n:
        path = f"/{rng.choice(SECTIONS)}/bai-viet-{rng.randrange(10**6, 10**7)}.html"
        out[f"https://{OLD}{path}"] = f"https://{NEW}/kon-tum{path}"
    return out


class Nginx:
    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        root.chmod(0o755)  # nginx's workers run as nobody
        (root / "logs").mkdir(parents=True, exist_ok=True)
        (root / "html").mkdir(exist_ok=True)
        (root / "html" / "index.html").write_text("<h1>Kon Tum</h1>\n")
        self.generation = 0

    def write(self, mode: str, map_text: str) -> None:
        """mode: "pages" (the old portal) or "redirects" (the moved portal)."""
        self.generation += 1
        (self.root / "map.conf").write_text(map_text if mode == "redirects" else "")
        action = (
            "return 301 $cutover_redirect;"
            if mode == "redirects"
            else "try_files /index.html =404;"
        )
        (self.root / "nginx.conf").write_text(f"""
worker_processes 2;
pid {self.root}/nginx.pid;
error_log {self.root}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    include {self.root}/map.conf;
    server {{
        listen 127.0.0.1:{self.port} backlog=4096;
        server_name {OLD} www.{OLD};
        root {self.root}/html;
        add_header X-Generation {self.generation} always;
        location / {{ {action} }}
    }}
}}
""")

    def cmd(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["nginx", "-p", str(self.root), "-c", str(self.root / "nginx.conf"), *args],
            capture_output=True,
            text=True,
            check=True,
        )

    def generation_served(self) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/", headers={"Host": OLD})
            return conn.getresponse().headers.get("X-Generation", "")
        finally:
            conn.close()

    def test_seconds(self) -> float:
        started = time.perf_counter()
        self.cmd("-t", "-q")
        return time.perf_counter() - started

    def reload_seconds(self) -> float:
        want = str(self.generation)
        started = time.perf_counter()
        self.cmd("-s", "reload")
        while self.generation_served() != want:
            time.sleep(0.002)
        return time.perf_counter() - started

    def start(self) -> None:
        self.cmd()
        while True:
            try:
                self.generation_served()
                return
            except OSError:
                time.sleep(0.05)

    def stop(self) -> None:
        pid_file = self.root / "nginx.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text())
            subprocess.run(["kill", "-QUIT", str(pid)], check=False)


def wrk(port: int, paths_file: Path, seconds: int, connections: int) -> dict[str, float]:
    script = paths_file.with_suffix(".lua")
    script.write_text(f"""
local paths = {{}}
for line in io.lines("{paths_file}") do paths[#paths + 1] = line end
local n = #paths
request = function()
  return wrk.format("GET", paths[math.random(n)], {{Host = "{OLD}"}})
end
""")
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = (sum(int(x) for x in sock.groups()) if sock else 0) + (int(non.group(1)) if non else 0)
    if failed:
        print(out, file=sys.stderr)
    return {
        "rps": rps,
        "p50_ms": ms("50%"),
        "p99_ms": ms("99%"),
        "requests": total,
        "failed": failed,
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--switches", type=int, default=10)
    args = ap.parse_args()
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool):
            print(f"{tool} is missing: apt-get install {tool}", file=sys.stderr)
            return 2
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="bench-portal-") as tmp:
        root = Path(tmp)
        server = Nginx(root, args.port)
        try:
            server.write("pages", "")
            server.start()
            for n in (1_000, 100_000):
                umap = url_map(n)
                started = time.perf_counter()
                rendered = redirects.render(
                    umap, {OLD: [OLD, f"www.{OLD}"]}, {OLD: f"https://{NEW}/kon-tum/"}
                )
                render_s = time.perf_counter() - started
                paths = root / f"paths-{n}.txt"
                paths.write_text("\n".join(u.removeprefix(f"https://{OLD}") for u in umap) + "\n")
                server.write("redirects", rendered.text)
                tests = [server.test_seconds() for _ in range(5)]
                reloads = [server.reload_seconds() for _ in range(5)]
                time.sleep(2)  # let the old workers of those reloads exit
                load = wrk(args.port, paths, args.seconds, args.connections)
                results[str(n)] = {
                    "render_s": round(render_s, 3),
                    "map_bytes": len(rendered.text),
                    "nginx_t_s": round(statistics.median(tests), 3),
                    "reload_s": round(statistics.median(reloads), 3),
                    **load,
                }
                print(
                    f"{n:>7} URLs: {load['rps']:>9.0f} req/s  p50 {load['p50_ms']:.2f} ms  "
                    f"p99 {load['p99_ms']:.2f} ms  nginx -t {statistics.median(tests):.3f} s  "
                    f"reload {statistics.median(reloads):.3f} s  render {render_s:.2f} s  "
                    f"failed {load['failed']}",
                    flush=True,
                )
            # The switch: pages <-> redirects while clients keep requesting, once with
            # keep-alive connections and once with a new connection per request.
            umap = url_map(100_000)
            rendered = redirects.render(umap, {OLD: [OLD]}, {OLD: f"https://{NEW}/kon-tum/"})
            script = root / "paths-100000.lua"
            for mode, extra in (
                ("keep-alive", []),
                ("new connection per request", ["-H", "Connection: close"]),
            ):
                proc = subprocess.Popen(
                    [
                        "wrk",
                        "-t2",
                        f"-c{args.connections}",
                        f"-d{args.switches + 2}s",
                        *extra,
                        "-s",
                        str(script),
                        f"http://127.0.0.1:{args.port}/",
                    ],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                time.sleep(1)
                for i in range(args.switches):
                    server.write("redirects" if i % 2 == 0 else "pages", rendered.text)
                    server.cmd("-s", "reload")
                    time.sleep(1)
                out = proc.communicate()[0]
                sock = re.search(
                    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
                )
                non = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
                total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
                errors = (
                    dict(
                        zip(
                            ("connect", "read", "write", "timeout"),
                            (int(x) for x in sock.groups()),
                            strict=True,
                        )
                    )
                    if sock
                    else {}
                )
                failed = sum(errors.values()) + (int(non.group(1)) if non else 0)
                results[f"switch ({mode})"] = {
                    "reloads": args.switches,
                    "requests": total,
                    "failed": failed,
                    "socket_errors": errors,
                }
                print(
                    f" switch, {mode}: {args.switches} reloads (pages <-> 100,000 redirects) "
                    f"under load: {total} requests, {failed} failed {errors}",
                    flush=True,
                )
        finally:
            server.stop()
            time.sleep(0.5)
    a, b = results["1000"], results["100000"]
    ratio = b["p99_ms"] / a["p99_ms"]  # type: ignore[index]
    results["p99_ratio_100k_vs_1k"] = round(ratio, 2)
    print(f"p99 100,000 / 1,000 = {ratio:.2f} (target <= 1.2)")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
