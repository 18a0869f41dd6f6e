#!/usr/bin/env python3
"""Webhook delivery throughput, drain after an outage, and memory while draining.

Events are queued the way an outage leaves them: rows in the outbox, due now
(written straight into portald's SQLite file while it is stopped). portald is
then started and the time until a fast C receiver (c_receiver.c, 204 to every
POST) has them all is measured, while portald's RSS is sampled.

Baselines, same run: wrk POSTing the same body to the same receiver over one
keep-alive connection (the ceiling for ordered, one-at-a-time delivery) and over
16 (the receiver's capacity); portald's rates are reported as ratios of them.
Bounded: QUEUED (1 000) and OUTAGE (100 000) events, a 300 s cap per phase.
"""
import json, os, sqlite3, subprocess, sys, tempfile, time, urllib.request, uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("PORTALD_BIN", os.path.join(ROOT, ".build/release/portald"))
QUEUED = int(os.environ.get("QUEUED", "1000"))
OUTAGE = int(os.environ.get("OUTAGE", "100000"))
SYNCHRONOUS = os.environ.get("SYNCHRONOUS", "full")  # [store] synchronous
PORTAL, ADMIN, RECEIVER = 9181, 9182, 9190
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def count():
    return int(urllib.request.urlopen(f"http://127.0.0.1:{RECEIVER}/count", timeout=5).read())


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def write_config(work, ordering):
    path = os.path.join(work, "portald.toml")
    with open(path, "w") as f:
        f.write(f'''[site]\nid = "bench"\nname = "Bench"\n[portal]\nlisten = "127.0.0.1:{PORTAL}"\npublic_url = "http://127.0.0.1:{PORTAL}/"
[firewall]\nbackend = "none"\n[store]\npath = "{work}/portald.db"\nsynchronous = "{SYNCHRONOUS}"\n[admin]\nlisten = "127.0.0.1:{ADMIN}"\n[log]\nlevel = "warning"
[webhooks]\nconcurrency = 16\n[[webhooks.endpoints]]\nid = "bench"\nurl = "http://127.0.0.1:{RECEIVER}/hooks"\nsecret = "{SECRET}"
topics = ["*"]\nordering = "{ordering}"\n''')
    return path


def start(config):
    process = subprocess.Popen([BIN, "serve", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORTAL}/api/captive", timeout=1)
            return process
        except OSError:
            time.sleep(0.05)
    sys.exit("portald did not start")


def enqueue(db_path, n):
    """What an outage leaves behind: n events, each pending for the endpoint, due now."""
    db = sqlite3.connect(db_path)
    now = time.strftime("%Y-%m-%d %H:%M:%S.000", time.gmtime())
    with db:
        for i in range(n):
            event_id = "evt_" + str(uuid.uuid4())
            body = json.dumps({"id": event_id, "event": "wifi.session.started", "created_at": now.replace(" ", "T")[:19] + "Z",
                               "site_id": "bench", "data": {"session_id": str(uuid.uuid4()), "mac": "02:00:00:00:00:01",
                                                            "ipv4": "192.0.2.10", "method": "terms"}}, separators=(",", ":"))
            cur = db.execute("INSERT INTO outbox_event(id, event, created_at, body) VALUES (?, 'wifi.session.started', ?, ?)",
                             (event_id, now, body.encode()))
            db.execute("INSERT INTO delivery(event_sequence, endpoint_id, status, attempts, next_attempt_at, updated_at) "
                       "VALUES (?, 'bench', 'pending', 0, ?, ?)", (cur.lastrowid, now, now))
    db.close()
    return body


def drain(work, ordering, n):
    config = write_config(work, ordering)
    db_path = os.path.join(work, "portald.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db_path + suffix):
            os.remove(db_path + suffix)
    process = start(config)           # creates the schema
    process.terminate(); process.wait(10)
    body = enqueue(db_path, n)
    before = count()
    process = start(config)
    started = time.perf_counter()
    samples = []
    while count() - before < n:
        samples.append(rss_kib(process.pid))
        if time.perf_counter() - started > 300:
            break
        time.sleep(0.01 if n <= 10000 else 0.2)
    elapsed = time.perf_counter() - started
    delivered = count() - before
    process.terminate(); process.wait(10)
    return body, {"events": n, "ordering": ordering, "delivered": delivered, "seconds": round(elapsed, 2),
                  "deliveries_per_second": round(delivered / elapsed), "rss_mib_first": round(samples[0] / 1024, 1) if samples else None,
                  "rss_mib_max": round(max(samples) / 1024, 1) if samples else None, "rss_mib_last": round(samples[-1] / 1024, 1) if samples else None}


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"build first: swift build -c release (no {BIN})")
    work = tempfile.mkdtemp(prefix="portald-webhook-bench-")
    receiver_bin = os.path.join(work, "c_receiver")
    subprocess.run(["gcc", "-O2", "-o", receiver_bin, os.path.join(ROOT, "Benchmarks/c_receiver.c")]
                   + subprocess.run(["pkg-config", "--cflags", "--libs", "libmicrohttpd"], capture_output=True, text=True).stdout.split(), check=True)
    receiver = subprocess.Popen([receiver_bin, str(RECEIVER)])
    time.sleep(0.3)
    try:
        results = {}
        body, results["queued_ordered"] = drain(work, "ordered", QUEUED)
        _, results["queued_concurrent"] = drain(work, "none", QUEUED)
        _, results["outage_ordered"] = drain(work, "ordered", OUTAGE)
        _, results["outage_concurrent"] = drain(work, "none", OUTAGE)
        write_lua(work, body)

        def wrk(threads, connections):
            out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", "-d5s", "-s", os.path.join(work, "post.lua"),
                                  f"http://127.0.0.1:{RECEIVER}/hooks"], capture_output=True, text=True).stdout
            return float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))
        # Baselines: the same POST from wrk over one keep-alive connection (the ceiling
        # for one-at-a-time delivery), and over 16 (the receiver's capacity).
        one, many = wrk(1, 1), wrk(2, 16)
        results["baseline_wrk_one_connection_rps"] = round(one)
        results["baseline_wrk_16_connections_rps"] = round(many)
        for key in ("queued_ordered", "outage_ordered"):
            results[key]["ratio_to_one_connection_baseline"] = round(results[key]["deliveries_per_second"] / one, 3)
        for key in ("queued_concurrent", "outage_concurrent"):
            results[key]["ratio_to_16_connection_baseline"] = round(results[key]["deliveries_per_second"] / many, 3)
        print(json.dumps(results, indent=2))
    finally:
        receiver.terminate()
        subprocess.run(["rm", "-rf", work])


def write_lua(work, body):
    with open(os.path.join(work, "post.lua"), "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ' + json.dumps(body) + "\n")


if __name__ == "__main__":
    main()
