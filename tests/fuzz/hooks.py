"""Schemathesis hooks for fuzzing the CBSS GraphQL API (loaded with SCHEMATHESIS_HOOKS=hooks).

Signs in as one demo user (CBSS_FUZZ_EMAIL / CBSS_FUZZ_PASSWORD at CBSS_FUZZ_URL), sends that
user's token with every generated operation, and checks every answer:

  cbss_no_server_error     no HTTP 5xx
  cbss_errors_have_codes   the body is JSON, and every entry of `errors` has `extensions.code`
  cbss_no_internal         no error has the code INTERNAL (a fault the client did not cause)
  cbss_no_leaks            no SQL, driver, panic or file-path text in the answer

and counts a request that got no answer at all (a dropped connection: a panic, a crash) as a
finding too.

Counts what it sent and what it found into CBSS_FUZZ_STATS (JSON) when the process ends.
"""

from __future__ import annotations

import atexit
import datetime
import http.client
import json
import os
import re
import threading
from collections import Counter
from urllib.parse import urlsplit

import graphql
import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

URL = os.environ["CBSS_FUZZ_URL"]  # http://127.0.0.1:PORT/graphql
EMAIL = os.environ["CBSS_FUZZ_EMAIL"]
PASSWORD = os.environ.get("CBSS_FUZZ_PASSWORD", "demo-password")
STATS = os.environ.get("CBSS_FUZZ_STATS")

# ---------------------------------------------------------------------------------------------
# Scalars the generator does not know. Mostly well-formed values (so operations get past argument
# coercion and into the resolvers), some not (so coercion's VALIDATION answers are fuzzed too).

_bad_text = st.text(max_size=12)
# Ids that exist: the fuzzing role's own (in its scope: households, people, units, projects,
# records...) and those of the widest role (mostly out of the others' scope), from fuzz.py.
_ids = {}
if os.environ.get("CBSS_FUZZ_IDS"):
    with open(os.environ["CBSS_FUZZ_IDS"], encoding="utf-8") as f:
        _ids = json.load(f)
_known = [st.sampled_from(v) for v in (_ids.get("own"), _ids.get("all")) if v]
schemathesis.graphql.scalar(
    "NaiveDate",
    st.one_of(
        st.dates(min_value=datetime.date(2005, 1, 1), max_value=datetime.date.today()).map(str),
        st.dates(min_value=datetime.date.today() - datetime.timedelta(days=5 * 366),
                 max_value=datetime.date.today()).map(str),
        st.dates().map(str),
        _bad_text,
    ).map(nodes.String),
)
schemathesis.graphql.scalar(
    "UUID",
    st.one_of(*_known, *_known, st.uuids().map(str), _bad_text).map(nodes.String),
)
schemathesis.graphql.scalar(
    "DateTime",
    st.one_of(
        st.datetimes().map(lambda d: d.isoformat() + "Z"),
        st.datetimes().map(lambda d: d.isoformat()),
        _bad_text,
    ).map(nodes.String),
)

# ---------------------------------------------------------------------------------------------
# Long lists. The generator writes short lists; one case in four has one list of its document
# grown to 101, 1,000, 5,000 or 10,001 values (objects: 101 or 1,000), its values repeated: past
# the API's limits (100 values a filter's list, 10,000 any list) and near the databases' (SQLite
# nests expressions 1,000 deep and binds 32,766 parameters a statement). A few thousand ages in
# a filter once overflowed the server's stack.

_SIZES = (101, 1_000, 5_000, 10_001)


def _lists(doc) -> list:
    found = []

    class Collect(graphql.Visitor):
        def enter_list_value(self, node, *_):
            if node.values:
                found.append(node)

    graphql.visit(doc, Collect())
    return found


def _grow(doc, index: int, size: int):
    target = _lists(doc)[index]
    if isinstance(target.values[0], graphql.ObjectValueNode):
        size = min(size, 1_000)
    values = tuple(target.values[i % len(target.values)] for i in range(size))

    class Grow(graphql.Visitor):
        def enter_list_value(self, node, *_):
            if node is target:
                return graphql.ListValueNode(values=values)
            return None

    return graphql.visit(doc, Grow())


