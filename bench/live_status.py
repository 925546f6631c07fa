#!/usr/bin/env python3
"""How many live-status waiters one app instance holds.

Registers a member, places an order, opens N concurrent long-polls on it
(`GET /api/order/{id}/?after=1`), then cancels the order and counts how many
waiters were answered 200 with the new version, how fast, and the host's RSS
(its process tree) while they waited. Needs a running app (`make up`) and
nothing else: `python3 bench/live_status.py [--url URL] [--pid PID] N ...`.
"""
import argparse, asyncio, json, os, subprocess, time, urllib.request, uuid


def call(url, method, path, body=None, headers=None):
    req = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    req.add_header("content-type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def tree_rss_mib(pid):
    """RSS of a process and its descendants, in MiB."""
    pids = [str(pid)]
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,rss="], capture_output=True, text=True).stdout
    rows = [line.split() for line in out.splitlines()]
    changed = True
    while changed:
        changed = False
        for p, pp, _ in rows:
            if pp in pids and p not in pids:
                pids.append(p)
                changed = True
    return sum(int(r) for p, _, r in rows if p in pids) / 1024


async def wait_once(host, port, path, token):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {token}\r\n\r\n".encode())
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    answered = time.monotonic()
    writer.close()
    return status, answered


async def run(url, pid, n):
    who = "live" + uuid.uuid4().hex[:10]
    ip = {"x-forwarded-for": f"10.{n % 250}.{os.getpid() % 250}.7"}
    call(url, "POST", "/api/login/register/", {"id": who, "pw": "correct horse battery", "name": "L"}, ip)
    token = call(url, "POST", "/api/login/", {"id": who, "pw": "correct horse battery"}, ip)[1]["token"]
    auth = {"authorization": f"Bearer {token}"}
    order = call(url, "POST", "/api/order/", {"branchId": "1", "lines": [{"name": "The Greek Pizza", "size": "S", "quantity": 1}]}, auth)[1]["order_id"]
    host, port = url.split("//")[1].split(":")
    waiters = [asyncio.create_task(wait_once(host, int(port), f"/api/order/{order}/?after=1", token)) for _ in range(n)]
    await asyncio.sleep(5 + n / 500)
    rss = tree_rss_mib(pid) if pid else float("nan")
    early = sum(w.done() for w in waiters)
    moved = time.monotonic()
    status, _ = await asyncio.to_thread(call, url, "POST", f"/api/order/{order}/cancel/", {}, dict(auth, **{"if-match": '"1"'}))
    results = await asyncio.gather(*waiters, return_exceptions=True)
    ok = [r for r in results if isinstance(r, tuple) and r[0] == 200]
    lag = sorted(r[1] - moved for r in ok) or [float("nan")]
    failed = len(results) - len(ok)
    seen = {}
    for r in results:
        key = r[0] if isinstance(r, tuple) else type(r).__name__
        seen[key] = seen.get(key, 0) + 1
    print(f"waiters {n:5}: answered 200 {len(ok):5}, other/failed {failed:4} (early {early}), "
          f"cancel {status}, after the change p50 {lag[len(lag)//2]:.2f} s max {lag[-1]:.2f} s, "
          f"host RSS while waiting {rss:.0f} MiB; answers {seen}")


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--url", default="http://127.0.0.1:3000")
    a.add_argument("--pid", type=int, help="the host's pid, for its RSS")
    a.add_argument("counts", type=int, nargs="+")
    args = a.parse_args()
    for n in args.counts:
        asyncio.run(run(args.url, args.pid, n))


if __name__ == "__main__":
    main()
