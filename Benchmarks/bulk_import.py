#!/usr/bin/env python3
"""Bulk import of reservations: PUT /api/v1/reservations/{id} and GUEST webhooks.

One portald on loopback (firewall backend "none"). ROUNDS (default 6) alternated
rounds of three kinds, SECONDS (default 5) of wrk each over 4 keep-alive
connections (2 threads), each request a new reservation id (about 10 000 a round
at the goal's 2 000/s; wrk cannot stop at a count, so the rounds are timed):
  put:      PUT /api/v1/reservations/{id} with the contract's JSON (local token),
  guest:    POST /api/v1/inbound/pms, a one-item ReservationsUpdateDTO list, bearer auth,
  baseline: GET /api/v1/reservations/{id} of an id that does not exist (authentication,
            routing, the worker pool and a SQLite read: the same server path without the write),
so each round's upsert rate is also shown as a ratio to the baseline measured beside it.
Prints per round: requests/s, p50 and p99 latency (wrk), portald's RSS before and
after; then the median and spread (min-max) over the rounds. SYNCHRONOUS=full|normal
sets [store] synchronous (default: portald's default, full). Bounded: 3 x ROUNDS x SECONDS.
"""
import json, os, sqlite3, statistics, subprocess, sys, tempfile, time, urllib.request

SECONDS = int(os.environ.get("SECONDS", "5"))
ROUNDS = int(os.environ.get("ROUNDS", "6"))
SYNCHRONOUS = os.environ.get("SYNCHRONOUS", "")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("PORTALD_BIN", os.path.join(ROOT, ".build/release/portald"))
PORTAL, ADMIN = 28700 + os.getpid() % 100 * 2, 28701 + os.getpid() % 100 * 2
GUEST_TOKEN = "g" * 40

LUA = r'''
-- Each request a fresh id: thread number, then a counter.
local threads, counter = {}, 0
local kind, token, prefix = "%(kind)s", "%(token)s", "%(prefix)s"
function setup(thread) thread:set("tid", #threads + 1); table.insert(threads, thread) end
function request()
  counter = counter + 1
  local id = prefix .. "-" .. tid .. "-" .. counter
  if kind == "put" then
    local body = '{"reference": "BKG-' .. id .. '", "status": "confirmed", "arrival": "2026-12-01", "departure": "2026-12-04", ' ..
      '"room": "214", "adults": 2, "children": 1, "babies": 0, "language": "de", "version": 1, ' ..
      '"guests": [{"first_name": "Anna", "last_name": "Müller", "email": "anna@example.com", "primary": true}]}'
    return wrk.format("PUT", "/api/v1/reservations/" .. id, {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
  elseif kind == "guest" then
    local body = '[{"reservation_id": "' .. id .. '", "reference": "G-' .. id .. '", "arrivalDate": "2026-12-01", "exitDate": "2026-12-04", ' ..
      '"rsvStatus": 1, "roomId": 214, "responsible": "Müller, Anna", "ad": 2, "jr": 0, "ch": 1, "bb": 0}]'
    return wrk.format("POST", "/api/v1/inbound/pms", {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json", ["UpdateType"] = "Insert"}, body)
  else
    return wrk.format("GET", "/api/v1/reservations/" .. id, {["Authorization"] = "Bearer " .. token})
  end
end
function response(status, headers, body)
  local expected = (kind == "put" and status == 201) or (kind == "guest" and status == 200) or (kind == "baseline" and status == 404)
  if not expected then print("unexpected " .. status .. " " .. body) end
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%.3f %%.3f %%d\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect + summary.errors.read))
end
'''


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"build first: swift build -c release (no {BIN})")
    work = tempfile.mkdtemp(prefix="portald-import-bench-")
    config = os.path.join(work, "portald.toml")
    with open(config, "w") as f:
        f.write(f'''[site]
id = "bench-hotel"
name = "Bench Hotel"
[portal]
listen = "127.0.0.1:{PORTAL}"
public_url = "http://127.0.0.1:{PORTAL}/"
[firewall]
backend = "none"
[store]
path = "{work}/portald.db"
{f'synchronous = "{SYNCHRONOUS}"' if SYNCHRONOUS else ""}
[admin]
listen = "127.0.0.1:{ADMIN}"
[log]
level = "error"
[arrivals]
public_url = "https://checkin.example.com"
[[inbound]]
id = "pms"
format = "guest"
auth = "bearer"
token = "{GUEST_TOKEN}"
''')
    process = subprocess.Popen([BIN, "serve", "--config", config], stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{ADMIN}/api/v1/health", timeout=1).read()
                break
            except OSError as error:
                if getattr(error, "code", None) == 503:
                    break
                time.sleep(0.1)
        local = open(os.path.join(work, "admin.token")).read().strip()
        rows = {"put": [], "guest": [], "baseline": []}
        for round_number in range(ROUNDS):
            for kind in ("put", "guest", "baseline"):
                # The local token is not rate-limited; a PMS's token would be given --rate-limit for an import.
                script = os.path.join(work, f"{kind}.lua")
                with open(script, "w") as f:
                    f.write(LUA % {"kind": kind, "token": GUEST_TOKEN if kind == "guest" else local, "prefix": f"r{round_number}{kind[0]}"})
                before = rss_mib(process.pid)
                run = subprocess.run(["wrk", "-t2", "-c4", f"-d{SECONDS}s", "-s", script, f"http://127.0.0.1:{ADMIN}"],
                                     capture_output=True, text=True)
                out = run.stdout
                if "RESULT" not in out:
                    sys.exit(f"{kind}: wrk said: {out[-2000:]} {run.stderr[-2000:]}")
                unexpected = [line for line in out.splitlines() if line.startswith("unexpected")]
                if unexpected:
                    sys.exit(f"{kind}: {unexpected[0]}")
                requests, micros, p50, p99, errors = next(line.split()[1:] for line in out.splitlines() if line.startswith("RESULT"))
                rate = int(requests) / (int(micros) / 1e6)
                rows[kind].append({"requests": int(requests), "rps": round(rate), "p50_ms": float(p50), "p99_ms": float(p99), "errors": int(errors),
                                   "rss_mib_before": before, "rss_mib_after": rss_mib(process.pid)})
                print(f"round {round_number + 1} {kind:8} {rate:8.0f}/s  p50 {float(p50):6.2f} ms  p99 {float(p99):6.2f} ms  "
                      f"RSS {before} -> {rss_mib(process.pid)} MiB", flush=True)

        def summary(values):
            return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}
        result = {"seconds_per_round": SECONDS, "rounds": ROUNDS, "synchronous": SYNCHRONOUS or "default (full)"}
        for kind in rows:
            result[kind] = {"rps": summary([r["rps"] for r in rows[kind]]), "p99_ms": summary([r["p99_ms"] for r in rows[kind]]),
                            "p50_ms": summary([r["p50_ms"] for r in rows[kind]])}
        for kind in ("put", "guest"):
            result[kind]["ratio_to_baseline"] = summary([a["rps"] / b["rps"] for a, b in zip(rows[kind], rows["baseline"])])
        result["rss_mib_first"] = rows["put"][0]["rss_mib_before"]
        result["rss_mib_last"] = rows["baseline"][-1]["rss_mib_after"]
        with sqlite3.connect(os.path.join(work, "portald.db")) as db:
            result["reservations_stored"] = db.execute("SELECT count(*) FROM reservation").fetchone()[0]
        print(json.dumps(result, indent=2))
    finally:
        process.terminate()
        process.wait(timeout=15)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