@schemathesis.hook
def flatmap_body(ctx, body):
    if not isinstance(body, graphql.DocumentNode):
        return st.just(body)
    n = len(_lists(body))
    if n == 0:
        return st.just(body)
    choice = st.tuples(st.integers(0, 3), st.integers(0, n - 1), st.sampled_from(_SIZES))
    return choice.map(lambda c: _grow(body, c[1], c[2]) if c[0] == 0 else body)


# ---------------------------------------------------------------------------------------------
# The fuzzing user's session.
#
# The fuzzer calls `logout` (ending the session of the token it sent) and `login` with made-up
# credentials. The server throttles failed logins per client address, so after a few dozen of
# those every login from the fuzzer's address waits. The harness's own sign-ins therefore come
# from another loopback address (127.0.0.2; the server sees each address apart, as it would two
# clients), and a token the server stopped accepting is replaced by a fresh login.

_host, _port = urlsplit(URL).hostname, urlsplit(URL).port
_lock = threading.Lock()
_state = {"token": None, "user_id": None, "suspect": False, "logins": 0}


def _side_request(body: dict, token: str | None = None) -> dict:
    """A request of the harness itself, from 127.0.0.2 (or the default address if that fails)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = json.dumps(body)
    for source in (("127.0.0.2", 0), None):
        try:
            conn = http.client.HTTPConnection(_host, _port, timeout=60, source_address=source)
            conn.request("POST", urlsplit(URL).path, payload, headers)
            answer = json.loads(conn.getresponse().read())
            conn.close()
            return answer
        except OSError:
            if source is None:
                raise
    raise AssertionError("unreachable")


def _login() -> None:
    answer = _side_request(
        {
            "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken user { id } } }",
            "variables": {"e": EMAIL, "p": PASSWORD},
        }
    )
    data = (answer.get("data") or {}).get("login")
    if not data:
        raise RuntimeError(f"cannot sign in as {EMAIL}: {answer}")
    _state.update(token=data["accessToken"], user_id=data["user"]["id"], suspect=False)
    _state["logins"] += 1


def _token() -> str:
    with _lock:
        if _state["token"] is None:
            _login()
        elif _state["suspect"]:
            # An UNAUTHENTICATED answer was seen: is the session over, or was it about the
            # operation's own arguments (a wrong current password, a made-up refresh token)?
            me = _side_request({"query": "{ me { id } }"}, _state["token"])
            if (me.get("data") or {}).get("me") is None:
                _login()
            _state["suspect"] = False
        return _state["token"]


@schemathesis.auth(refresh_interval=None)
class CbssBearer:
    def get(self, case, ctx):
        return _token()

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def filter_case(ctx, case):
    # Keep the fuzzing user able to sign in again: an administrator deactivating itself, taking
    # its own roles away or resetting its own password would leave the rest of the run
    # unauthenticated (every answer UNAUTHENTICATED: nothing more would be fuzzed).
    label = ctx.operation.label if ctx.operation is not None else ""
    if label.endswith((".updateUser", ".resetPassword")):
        own = _state["user_id"]
        if own is None:
            _token()
            own = _state["user_id"]
        return own not in str(case.body)
    return True


# ---------------------------------------------------------------------------------------------
# What was sent and found.

_stats = {"requests": 0, "operations": Counter(), "codes": Counter(), "statuses": Counter(),
          "with_data": 0, "data_operations": Counter(), "long": 0, "findings": {}}


def _payload(response):
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def _errors(payload) -> list:
    if isinstance(payload, dict) and isinstance(payload.get("errors"), list):
        return payload["errors"]
    return []


def _code(error):
    ext = error.get("extensions") if isinstance(error, dict) else None
    return ext.get("code") if isinstance(ext, dict) else None


@schemathesis.hook
def after_call(ctx, case, response):
    payload = _payload(response)
    errors = _errors(payload)
    with _lock:
        _stats["requests"] += 1
        _stats["operations"][case.operation.label] += 1
        _stats["statuses"][response.status_code] += 1
        # Generated documents are a few hundred bytes; one of over 4 KB carries a grown list.
        _stats["long"] += len(getattr(response.request, "body", None) or b"") > 4096
        for e in errors:
            _stats["codes"][str(_code(e))] += 1
        if isinstance(payload, dict) and not errors and isinstance(payload.get("data"), dict):
            _stats["with_data"] += 1
            _stats["data_operations"][case.operation.label] += 1
        if any(_code(e) == "UNAUTHENTICATED" for e in errors):
            _state["suspect"] = True


@schemathesis.hook
def after_network_error(ctx, case, request):
    # No answer at all: the server dropped the connection (a panic in a request) or died.
    with _lock:
        _stats["findings"].setdefault(f"no answer: {case.operation.label}: the connection failed", "")


def _finding(check: str, case, response, message: str) -> None:
    key = f"{check}: {case.operation.label}: {message}"
    with _lock:
        _stats["findings"].setdefault(key, response.content[:600].decode("utf-8", "replace"))
    raise AssertionError(message)


@atexit.register
def _write_stats() -> None:
    if STATS:
        with open(STATS, "w", encoding="utf-8") as f:
            json.dump({**_stats, "logins": _state["logins"]}, f, indent=1, default=dict)


# ---------------------------------------------------------------------------------------------
# The checks.


@schemathesis.check
def cbss_no_server_error(ctx, response, case):
    # The only 5xx the service means to give is 503 UNAVAILABLE when the database is away: it is
    # not away here, so any 5xx is a fault.
    if response.status_code >= 500:
        _finding("5xx", case, response, f"HTTP {response.status_code}")


@schemathesis.check
def cbss_errors_have_codes(ctx, response, case):
    # Every answer of /graphql is JSON, errors included (transport errors too: 4xx with a code).
    payload = _payload(response)
    if not isinstance(payload, dict):
        _finding("not JSON", case, response, f"HTTP {response.status_code}: the body is not a JSON object")
    for error in _errors(payload):
        code = _code(error)
        if not isinstance(code, str) or not code:
            message = error.get("message") if isinstance(error, dict) else error
            _finding("no code", case, response, f"an error without extensions.code: {message!r:.200}")


@schemathesis.check
def cbss_no_internal(ctx, response, case):
    for error in _errors(_payload(response)):
        if _code(error) == "INTERNAL":
            _finding("INTERNAL", case, response, f"INTERNAL: {error.get('message')!r:.200}")


# Text that means internals reached the client: SQL, the database drivers and their messages,
# Rust panics and source locations, file-system paths.
LEAKS = [
    re.compile(p)
    for p in (
        r"SELECT ", r"INSERT ", r"UPDATE \"", r"DELETE FROM", r"\bWHERE \"", r"RETURNING ",
        r"sqlx", r"sea_orm", r"sea-orm", r"SeaORM", r"SQLSTATE", r"rusqlite", r"sqlite3?_",
        r"no such (table|column)", r"constraint failed", r"violates .* constraint",
        r"duplicate key value", r"database is locked", r"syntax error at or near",
        r"error returned from database", r"PoolTimedOut", r"DbErr", r"RecordNotFound",
        r"panicked", r"RUST_BACKTRACE", r"\.rs:\d", r"src/\w+\.rs", r"/root/", r"/work/",
        r"/home/", r"/\.cargo/", r"/rustc/",
    )
]


def _request_text(response) -> str:
    body = getattr(response.request, "body", None) or b""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        decoded = json.loads(body)
        return json.dumps(decoded, ensure_ascii=False) + "\n" + str(decoded.get("query", ""))
    except (ValueError, AttributeError):
        return body


@schemathesis.check
def cbss_no_leaks(ctx, response, case):
    text = response.content.decode("utf-8", "replace")
    sent = None
    for pattern in LEAKS:
        match = pattern.search(text)
        if match is None:
            continue
        # Text the client sent comes back as data (a description, a note): that is an echo of
        # its own input, not a leak. So is a marker the request itself carries.
        if sent is None:
            sent = _request_text(response)
        if pattern.search(sent):
            continue
        start = max(0, match.start() - 60)
        _finding("leak", case, response, f"answer contains {match.group(0)!r}: ...{text[start:match.end() + 60]}...")
