#!/usr/bin/env python3
"""Online check-in pages against the captive redirect, in the same run.

One portald on loopback (firewall backend "none", registration "basic"), reservations
arriving today put through the admin API. ROUNDS (default 6) alternated rounds of:
  redirect: GET / with another host's Host header: the captive 302, answered on the
            listener's thread (the portal's fastest answer: the baseline),
  welcome:  GET /arrive/{token}: the token's hash looked up, the page rendered
            (each request another reservation's link),
  details:  POST /arrive/{token}/details: the form token checked, the registration form
            checked against the profile and saved (each request other values, so each
            is a real write), 303 to the next step,
each SECONDS (default 5) of wrk over 16 keep-alive connections (2 threads); then
  arrive:   COUNT (default 200) reservations of the round, each with its details and
            signed terms, arrived one after another (POST /arrive/{token}/arrive, 303),
            timed by one keep-alive client, with the redirect timed by the same client
            beside it (its floor). Arriving from 127.0.0.1 also lets the (derived)
            device on: the guest LAN's path, a session started and the one before it ended.
Prints per round, then the median and spread (min-max) over the rounds, and the ratios
to the redirect measured in the same round. Bounded: 3 x ROUNDS x SECONDS of wrk and
ROUNDS x COUNT arrives.
"""
import http.client, json, os, re, statistics, subprocess, sys, tempfile, time, urllib.parse, urllib.request

SECONDS = int(os.environ.get("SECONDS", "5"))
ROUNDS = int(os.environ.get("ROUNDS", "6"))
COUNT = int(os.environ.get("COUNT", "200"))
POOL = 2000  # links for the welcome and details rounds, visited in turn
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("PORTALD_BIN", os.path.join(ROOT, ".build/release/portald"))
PORTAL, ADMIN = 28900 + os.getpid() % 100 * 2, 28901 + os.getpid() % 100 * 2

LUA = r'''
local kind, items, counter = "%(kind)s", {%(items)s}, 0
function request()
  counter = counter + 1
  local item = items[(counter %% #items) + 1]
  if kind == "redirect" then
    return wrk.format("GET", "/generate_204", {["Host"] = "connectivitycheck.gstatic.com"})
  elseif kind == "welcome" then
    return wrk.format("GET", "/arrive/" .. item[1])
  else
    local body = "csrf=" .. item[2] .. "&first_name=Anna&last_name=M%%C3%%BCller&email=anna" .. counter .. "%%40example.com"
    return wrk.format("POST", "/arrive/" .. item[1] .. "/details", {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
  end
end
function response(status, headers, body)
  local expected = (kind == "redirect" and status == 302) or (kind == "welcome" and status == 200) or (kind == "details" and status == 303)
  if not expected then print("unexpected " .. status .. " " .. string.sub(body, 1, 300)) end
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%.3f %%.3f %%d\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect + summary.errors.read))
end
'''


class Portal:
    """One keep-alive connection to the portal, as the arrive timing's client."""

    def __init__(self):
        self.connection = http.client.HTTPConnection("127.0.0.1", PORTAL, timeout=10)

    def request(self, method, path, form=None, host=None):
        headers = {"Host": host} if host else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        answer = self.connection.getresponse()
        return answer.status, answer.getheader("Location"), answer.read().decode()

    def form(self, path, fields):
        """GETs a step, sends its form with `fields`; returns the status."""
        status, _, html = self.request("GET", path)
        assert status == 200, f"{path}: {status}"
        form = {"csrf": re.search(r'name="csrf" value="([^"]+)"', html).group(1)}
        for name in ("terms_sha256",):
            found = re.search(f'name="{name}" value="([^"]+)"', html)
            if found:
                form[name] = found.group(1)
        return self.request("POST", path, {**form, **fields})[0]


