#!/usr/bin/env python3
"""portald with 10 000 devices, in a private network namespace, against nft in the same run.

Every session is in one tier with both rates (two more sets of COUNT elements, each with
its own rate limit), and a walled garden is configured, as a hotel runs it. Each of ROUNDS
(default 6) rounds, in order:
  - cold start: a database holding COUNT (10 000) live sessions; time from exec to the
    portal listener answering, and the install's own time (its one netlink transaction,
    as `portald firewall show` reports it: last_repair of cause "start");
  - reconcile: the reconciler's own time with COUNT sessions (reconcile_seconds = 2,
    read from `firewall show`, the median of RECONCILES samples each): reading back the
    guests' sets, the tier's and the garden's after another process committed
    (reconcile_ms), and when the ruleset's generation shows nothing but portald's own
    commits since (reconcile_unchanged_ms);
  - RSS (VmRSS) with COUNT sessions, against the same daemon idle (no sessions) started
    right after;
  - single authorizations: AUTHS (default 10 000) POST /api/v1/clients/{mac}/auth over one
    keep-alive connection with the rest in place (the login path: SQLite write and fsync,
    netlink), against `nft add element` processes (NFT_ADDS, default 100);
  - baselines: `nft -f` of the same elements (authorized, acct_up, acct_down and the
    tier's two rate-limited sets: 5 x COUNT), and `nft -j list set` of the authorized set
    (a dump, as a reconcile reads every set back).
Prints each round and the median and spread (min-max) over the rounds as JSON.
Run after `swift build -c release` (or set PORTALD_BIN). The namespace is deleted on exit.
"""
import http.client, json, os, sqlite3, statistics, subprocess, sys, tempfile, time, uuid

COUNT = int(os.environ.get("COUNT", "10000"))
AUTHS = int(os.environ.get("AUTHS", "10000"))
NFT_ADDS = int(os.environ.get("NFT_ADDS", "100"))
ROUNDS = int(os.environ.get("ROUNDS", "6"))
RECONCILES = int(os.environ.get("RECONCILES", "5"))
TIER_DOWN_KBPS, TIER_UP_KBPS = 20000, 5000
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
            # As a hotel runs it: every guest in a rate-limited tier, a walled garden.
            f.write(f'''[site]\nid = "bench"\nname = "Bench"\n[portal]\nlisten = "192.0.2.1:8080"\npublic_url = "http://192.0.2.1:8080/"
lan_interface = "lan0"\ntier = "standard"\n[firewall]\ntable = "portald"\nreconcile_seconds = 2
walled_garden = ["198.51.100.0/24", "2001:db8:99::/48"]\n[[firewall.tiers]]\nname = "standard"\ndown_kbps = {TIER_DOWN_KBPS}\nup_kbps = {TIER_UP_KBPS}
[store]\npath = "{self.db}"\n[admin]\nlisten = "127.0.0.1:8081"\n[log]\nlevel = "warning"\n''')
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
            db.executemany("INSERT INTO session(id, mac, method, started_at, expires_at, bytes_up, bytes_down, tier) VALUES (?, ?, 'admin', ?, ?, 0, 0, 'standard')",
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
        # The tier's two sets, each element with its own rate limit.
        for name, kbps in (("tier_up", TIER_UP_KBPS), ("tier_down", TIER_DOWN_KBPS)):
            rate = kbps * 125
            f.write(f"  set {name} {{ type ipv4_addr; flags timeout; limit rate over {rate} bytes/second burst {max(rate // 4, 16384)} bytes; elements = {{\n")
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
            # The reconciler with COUNT sessions: its own timing, every 2 s and a little (the
            # housekeeping tick). A reconcile reads every set back when another process has
            # committed since the last one (here an empty table added after every other sample),
            # else the ruleset's generation tells it nothing changed. `firewall show` reads
            # every set too, and may now and then run beside the reconcile it reports: polled
            # every 2.3 s, its phase drifts, and the median of the samples stands.
            readback, unchanged, seen = [], [], set()
            deadline = time.time() + 6 * RECONCILES + 10
            while (len(readback) < RECONCILES or len(unchanged) < RECONCILES) and time.time() < deadline:
                last = full.firewall()["last_reconcile"]
                if last["cause"] == "the timer" and last["at"] not in seen:
                    seen.add(last["at"])
                    (readback if last["read_back"] else unchanged).append(last["duration_ms"])
                    if not last["read_back"]:  # another process's commits: the next one reads back
                        inside("nft", "add", "table", "inet", "someone_else")
                        inside("nft", "delete", "table", "inet", "someone_else")
                time.sleep(2.3)
            if len(readback) < RECONCILES or len(unchanged) < RECONCILES:
                sys.exit(f"round {r + 1}: {len(readback)} read-back and {len(unchanged)} unchanged reconciles seen before the deadline, not {RECONCILES} each")
            row["reconcile_ms"] = statistics.median(readback)
            row["reconcile_unchanged_ms"] = statistics.median(unchanged)
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
