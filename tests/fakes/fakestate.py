# SPDX-License-Identifier: MIT
"""What the loopback fakes of Consul, Vault and OFREP share: a lock, the
request log that the test scripts read, the scripted faults of a scenario,
and the command line and serving loop of each fake."""

import json
import re
import signal
import sys
import threading
from http.server import ThreadingHTTPServer


class FakeState:
    """The base of a fake's State: call __init__ first."""

    def __init__(self, scenario, log_path):
        self.lock = threading.Lock()
        self.sc = scenario
        self.faults = [dict(f) for f in scenario.get("faults", [])]
        self.log = open(log_path, "a", encoding="utf-8")

    def record(self, entry):
        """Append one request to the log, one JSON object a line."""
        with self.lock:
            self.log.write(json.dumps(entry, sort_keys=True) + "\n")
            self.log.flush()

    def fault(self, method, path):
        """The first fault that matches and has uses left, used once."""
        with self.lock:
            for f in self.faults:
                if f.get("times") is not None and f["times"] <= 0:
                    continue
                if "method" in f and f["method"] != method:
                    continue
                if not re.search(f.get("path", ""), path):
                    continue
                if f.get("times") is not None:
                    f["times"] -= 1
                return dict(f)
        return None


def serve(prog, load, handler):
    """The main of a fake: PROG SCENARIO.json LOG.jsonl.  load(scenario,
    log_path) makes the fake's state (and keeps it where its handler finds
    it); then it listens on a loopback port the kernel picks, prints it as
    the first line of stdout, and serves until SIGTERM.  Returns the exit
    status."""
    if len(sys.argv) != 3:
        sys.stderr.write("usage: %s SCENARIO.json LOG.jsonl\n" % prog)
        return 64
    with open(sys.argv[1], encoding="utf-8") as f:
        load(json.load(f), sys.argv[2])
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except (SystemExit, KeyboardInterrupt):
        pass
    return 0