def put_reservations(token, prefix, count):
    today = time.strftime("%Y-%m-%d", time.gmtime())
    departure = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 3 * 86400))
    links = []
    for number in range(count):
        body = json.dumps({"reference": f"BKG-{prefix}{number}", "status": "confirmed", "arrival": today, "departure": departure,
                           "room": "214", "adults": 1, "language": "en", "version": 1,
                           "guests": [{"first_name": "Anna", "last_name": "Müller", "email": "anna@example.com", "primary": True}]}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{ADMIN}/api/v1/reservations/{prefix}{number}", data=body, method="PUT",
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        answer = json.load(urllib.request.urlopen(request, timeout=10))
        links.append(answer["checkin_url"].rsplit("/", 1)[1])
    return links


def wrk(kind, items, work):
    script = os.path.join(work, f"{kind}.lua")
    with open(script, "w") as f:
        f.write(LUA % {"kind": kind, "items": ", ".join("{" + ", ".join(f'"{v}"' for v in item) + "}" for item in items)})
    run = subprocess.run(["wrk", "-t2", "-c16", f"-d{SECONDS}s", "-s", script, f"http://127.0.0.1:{PORTAL}"], capture_output=True, text=True)
    unexpected = [line for line in run.stdout.splitlines() if line.startswith("unexpected")]
    if "RESULT" not in run.stdout or unexpected:
        sys.exit(f"{kind}: {unexpected[:1] or run.stdout[-2000:]} {run.stderr[-1000:]}")
    requests, micros, p50, p99, errors = next(line.split()[1:] for line in run.stdout.splitlines() if line.startswith("RESULT"))
    return {"rps": int(requests) / (int(micros) / 1e6), "p50_ms": float(p50), "p99_ms": float(p99), "errors": int(errors)}


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"build first: swift build -c release (no {BIN})")
    work = tempfile.mkdtemp(prefix="portald-checkin-bench-")
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
[admin]
listen = "127.0.0.1:{ADMIN}"
[log]
level = "error"
[arrivals]
registration = "basic"
''')
    process = subprocess.Popen([BIN, "serve", "--config", config], stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORTAL}/api/captive", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        token = open(os.path.join(work, "admin.token")).read().strip()
        client = Portal()
        started = time.time()
        welcome = put_reservations(token, "w", POOL)
        details_links = put_reservations(token, "d", POOL)
        details = []
        for link in details_links:
            assert client.form(f"/arrive/{link}/confirm", {}) == 303
            _, _, html = client.request("GET", f"/arrive/{link}/details")
            details.append((link, urllib.parse.quote(re.search(r'name="csrf" value="([^"]+)"', html).group(1), safe="")))
        ready = []
        for link in put_reservations(token, "a", ROUNDS * COUNT):
            assert client.form(f"/arrive/{link}/confirm", {}) == 303
            assert client.form(f"/arrive/{link}/details", {"first_name": "Anna", "last_name": "Müller"}) == 303
            assert client.form(f"/arrive/{link}/terms", {"name": "Anna Müller"}) == 303
            _, _, html = client.request("GET", f"/arrive/{link}/arrive")
            ready.append((link, re.search(r'name="csrf" value="([^"]+)"', html).group(1)))
        print(f"prepared {2 * POOL + ROUNDS * COUNT} reservations in {time.time() - started:.0f} s", flush=True)

        rows = []
        for number in range(ROUNDS):
            row = {}
            kinds = ["redirect", "welcome", "details"]
            for kind in kinds if number % 2 == 0 else list(reversed(kinds)):
                items = {"redirect": [("-",)], "welcome": [(link,) for link in welcome], "details": details}[kind]
                row[kind] = wrk(kind, items, work)
            floor, arrive = [], []
            client = Portal()  # a fresh connection: the last one idled through the wrk rounds (connection_timeout_seconds)
            for link, csrf in ready[number * COUNT:(number + 1) * COUNT]:
                t0 = time.perf_counter()
                status, _, _ = client.request("GET", "/generate_204", host="connectivitycheck.gstatic.com")
                t1 = time.perf_counter()
                assert status == 302
                status, location, _ = client.request("POST", f"/arrive/{link}/arrive", {"csrf": csrf})
                t2 = time.perf_counter()
                assert status == 303 and location.endswith("/done"), (status, location)
                floor.append((t1 - t0) * 1000)
                arrive.append((t2 - t1) * 1000)
            row["arrive"] = {"p50_ms": statistics.median(arrive), "p99_ms": percentile(arrive, 0.99),
                             "redirect_p50_ms": statistics.median(floor), "redirect_p99_ms": percentile(floor, 0.99)}
            rows.append(row)
            print(f"round {number + 1}: redirect {row['redirect']['rps']:7.0f}/s  welcome {row['welcome']['rps']:6.0f}/s "
                  f"(p99 {row['welcome']['p99_ms']:.2f} ms)  details {row['details']['rps']:6.0f}/s (p99 {row['details']['p99_ms']:.2f} ms)  "
                  f"arrive p50 {row['arrive']['p50_ms']:.2f} p99 {row['arrive']['p99_ms']:.2f} ms "
                  f"(redirect by the same client p99 {row['arrive']['redirect_p99_ms']:.2f} ms)", flush=True)

        def summary(values):
            return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}
        result = {"seconds_per_round": SECONDS, "rounds": ROUNDS, "arrives_per_round": COUNT}
        for kind in ("redirect", "welcome", "details"):
            result[kind] = {"rps": summary([r[kind]["rps"] for r in rows]), "p99_ms": summary([r[kind]["p99_ms"] for r in rows])}
        for kind in ("welcome", "details"):
            result[kind]["ratio_to_redirect"] = summary([r[kind]["rps"] / r["redirect"]["rps"] for r in rows])
        result["arrive"] = {name: summary([r["arrive"][name] for r in rows]) for name in rows[0]["arrive"]}
        result["arrive"]["p99_ratio_to_redirect"] = summary([r["arrive"]["p99_ms"] / r["arrive"]["redirect_p99_ms"] for r in rows])
        print(json.dumps(result, indent=2))
    finally:
        process.terminate()
        process.wait(timeout=15)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
