#!/usr/bin/env python3
"""A minimal authoritative DNS server for the lab: A and AAAA answers from a JSON
map {"name": {"A": [...], "AAAA": [...], "ttl": N}}, NXDOMAIN for other names,
an empty answer for other types. UDP only. Prints "ready" once listening."""
import argparse, json, socket, struct

parser = argparse.ArgumentParser()
parser.add_argument("--bind", required=True)
parser.add_argument("--zone", required=True)
args = parser.parse_args()
zone = {name.lower().rstrip("."): entry for name, entry in json.load(open(args.zone)).items()}

def name_at(data, offset):
    labels = []
    while data[offset]:
        length = data[offset]
        labels.append(data[offset + 1:offset + 1 + length].decode())
        offset += 1 + length
    return ".".join(labels).lower(), offset + 1

family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
sock = socket.socket(family, socket.SOCK_DGRAM)
sock.bind((args.bind, 53))
print("ready", flush=True)
while True:
    data, peer = sock.recvfrom(512)
    ident, flags, qdcount = struct.unpack("!HHH", data[:6])
    name, end = name_at(data, 12)
    qtype, _ = struct.unpack("!HH", data[end:end + 4])
    question = data[12:end + 4]
    entry = zone.get(name)
    answers = b""
    count = 0
    if entry:
        for address in entry.get("A" if qtype == 1 else "AAAA" if qtype == 28 else "-", []):
            raw = socket.inet_pton(socket.AF_INET if qtype == 1 else socket.AF_INET6, address)
            answers += b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, entry.get("ttl", 300), len(raw)) + raw
            count += 1
    rcode = 0 if entry else 3
    header = struct.pack("!HHHHHH", ident, 0x8400 | rcode, 1, count, 0, 0)
    sock.sendto(header + question + answers, peer)
