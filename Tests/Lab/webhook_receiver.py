#!/usr/bin/env python3
"""A webhook receiver for portald's tests: verifies every delivery with the
independent `standardwebhooks` package (and X-Signature with hmac), answers
according to a plan, and logs each request as one JSON line.

plan.json: {"/path": [500, 200, ...]}; each request to a path takes the next
entry (the last repeats; no entry: 204). An entry may also be an object:
{"status": 429, "retry_after": "1", "sleep_ms": 100}.
"""
import argparse, base64, hashlib, hmac, json, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from standardwebhooks import Webhook

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--secret", action="append", required=True, help="whsec_ secrets that count as valid")
parser.add_argument("--secret-file", default=None, help="more secrets, one a line, read at every request (for secrets made later)")
parser.add_argument("--plan", default=None)
parser.add_argument("--log", required=True)
parser.add_argument("--sleep-ms", type=int, default=0)
parser.add_argument("--tls-cert", default=None, help="serve HTTPS with this certificate (and --tls-key)")
parser.add_argument("--tls-key", default=None)
args = parser.parse_args()

plan = json.load(open(args.plan)) if args.plan else {}
counters = {}
lock = threading.Lock()
log = open(args.log, "a", buffering=1)


def secrets():
    extra = []
    if args.secret_file:
        try:
            extra = [line.strip() for line in open(args.secret_file) if line.strip()]
        except OSError:
            pass
    return args.secret + extra


def cloud_event(body, headers):
    """Structured-mode CloudEvents, parsed by the independent cloudevents SDK."""
    if not headers.get("content-type", "").startswith("application/cloudevents+json"):
        return None, None
    try:
        # The strict reader of cloudevents 2.x: required attributes, an RFC 3339 time, the format's rules.
        from cloudevents.core.bindings.http import HTTPMessage, from_http
        from cloudevents.core.formats.json import JSONFormat
        event = from_http(HTTPMessage(headers=headers, body=body), JSONFormat())
        attributes = event.get_attributes()
        if attributes["time"].tzinfo is None:
            raise ValueError("time has no zone")
        result = {k: str(attributes[k]) for k in ("specversion", "id", "source", "type", "datacontenttype")}
        result["time"] = attributes["time"].isoformat()
        result["data"] = json.dumps(event.get_data(), sort_keys=True)
        return result, None
    except Exception as error:
        return None, f"{type(error).__name__}: {error}"


def verify(body, headers):
    for secret in secrets():
        try:
            Webhook(secret).verify(body, headers)
            return True
        except Exception:
            continue
    return False


def x_signature_ok(body, header):
    for secret in secrets():
        key = base64.b64decode(secret[len("whsec_"):])
        if header == "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest():
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        with lock:
            steps = plan.get(self.path, [])
            index = counters.get(self.path, 0)
            counters[self.path] = index + 1
        step = steps[min(index, len(steps) - 1)] if steps else 204
        if isinstance(step, int):
            step = {"status": step}
        time.sleep((args.sleep_ms + step.get("sleep_ms", 0)) / 1000)
        try:
            envelope = json.loads(body)
        except ValueError:
            envelope = {}
        record = {
            "path": self.path, "received_at": time.time(), "status": step["status"],
            "webhook_id": headers.get("webhook-id"), "webhook_timestamp": headers.get("webhook-timestamp"),
            "idempotency_key": headers.get("idempotency-key"), "user_agent": headers.get("user-agent"),
            "content_type": headers.get("content-type"), "signature": headers.get("webhook-signature"),
            "verified": verify(body, headers), "x_signature_ok": x_signature_ok(body, headers.get("x-signature", "")),
            "id": envelope.get("id"), "event": envelope.get("event"), "site_id": envelope.get("site_id"),
            "created_at": envelope.get("created_at"), "data": envelope.get("data"),
        }
        record["cloud_event"], record["cloud_event_error"] = cloud_event(body, headers)
        log.write(json.dumps(record) + "\n")
        self.send_response(step["status"])
        if "retry_after" in step:
            self.send_header("Retry-After", step["retry_after"])
        if "location" in step:
            self.send_header("Location", step["location"])
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


ThreadingHTTPServer.daemon_threads = True
server = ThreadingHTTPServer((args.host, args.port), Handler)
if args.tls_cert:
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(f"ready {server.server_address[1]}", flush=True)
server.serve_forever()
