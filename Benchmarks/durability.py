#!/usr/bin/env python3
"""[store] synchronous = "full" against "normal": what durability costs.

Alternates ROUNDS (default 6) rounds; each round runs, for both settings in
turn (the order swapped every round):
  - login_latency.py with ROUNDS=1 COUNT=100: login -> first packet p50/p99,
    in the three-namespace lab;
  - webhooks.py's drain of QUEUED (default 1000) queued events, ordered
    (one at a time, every attempt recorded in its own commit): deliveries/s.
Prints each round, then per setting the median and spread (min-max) and the
ratio full/normal. Bounded: ROUNDS x 2 x (100 logins + QUEUED events).
"""
import json, os, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROUNDS = int(os.environ.get("ROUNDS", "6"))
QUEUED = int(os.environ.get("QUEUED", "1000"))
sys.path.insert(0, HERE)
import webhooks  # noqa: E402  (its drain() and receiver)


def login(mode):
    env = dict(os.environ, ROUNDS="1", COUNT="100", SYNCHRONOUS=mode)
    out = subprocess.run([sys.executable, os.path.join(HERE, "login_latency.py")], env=env, capture_output=True, text=True, check=True).stdout
    forward = json.loads(out)["login_to_first_forwarded_packet_ms"]
    return forward["p50_median"], forward["p99_median"]


def outbox(work, mode):
    webhooks.SYNCHRONOUS = mode
    _, result = webhooks.drain(work, "ordered", QUEUED)
    return result["deliveries_per_second"]


def main():
    work = tempfile.mkdtemp(prefix="portald-durability-")
    receiver_bin = os.path.join(work, "c_receiver")
    subprocess.run(["gcc", "-O2", "-o", receiver_bin, os.path.join(HERE, "c_receiver.c")]
                   + subprocess.run(["pkg-config", "--cflags", "--libs", "libmicrohttpd"], capture_output=True, text=True).stdout.split(), check=True)
    receiver = subprocess.Popen([receiver_bin, str(webhooks.RECEIVER)])
    samples = {mode: {"p50": [], "p99": [], "rate": []} for mode in ("full", "normal")}
    try:
        for r in range(ROUNDS):
            for mode in (("full", "normal") if r % 2 == 0 else ("normal", "full")):
                p50, p99 = login(mode)
                rate = outbox(work, mode)
                for key, value in (("p50", p50), ("p99", p99), ("rate", rate)):
                    samples[mode][key].append(value)
                print(f"round {r + 1} {mode:6}: login->packet p50 {p50} ms p99 {p99} ms; outbox {rate} deliveries/s", file=sys.stderr, flush=True)
    finally:
        receiver.terminate()
        subprocess.run(["rm", "-rf", work])

    def summary(values):
        return {"median": round(statistics.median(values), 3), "spread": [min(values), max(values)]}
    result = {"rounds": ROUNDS, "queued_events": QUEUED}
    for mode in samples:
        result[mode] = {"login_to_first_packet_p50_ms": summary(samples[mode]["p50"]),
                        "login_to_first_packet_p99_ms": summary(samples[mode]["p99"]),
                        "outbox_ordered_deliveries_per_second": summary(samples[mode]["rate"])}
    ratios = lambda key: [f / n for f, n in zip(samples["full"][key], samples["normal"][key])]
    result["full_over_normal"] = {key: {"median": round(statistics.median(ratios(key)), 3),
                                        "spread": [round(min(ratios(key)), 3), round(max(ratios(key)), 3)]}
                                  for key in ("p50", "p99", "rate")}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
