#!/usr/bin/env python3
"""portald with 10 000 devices, in a private network namespace, against nft in the same run.

Each of ROUNDS (default 6) rounds, in order:
  - cold start: a database holding COUNT (10 000) live sessions; time from exec to the
    portal listener answering, and the install's own time (its one netlink transaction,
    as `portald firewall show` reports it: last_repair of cause "start");
  - baseline: `nft -f` of the same table with the same 3 x COUNT elements (authorized,
    acct_up, acct_down), and `nft -j list set` of the authorized set (a dump, as a
    reconcile reads every set back);
  - reconcile: the reconciler's own time with COUNT sessions (reconcile_seconds = 2,
    read from `firewall show`, RECONCILES samples);
  - RSS (VmRSS) with COUNT sessions, against the same daemon idle (no sessions) started
    right after;
  - single authorizations: AUTHS (default 10 000) POST /api/v1/clients/{mac}/auth over one
    keep-alive connection with the rest in place (the login path: SQLite write and fsync,
    netlink), against `nft add element` processes (NFT_ADDS, default 100).
Prints each round and the median and spread (min-max) over the rounds as JSON.
Run after `swift build -c release` (or set PORTALD_BIN). The namespace is deleted on exit.
"""
import http.client, json, os, sqlite3, statistics, subprocess, sys, tempfile, time, uuid

COUNT = int(os.environ.get("COUNT", "10000"))
AUTHS = int(os.environ.get("AUTHS", "10000"))
NFT_ADDS = int(os.environ.get("NFT_ADDS", "100"))
ROUNDS = int(os.environ.get("ROUNDS", "6"))
RECONCILES = int(os.environ.get("RECONCILES", "3"))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("PORTALD_BIN", os.path.join(ROOT, ".build/release/portald"))
NS = f"pdscale{os.getpid()}"


def sh(*args, check=True, **kw):
    return subprocess.run(args, check=check, capture_output=True, text=True, **kw)


def inside(*args, check=True):
    return sh("ip", "netns", "exec", NS, *args, check=check)


def mac(n, prefix=0):
    return f"02:{prefix:02x}:00:{n >> 16 & 0xff:02x}:{n >> 8 & 0xff:02x}:{n & 0xff:02x}"


def ipv4(n, net=10):
    return f"{net}.{n >> 16 & 0xff}.{n >> 8 & 0xff}.{n & 0xff}"


