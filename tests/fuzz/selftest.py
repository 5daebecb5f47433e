"""Checks the fuzzer's checks: runs schemathesis with hooks.py for a few seconds against a fake
GraphQL server whose fields answer each kind of fault (and two that are fine), and fails unless
each fault was found on its field and nothing was found on the others. So a fuzzing run that
finds nothing means the server gave nothing to find, not that the checks were asleep.

    python selftest.py   (run.sh runs it first, with the virtualenv's python)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
SDL = "type Query { " + " ".join(f"{f}(x: Int): Int" for f in "abcdefg") + " }"
ANSWERS = {
    "a": (500, {"errors": [{"message": "boom", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}),
    "b": (200, {"data": None, "errors": [{"message": "no code", "path": ["b"]}]}),
    "c": (200, {"data": None, "errors": [{"message": "internal error", "path": ["c"], "extensions": {"code": "INTERNAL"}}]}),
    "d": (200, {"data": None, "errors": [{"message": "error returned from database: SELECT id FROM person",
                                          "path": ["d"], "extensions": {"code": "VALIDATION"}}]}),
    "e": (200, {"data": None, "errors": [{"message": "invalid input: x: too big", "path": ["e"],
                                          "extensions": {"code": "VALIDATION"}}]}),
    "f": (200, {"data": {"f": 1}}),
}
# `g` closes the connection without an answer, as a request that panics does.
EXPECTED = {"Query.a": "5xx", "Query.b": "no code", "Query.c": "INTERNAL", "Query.d": "leak", "Query.g": "no answer"}


class Fake(BaseHTTPRequestHandler):
    def do_POST(self):
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["query"]
        if "login(" in query:
            status, body = 200, {"data": {"login": {"accessToken": "t", "user": {"id": "x"}}}}
        else:
            field = re.search(r"\{\s*(\w+)", query).group(1)
            if field == "g":
                self.close_connection = True
                return
            status, body = ANSWERS[field]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def main() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/graphql"
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        (work / "schema.graphql").write_text(SDL)
        (work / "ids.json").write_text('{"own": [], "all": []}')
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": str(HERE), "CBSS_FUZZ_URL": url,
               "CBSS_FUZZ_EMAIL": "fuzz@example.mn", "CBSS_FUZZ_IDS": str(work / "ids.json"),
               "CBSS_FUZZ_STATS": str(work / "stats.json")}
        checks = "cbss_no_server_error,cbss_errors_have_codes,cbss_no_internal,cbss_no_leaks"
        subprocess.run(
            [str(Path(sys.executable).with_name("schemathesis")), "run", str(work / "schema.graphql"), "--url", url,
             "--max-time", "5", "--checks", checks, "--generation-database", "none", "--no-color"],
            env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=120,
        )
        findings = json.loads((work / "stats.json").read_text())["findings"]
    server.shutdown()
    found = {(key.split(": ")[1], key.split(": ")[0]) for key in findings}
    missed = [f"{op} ({kind})" for op, kind in EXPECTED.items() if (op, kind) not in found]
    wrong = sorted(f"{op} ({kind})" for op, kind in found if EXPECTED.get(op) != kind)
    if missed or wrong:
        print(f"fuzz self-test FAILED: missed {missed or 'nothing'}; wrongly reported {wrong or 'nothing'}")
        return 1
    print("fuzz self-test: each check finds its fault on a fake server, and nothing on good answers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
