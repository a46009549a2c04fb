# SPDX-License-Identifier: MIT
"""What the loopback fakes of Consul and Vault share: a lock, the request
log that the test scripts read, and the scripted faults of a scenario."""

import json
import re
import threading


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
