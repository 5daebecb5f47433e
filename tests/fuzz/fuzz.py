"""Runs schemathesis against a running CBSS server, once per role, and sums up what it found.

    python fuzz.py --url http://127.0.0.1:PORT/graphql --seconds 75 --label sqlite \
        --role field.zavkhan@demo.mn --role admin@demo.mn --workdir DIR

Reads the schema by introspection (as the last role, the widest), writes it as SDL with a
schemathesis config of realistic values, fuzzes every query and mutation in it for SECONDS per
role with that role's token (hooks.py: the token, the checks, the counts), prints a line per
role and one summary line; exits 1 on any finding.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import graphql

HERE = Path(__file__).resolve().parent
CHECKS = [
    # ours (hooks.py)
    "cbss_no_server_error",
    "cbss_errors_have_codes",
    "cbss_no_internal",
    "cbss_no_leaks",
    # schemathesis' own, for GraphQL: the body is a GraphQL response (JSON object with data or
    # errors) and no non-null field came back null; a query invalid for the schema (negative
    # mode) is refused. Its `not_a_server_error` is left out: for GraphQL it also counts every
    # field error (VALIDATION, NOT_FOUND, FORBIDDEN...) as a server error, and those are the
    # service's answers to made-up input, checked above for their codes instead.
    "response_schema_conformance",
    "negative_data_rejection",
]


def post(url: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def login(url: str, email: str, password: str) -> str:
    answer = post(url, {
        "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
        "variables": {"e": email, "p": password},
    })
    if not (answer.get("data") or {}).get("login"):
        raise SystemExit(f"cannot sign in as {email}: {answer}")
    return answer["data"]["login"]["accessToken"]


def fetch_sdl(url: str, token: str) -> str:
    answer = post(url, {"query": graphql.get_introspection_query(descriptions=False)}, token)
    if answer.get("errors"):
        raise SystemExit(f"introspection failed: {answer['errors']}")
    return graphql.print_schema(graphql.build_client_schema(answer["data"]))


def codes(url: str, token: str, field: str) -> list[str]:
    """The `code`s of a reference list (`indicators`, `serviceTypes`...), or of the org units."""
    query = "{ orgUnits(first: 100) { nodes { code } } }" if field == "orgUnits" else f"{{ {field} {{ code }} }}"
    data = post(url, {"query": query}, token).get("data") or {}
    rows = data.get(field) or []
    rows = rows.get("nodes", []) if isinstance(rows, dict) else rows
    return sorted({row["code"] for row in rows})


UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
ID_QUERIES = [
    "{ me { id } }",
    "{ orgUnits(first: 100) { nodes { id } } }",
    "{ households(first: 100) { nodes { id orgUnit { id } members { id } } } }",
    "{ people(first: 100, orderBy: { field: BIRTH_DATE, direction: DESC }) { nodes { id } } }",
    "{ communityProjects(first: 50) { nodes { id } } }",
    "{ users { id } }",
    "{ partners { id } }",
    "{ orgUnitGroups { id } }",
    "{ changes(first: 1000) { changes { id } } }",
]


def collect_ids(url: str, token: str) -> list[str]:
    """Ids this token can see: households, people, units, projects, users, records..."""
    found: set[str] = set()
    for query in ID_QUERIES:
        # Each alone: one the role may not run (`users`) or that does not fit leaves the others.
        found.update(UUID.findall(json.dumps(post(url, {"query": query}, token))))
    return sorted(found)


def write_config(path: Path, url: str, token: str) -> None:
    """A schemathesis config whose dictionaries hold values the generator cannot guess (periods,
    indicator, unit, service, antigen and milestone codes, well-formed registry numbers, phones,
    names, emails and notes, a few of each not quite right). Half the draws of those arguments
    take one, so more operations get past validation into the resolvers and the database; the
    other half stay random."""
    dictionaries = {
        "periods": ["2025", "2026", "2025Q3", "2026Q1", "2025-07", "2026-01", "THIS_MONTH", "THIS_QUARTER",
                    "THIS_YEAR", "LAST_12_MONTHS", "1900", "2026Q5", "2026-13", "last_12_months"],
        "indicators": codes(url, token, "indicators"),
        "units": codes(url, token, "orgUnits"),
        "service-types": codes(url, token, "serviceTypes"),
        "life-stages": codes(url, token, "lifeStages"),
        "antigens": codes(url, token, "antigens"),
        "milestones": codes(url, token, "milestones"),
        "registry-numbers": ["УБ12345678", "АА98765432", "ЗА01020304", "УБ1234567", "UB12345678"],
        "phones": ["99112233", "+97688112233", "8811223", "99-11-22-33"],
        "names": ["Бат", "Дорж", "Сарантуяа", "Oyun", "Бат-Эрдэнэ", "Bat Erdene", "Бaт", "O'Neil"],
        "texts": ["Visited at home.", "Гэрт нь очсон.", "line one\nline two", "  padded  ", "", "x" * 300],
        "emails": ["fuzz.one@example.mn", "fuzz.two@example.mn", "admin@demo.mn", "field.zavkhan@demo.mn",
                   "ngo.uvs@demo.mn", "not-an-email"],
    }
    bindings = {
        "*.*.period": "periods",
        "*.*.filter.period": "periods",
        "*.*.indicator": "indicators",
        "*.*.input.indicatorCode": "indicators",
        "Query.orgUnitByCode.code": "units",
        "*.*.lifeStage": "life-stages",
        "*.*.filter.lifeStage": "life-stages",
        "*.*.input.serviceTypeCode": "service-types",
        "*.*.input.antigenCode": "antigens",
        "*.*.input.items[*].milestoneCode": "milestones",
        "*.*.input.registryNumber": "registry-numbers",
        "*.*.input.phone": "phones",
        "*.*.input.givenName": "names",
        "*.*.input.familyName": "names",
        "*.*.input.displayName": "names",
        "*.*.input.consent.givenBy": "names",
        "*.*.input.givenBy": "names",
        "*.*.name": "names",
        "*.*.input.consent.purpose": "texts",
        "*.*.input.purpose": "texts",
        "*.*.input.description": "texts",
        "*.*.input.address": "texts",
        "*.*.input.note": "texts",
        "*.*.input.narrative": "texts",
        "*.*.input.objectives": "texts",
        "*.*.input.title": "texts",
        "*.*.note": "texts",
        "*.*.reason": "texts",
        "*.*.input.email": "emails",
        "*.*.email": "emails",
    }
    lines = ["# Written by tests/fuzz/fuzz.py for one run."]
    for name, values in dictionaries.items():
        if values:
            lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}"]
    lines.append("[parameters]")
    for key, name in bindings.items():
        if dictionaries[name]:
            lines.append(f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def fuzz(args, email: str, sdl: Path, config: Path) -> tuple[int, dict, str]:
    slug = email.split("@")[0]
    stats_path = Path(args.workdir) / f"stats-{slug}.json"
    log_path = Path(args.workdir) / f"schemathesis-{slug}.log"
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "hooks",
        "PYTHONPATH": str(HERE),
        "CBSS_FUZZ_URL": args.url,
        "CBSS_FUZZ_EMAIL": email,
        "CBSS_FUZZ_PASSWORD": args.password,
        "CBSS_FUZZ_STATS": str(stats_path),
        "CBSS_FUZZ_IDS": str(Path(args.workdir) / f"ids-{slug}.json"),
    }
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config), "run", str(sdl),
        "--url", args.url,
        "--max-time", str(args.seconds),
        "--checks", ",".join(CHECKS),
        "--workers", str(args.workers),
        "--request-timeout", "40",
        "--generation-database", "none",
        "--no-color",
    ]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    if args.only:
        command += ["--include-name-regex", args.only]
    with open(log_path, "w", encoding="utf-8") as log:
        # From the work folder: schemathesis and hypothesis write nothing into the source tree.
        code = subprocess.run(command, env=env, cwd=args.workdir, stdout=log, stderr=subprocess.STDOUT).returncode
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    return code, stats, log_path.read_text(encoding="utf-8", errors="replace")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--seconds", type=int, default=75)
    parser.add_argument("--label", default="")
    parser.add_argument("--role", action="append", required=True)
    parser.add_argument("--password", default="demo-password")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--only", help="fuzz only the operations whose name (Query.people...) matches")
    args = parser.parse_args()

    token = login(args.url, args.role[-1], args.password)
    sdl = Path(args.workdir) / "schema.graphql"
    sdl.write_text(fetch_sdl(args.url, token), encoding="utf-8")
    config = Path(args.workdir) / "schemathesis.toml"
    write_config(config, args.url, token)
    # Ids for the generator (hooks.py): each role's own (in its scope) and all the last role's
    # (out of scope for the others), fetched now, before fuzzing makes this address wait to sign in.
    everyone = collect_ids(args.url, token)
    for email in args.role:
        own = collect_ids(args.url, login(args.url, email, args.password))
        ids = Path(args.workdir) / f"ids-{email.split('@')[0]}.json"
        ids.write_text(json.dumps({"own": own, "all": everyone}), encoding="utf-8")
    schema = graphql.build_schema(sdl.read_text(encoding="utf-8"))
    n_queries = len(schema.query_type.fields)
    n_mutations = len(schema.mutation_type.fields) if schema.mutation_type else 0

    summary, findings, failed = [], 0, False
    for email in args.role:
        code, stats, log = fuzz(args, email, sdl, config)
        found = stats.get("findings", {})
        findings += len(found)
        covered = len(stats.get("operations", {}))
        codes = ", ".join(f"{k} {v}" for k, v in sorted(stats.get("codes", {}).items(), key=lambda kv: -kv[1]))
        answered = len(stats.get("data_operations", {}))
        print(f"{email}: {stats.get('requests', 0)} requests over {covered} of {n_queries + n_mutations} "
              f"operations in {args.seconds} s; {stats.get('with_data', 0)} answered data without errors "
              f"({answered} operations did); {stats.get('long', 0)} with a grown list; "
              f"HTTP {dict(sorted(stats.get('statuses', {}).items()))}; error codes: {codes or 'none'}; "
              f"{stats.get('logins', 0)} sign-ins")
        for key, body in found.items():
            print(f"  FINDING {key}\n    answer: {body}")
        if code != 0 or found:
            failed = True
            # schemathesis' own report (its last 20,000 characters): each failure with a curl
            # command to reproduce it.
            start = log.find("FAILURES")
            print(log[start if start >= 0 else 0:][-20000:])
        seed = re.search(r"^Seed: (\d+)", log, re.M)
        summary.append(f"{email} {stats.get('requests', 0)} operations sent (seed {seed.group(1) if seed else '?'})")
    print(f"fuzz{' ' + args.label if args.label else ''}: {'; '.join(summary)}; "
          f"{findings} findings{'' if not failed or findings else ' (schemathesis failed: see above)'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
