#!/usr/bin/env python3
"""A webhook receiver for the tests of `notify: webhook:`: listens on 127.0.0.1 (a port of
its own, written to PORT_FILE), answers the first --fail-first POSTs with 500, and appends
the JSON body of every POST it accepts to OUT, one line each.

usage: tools/webhook_receiver.py PORT_FILE OUT [--fail-first N]
"""
import argparse
import http.server
import json


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port_file")
    p.add_argument("out")
    p.add_argument("--fail-first", type=int, default=0)
    args = p.parse_args()
    state = {"refused": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if state["refused"] < args.fail_first:
                state["refused"] += 1
                self.send_response(500)
                self.end_headers()
                return
            json.loads(body)  # a body that is not JSON fails the handler, and the test
            with open(args.out, "a") as f:
                f.write(body.decode() + "\n")
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
