#!/usr/bin/env python3
"""Login -> first forwarded packet, in a private three-namespace lab.

A guest agent (in the guest namespace) fetches the splash page, then times
  t_login:   POST /login/terms until the "you are online" answer, and
  t_forward: POST until its first TCP connection through the gateway succeeds.
Between logins the device is deauthorized with `portald deauth` (not timed).
Baseline, same run: `nft add element` per authorization, as a portal that
shells out to nft pays at least (openNDS forks a shell per request on top).
ROUNDS (default 6) alternated rounds of COUNT logins then COUNT baseline
authorizations (default 100 each). The client's own floor, same run: before
each login the agent times a GET /api/captive (offloaded like the login, a
neighbour lookup and a SQLite read, a few bytes of JSON), so what the client
and a TCP connection cost is seen beside the login. CLIENT=raw (default) sends
pre-built requests on a plain socket, each on a new connection, timed from
connect to the answer's last byte; CLIENT=urllib goes through Python's urllib,
as earlier runs did. The agent idles 10 ms before each login (the deauth CLI
process just ran). SYNCHRONOUS sets [store] synchronous. Prints each round's
p50/p99 and the median and spread (min-max) over the rounds, plus p99 over
every sample. Bounded:
ROUNDS x COUNT logins. Namespaces are deleted on exit.
"""
import json, os, statistics, subprocess, sys, tempfile, time

COUNT = int(os.environ.get("COUNT", "100"))
ROUNDS = int(os.environ.get("ROUNDS", "6"))
SYNCHRONOUS = os.environ.get("SYNCHRONOUS", "")  # [store] synchronous; empty: the binary's default (older ones know no such key)
# raw: the agent speaks HTTP over a plain socket (what the server costs, plus a TCP connect);
# urllib: through Python's urllib, as earlier runs measured (its own overhead is about 1.5 ms here).
CLIENT = os.environ.get("CLIENT", "raw")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("PORTALD_BIN", os.path.join(ROOT, ".build/release/portald"))
P = f"pdbench{os.getpid()}"
GUEST, GW, UP = f"{P}-guest", f"{P}-gateway", f"{P}-upstream"

AGENT = r'''
import re, socket, sys, time, urllib.request, urllib.parse
portal = "http://192.0.2.1:8080"
raw = sys.argv[1] == "raw"

def exchange(request):
    # One request on a fresh connection, timed from connect to the answer's last byte:
    # what a client pays at least (no HTTP library between it and the socket).
    s = socket.create_connection(("192.0.2.1", 8080), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(request)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            length = re.search(rb"\r\ncontent-length:\s*(\d+)", data[:end].lower())
            if length and len(data) - end - 4 >= int(length.group(1)):
                break
    s.close()
    return data.decode()

for line in sys.stdin:
    html = urllib.request.urlopen(portal + "/", timeout=5).read().decode()
    token = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode({"csrf": token, "accept": "yes"})
    login = (f"POST /login/terms HTTP/1.1\r\nHost: 192.0.2.1:8080\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode()
    captive = b"GET /api/captive HTTP/1.1\r\nHost: 192.0.2.1:8080\r\nConnection: close\r\n\r\n"
    tf = time.perf_counter()
    if raw:
        exchange(captive)
    else:
        urllib.request.urlopen(portal + "/api/captive", timeout=5).read()
    floor = time.perf_counter() - tf
    time.sleep(0.01)
    t0 = time.perf_counter()
    if raw:
        answer = exchange(login)
    else:
        answer = urllib.request.urlopen(portal + "/login/terms", data=body.encode(), timeout=5).read().decode()
    t1 = time.perf_counter()
    assert "You are online" in answer, answer
    while True:
        s = socket.socket()
        s.settimeout(0.02)
        try:
            s.connect(("198.51.100.2", 8000))
            break
        except OSError:
            pass
        finally:
            s.close()
    t2 = time.perf_counter()
    print(f"{(t1 - t0) * 1000:.3f} {(t2 - t0) * 1000:.3f} {floor * 1000:.3f}", flush=True)
'''

def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True)

def ns(name, *args, check=True):
    return sh("ip", "netns", "exec", name, *args, check=check)

def cleanup():
    for name in (GUEST, GW, UP):
        pids = sh("ip", "netns", "pids", name, check=False).stdout.split()
        for pid in pids:
            sh("kill", "-9", pid, check=False)
        sh("ip", "netns", "del", name, check=False)

def percentile(values, p):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))], 3)