def grdb_time(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + ".000"


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class Daemon:
    def __init__(self, work, name):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.config = os.path.join(self.dir, "portald.toml")
        self.db = os.path.join(self.dir, "portald.db")
        with open(self.config, "w") as f:
            f.write(f'''[site]\nid = "bench"\nname = "Bench"\n[portal]\nlisten = "192.0.2.1:8080"\npublic_url = "http://192.0.2.1:8080/"
lan_interface = "lan0"\n[firewall]\ntable = "portald"\nreconcile_seconds = 2\n[store]\npath = "{self.db}"
[admin]\nlisten = "127.0.0.1:8081"\n[log]\nlevel = "warning"\n''')
        self.process = None

    def start(self):
        started = time.perf_counter()
        self.process = subprocess.Popen(["ip", "netns", "exec", NS, BIN, "serve", "--config", self.config],
                                        stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "log"), "a"))
        while inside("curl", "-s", "-o", "/dev/null", "--max-time", "1", "http://192.0.2.1:8080/api/captive", check=False).returncode != 0:
            if self.process.poll() is not None:
                sys.exit(f"portald exited: see {self.dir}/log")
            time.sleep(0.005)
        return time.perf_counter() - started

    def stop(self):
        self.process.terminate()
        self.process.wait(20)

    def rss_kb(self):
        # `ip netns exec` execs portald: the pid is portald's.
        with open(f"/proc/{self.process.pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

    def cli(self, *args):
        return inside(BIN, *args, "--config", self.config).stdout

    def firewall(self):
        return json.loads(self.cli("firewall", "show", "--json"))

    def fill(self, count):
        """Writes `count` live sessions straight into the database (as a restart finds them)."""
        db = sqlite3.connect(self.db)
        now = time.time()
        with db:
            db.execute("DELETE FROM session_address")
            db.execute("DELETE FROM session")
            db.executemany("INSERT INTO session(id, mac, method, started_at, expires_at, bytes_up, bytes_down) VALUES (?, ?, 'admin', ?, ?, 0, 0)",
                           ((f"s{n}", mac(n), grdb_time(now), grdb_time(now + 86400)) for n in range(count)))
            db.executemany("INSERT INTO session_address(session_id, family, address) VALUES (?, 'ipv4', ?)",
                           ((f"s{n}", ipv4(n)) for n in range(count)))
        db.close()


INNER = r'''
import http.client, json, sys, time
token, count, offset = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
connection = http.client.HTTPConnection("127.0.0.1", 8081)
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
times = []
for n in range(offset, offset + count):
    mac = f"02:01:00:{n >> 16 & 0xff:02x}:{n >> 8 & 0xff:02x}:{n & 0xff:02x}"
    body = json.dumps({"ipv4": f"172.{16 + (n >> 16 & 0x0f)}.{n >> 8 & 0xff}.{n & 0xff}"})
    started = time.perf_counter()
    connection.request("POST", f"/api/v1/clients/{mac}/auth", body=body, headers=headers)
    answer = connection.getresponse()
    answer.read()
    times.append((time.perf_counter() - started) * 1000)
    assert answer.status == 201, answer.status
print(json.dumps(times))
'''


def nft_table_file(path, count):
    with open(path, "w") as f:
        f.write("table inet portald_nft {\n")
        f.write("  set authorized { type ether_addr . ipv4_addr; flags timeout; elements = {\n")
        f.write(",\n".join(f"    {mac(n, 3)} . {ipv4(n)} timeout 1d" for n in range(count)))
        f.write("\n  } }\n")
        for name in ("acct_up", "acct_down"):
            f.write(f"  set {name} {{ type ipv4_addr; flags timeout; counter; elements = {{\n")
            f.write(",\n".join(f"    {ipv4(n)} timeout 1d" for n in range(count)))
            f.write("\n  } }\n")
        f.write("}\n")


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"build first: swift build -c release (no {BIN})")
    work = tempfile.mkdtemp(prefix="portald-scale-")
    try:
        sh("ip", "netns", "add", NS)
        inside("ip", "link", "set", "lo", "up")
        inside("ip", "link", "add", "lan0", "type", "veth", "peer", "name", "lan1")
        inside("ip", "addr", "add", "192.0.2.1/24", "dev", "lan0")
        inside("ip", "link", "set", "lan0", "up")
        inside("ip", "link", "set", "lan1", "up")
        table = os.path.join(work, "table.nft")
        nft_table_file(table, COUNT)
        full, idle = Daemon(work, "full"), Daemon(work, "idle")
        for daemon in (full, idle):  # migrate both databases once
            daemon.start()
            daemon.stop()
        token = open(os.path.join(full.dir, "admin.token")).read().strip()
        rounds = []
        for r in range(ROUNDS):
            row = {}
            # portald: cold start with COUNT sessions, its install, RSS.
            full.fill(COUNT)
            row["cold_start_ms"] = full.start() * 1000
            status = full.firewall()
            row["install_ms"] = status["last_repair"]["duration_ms"]
            assert next(s["elements"] for s in status["sets"] if s["name"] == "authorized") == COUNT
            row["rss_full_mb"] = full.rss_kb() / 1024
            # The reconciler with COUNT sessions: its own timing, every 2 s.
            seen = []
            deadline = time.time() + 4 * RECONCILES + 4
            while len(seen) < RECONCILES and time.time() < deadline:
                last = full.firewall()["last_reconcile"]
                if last["cause"] == "the timer" and last["at"] not in [s[0] for s in seen]:
                    seen.append((last["at"], last["duration_ms"]))
                time.sleep(0.5)
            row["reconcile_ms"] = statistics.median(s[1] for s in seen)
            # Single authorizations with the rest in place.
            times = json.loads(inside("python3", "-c", INNER, token, str(AUTHS), str(r * AUTHS)).stdout)
            row["auth_p50_ms"], row["auth_p99_ms"] = percentile(times, 50), percentile(times, 99)
            full.stop()
            inside("nft", "delete", "table", "inet", "portald", check=False)
            # The same daemon idle.
            idle.start()
            row["rss_idle_mb"] = idle.rss_kb() / 1024
            idle.stop()
            inside("nft", "delete", "table", "inet", "portald", check=False)
            # Baselines: nft -f of the same elements, nft's dump of a set, nft add element processes.
            started = time.perf_counter()
            inside("nft", "-f", table)
            row["nft_f_ms"] = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            inside("nft", "-j", "list", "set", "inet", "portald_nft", "authorized")
            row["nft_list_ms"] = (time.perf_counter() - started) * 1000
            adds = []
            for n in range(NFT_ADDS):
                started = time.perf_counter()
                inside("nft", "add", "element", "inet", "portald_nft", "authorized", f"{{ {mac(n, 4)} . {ipv4(n, 11)} timeout 1h }}")
                adds.append((time.perf_counter() - started) * 1000)
            row["nft_add_p50_ms"] = percentile(adds, 50)
            inside("nft", "delete", "table", "inet", "portald_nft")
            row["install_vs_nft_f"] = row["install_ms"] / row["nft_f_ms"]
            row["rss_added_mb"] = row["rss_full_mb"] - row["rss_idle_mb"]
            rounds.append(row)
            print(f"round {r + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()), file=sys.stderr, flush=True)
        summary = {key: {"median": round(statistics.median(r[key] for r in rounds), 3),
                         "spread": [round(min(r[key] for r in rounds), 3), round(max(r[key] for r in rounds), 3)]}
                   for key in rounds[0]}
        print(json.dumps({"rounds": ROUNDS, "sessions": COUNT, "authorizations_per_round": AUTHS, **summary}, indent=2))
    finally:
        for pid in sh("ip", "netns", "pids", NS, check=False).stdout.split():
            sh("kill", "-9", pid, check=False)
        sh("ip", "netns", "del", NS, check=False)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
