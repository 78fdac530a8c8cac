#!/usr/bin/env python3
"""A small HTTP proxy that puts server failures in front of a real server.

    scripts/fault-proxy.py UPSTREAM PORT_FILE

Listens on 127.0.0.1 (a free port, written to PORT_FILE once it listens) and forwards
every request to UPSTREAM (e.g. http://127.0.0.1:8080), headers and body included.

Faults are armed over HTTP, so a test decides what fails and when:

    POST /__fault__?method=GET&path=/api/v1/accounts/verify_credentials&status=502&count=2
        the next `count` requests with that method whose path starts with `path` get
        `status`, with an HTML error page as a gateway sends it;
    GET /__fault__
        {"armed": N, "served": N, "reset": "…"}: faults left, faults answered, and the
        X-RateLimit-Reset the last fault carried.

A faulty request is still forwarded and only its answer replaced, so the failure carries
the server's own headers (a Mastodon server's X-RateLimit-* on every response, the reset
being the end of the rate-limit window, minutes away). Arm faults on reads only: the
server does act on the request.

Standard library only; crier's scripts/mastodon-server-test.sh starts it.
"""

import http
import http.client
import http.server
import json
import sys
import threading
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}

upstream = urllib.parse.urlsplit(sys.argv[1])
lock = threading.Lock()
state = {"faults": [], "served": 0, "reset": None}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the test prints what matters
        pass

    def reply(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def control(self):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        with lock:
            if self.command == "POST":
                one = lambda k, d: query.get(k, [d])[0]
                fault = {"method": one("method", "GET"), "path": one("path", "/"), "status": int(one("status", "502"))}
                state["faults"].extend(dict(fault) for _ in range(int(one("count", "1"))))
            out = {"armed": len(state["faults"]), "served": state["served"], "reset": state["reset"]}
        self.reply(200, [("Content-Type", "application/json")], json.dumps(out).encode())

    def fault_for(self, path):
        with lock:
            for i, f in enumerate(state["faults"]):
                if f["method"] == self.command and path.startswith(f["path"]):
                    return state["faults"].pop(i)
        return None

    def forward(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/__fault__":
            return self.control()
        fault = self.fault_for(path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "host"}
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port or 80, timeout=60)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            status, got, data = resp.status, resp.getheaders(), resp.read()
        except OSError as e:
            status, got, data = 502, [("Content-Type", "text/plain")], f"upstream: {e}".encode()
        finally:
            conn.close()
        if fault:
            keep = [(k, v) for k, v in got if k.lower().startswith("x-ratelimit")]
            with lock:
                state["served"] += 1
                state["reset"] = next((v for k, v in keep if k.lower() == "x-ratelimit-reset"), None)
            code = fault["status"]
            title = f"{code} {http.HTTPStatus(code).phrase}"
            page = f"<html><head><title>{title}</title></head><body>{title}</body></html>".encode()
            return self.reply(code, keep + [("Content-Type", "text/html; charset=utf-8")], page)
        self.reply(status, got, data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    with open(sys.argv[2], "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
