#!/usr/bin/env python3
"""A deliberately broken coordinator for fault tests of softcopy-agent.

It grants the same one-file lease over and over and serves that file's bytes wrongly:
  --mode mismatch  the right length with a checksum header that does not match
  --mode truncate  a Content-Length larger than the bytes it sends, then it hangs up
Every ack it receives is appended to --acks (one JSON document per line). It prints
"listening on http://127.0.0.1:PORT" once it is ready.
"""
import argparse
import http.server
import json
import sys

CONTENT = b"softcopy fault injection " * 400


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["mismatch", "truncate"], required=True)
    p.add_argument("--acks", required=True)
    p.add_argument("--job", default="jfake")
    args = p.parse_args()
    lease = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n)

        def json(self, status, value):
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            data = self.body()
            if self.path.endswith("/lease"):
                lease["n"] += 1
                self.json(200, {"items": [{"target": 0, "path": "c/0/0", "op": "copy", "lease": lease["n"], "size": len(CONTENT)}],
                                "finished": False})
            elif self.path.endswith("/ack"):
                with open(args.acks, "a") as f:
                    f.write(data.decode() + "\n")
                self.json(200, {"accepted": 1, "stale": 0})
            else:
                self.json(404, {"error": "no such endpoint"})

        def do_GET(self):
            if "/files/" not in self.path:
                self.json(404, {"error": "no such endpoint"})
                return
            self.send_response(200)
            self.send_header("X-Softcopy-Version", f"1:{len(CONTENT)}:1700000000000000000:1700000000000000000")
            self.send_header("X-Softcopy-Checksum", "0" * 32)
            if args.mode == "truncate":
                # Announce everything, send half, hang up.
                self.send_header("Content-Length", str(len(CONTENT)))
                self.end_headers()
                self.wfile.write(CONTENT[: len(CONTENT) // 2])
                self.wfile.flush()
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(CONTENT)))
                self.end_headers()
                self.wfile.write(CONTENT)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