def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"build first: swift build -c release (no {BIN})")
    work = tempfile.mkdtemp(prefix="portald-bench-")
    try:
        for name in (GUEST, GW, UP):
            sh("ip", "netns", "add", name)
            ns(name, "ip", "link", "set", "lo", "up")
        sh("ip", "link", "add", "g0", "netns", GUEST, "address", "02:00:00:00:00:10", "type", "veth", "peer", "name", "lan0", "netns", GW)
        sh("ip", "link", "add", "wan0", "netns", GW, "type", "veth", "peer", "name", "up0", "netns", UP)
        for n, cmds in ((GUEST, [["ip", "addr", "add", "192.0.2.10/24", "dev", "g0"], ["ip", "link", "set", "g0", "up"],
                                 ["ip", "route", "add", "default", "via", "192.0.2.1"]]),
                        (GW, [["ip", "addr", "add", "192.0.2.1/24", "dev", "lan0"], ["ip", "addr", "add", "198.51.100.1/24", "dev", "wan0"],
                              ["ip", "link", "set", "lan0", "up"], ["ip", "link", "set", "wan0", "up"], ["sysctl", "-qw", "net.ipv4.ip_forward=1"]]),
                        (UP, [["ip", "addr", "add", "198.51.100.2/24", "dev", "up0"], ["ip", "link", "set", "up0", "up"],
                              ["ip", "route", "add", "192.0.2.0/24", "via", "198.51.100.1"]])):
            for c in cmds:
                ns(n, *c)
        config = os.path.join(work, "portald.toml")
        with open(config, "w") as f:
            f.write(f'''[site]\nid = "bench"\nname = "Bench"\n[portal]\nlisten = "192.0.2.1:8080"\npublic_url = "http://192.0.2.1:8080/"
lan_interface = "lan0"\n[firewall]\ntable = "portald"\n[store]\npath = "{work}/portald.db"\n{f'synchronous = "{SYNCHRONOUS}"' if SYNCHRONOUS else ''}\n[admin]\nlisten = "127.0.0.1:8081"\n[log]\nlevel = "warning"\n''')
        upstream = subprocess.Popen(["ip", "netns", "exec", UP, "python3", "-m", "http.server", "8000", "--bind", "198.51.100.2"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # DAEMON_LOG=FILE keeps the daemon's log (level warning) for a look afterwards.
        log = open(os.environ["DAEMON_LOG"], "w") if os.environ.get("DAEMON_LOG") else subprocess.DEVNULL
        daemon = subprocess.Popen(["ip", "netns", "exec", GW, BIN, "serve", "--config", config], stdout=log, stderr=log)
        for _ in range(100):
            if ns(GUEST, "curl", "-s", "-o", "/dev/null", "--max-time", "1", "http://192.0.2.1:8080/api/captive", check=False).returncode == 0:
                break
            time.sleep(0.1)
        agent = subprocess.Popen(["ip", "netns", "exec", GUEST, "python3", "-c", AGENT, CLIENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        rounds = []
        baseline_key = 0
        for r in range(ROUNDS):
            login, forward, shell, floor = [], [], [], []
            for i in range(COUNT):
                if r or i:
                    ns(GW, BIN, "deauth", "02:00:00:00:00:10", "--config", config)
                agent.stdin.write("go\n"); agent.stdin.flush()
                a, b, c = agent.stdout.readline().split()
                login.append(float(a)); forward.append(float(b)); floor.append(float(c))
            # Baseline: one `nft add element` process per authorization.
            for i in range(COUNT):
                t0 = time.perf_counter()
                ns(GW, "nft", "add", "element", "inet", "portald", "authorized",
                   f"{{ 02:00:00:01:{baseline_key // 256:02x}:{baseline_key % 256:02x} . 192.0.2.200 timeout 1h }}")
                shell.append((time.perf_counter() - t0) * 1000)
                baseline_key += 1
            rounds.append({"login": login, "forward": forward, "shell": shell, "floor": floor})
            print(f"round {r + 1}: login p50 {percentile(login, 50)} p99 {percentile(login, 99)} ms   "
                  f"first packet p50 {percentile(forward, 50)} p99 {percentile(forward, 99)} ms   "
                  f"nft process p50 {percentile(shell, 50)} p99 {percentile(shell, 99)} ms   "
                  f"client floor p50 {percentile(floor, 50)} p99 {percentile(floor, 99)} ms", file=sys.stderr, flush=True)
        agent.stdin.close(); agent.wait(5)
        daemon.terminate(); daemon.wait(10); upstream.kill()

        def summary(key):
            p50s = [percentile(x[key], 50) for x in rounds]
            p99s = [percentile(x[key], 99) for x in rounds]
            every = [v for x in rounds for v in x[key]]
            return {"p50_median": round(statistics.median(p50s), 3), "p50_spread": [min(p50s), max(p50s)],
                    "p99_median": round(statistics.median(p99s), 3), "p99_spread": [min(p99s), max(p99s)],
                    "p99_all_samples": percentile(every, 99)}
        ratios = [percentile(x["forward"], 50) / percentile(x["shell"], 50) for x in rounds]
        result = {
            "rounds": ROUNDS, "logins_per_round": COUNT, "client": CLIENT, "synchronous": SYNCHRONOUS or "default (full)",
            "login_response_ms": summary("login"),
            "login_to_first_forwarded_packet_ms": summary("forward"),
            "baseline_nft_add_element_process_ms": summary("shell"),
            "client_floor_get_api_captive_ms": summary("floor"),
            "ratio_p50_portald_vs_nft_process": {"median": round(statistics.median(ratios), 3),
                                                 "spread": [round(min(ratios), 3), round(max(ratios), 3)]},
        }
        print(json.dumps(result, indent=2))
    finally:
        cleanup()
        subprocess.run(["rm", "-rf", work])

if __name__ == "__main__":
    main()
