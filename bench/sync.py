#!/usr/bin/env python3
"""Pushes BATCHES batches of 1,000 mixed sync items to a running CBSS server and prints
records per second. Standard library only. Usage: sync.py BASE_URL BATCHES [CLIENTS [probe]]

With `probe`, while the new batches stream in, one more client records single services (recordService, one
vitamin A dose at a time, back to back) and the latency of each is reported (p50, p99): what a
field worker's phone waits for while other phones sync.

Each batch holds 100 families of 10 items, listed children first so every reference points
forward: household, mother, two children, two growth measurements, two vitamin A doses, an
MMR dose and a development check. A second pass resends the first batch (all UNCHANGED)."""
import json, sys, time, uuid, urllib.request, datetime, threading

BASE, BATCHES = sys.argv[1], int(sys.argv[2])
CLIENTS = int(sys.argv[3]) if len(sys.argv) > 3 else 1
PROBE = len(sys.argv) > 4 and sys.argv[4] == "probe"
PUSH = ("mutation($items: [SyncItemInput!]!) { syncPush(items: $items) { committed "
        "summary { total created unchanged updated conflicts rejected notApplied } "
        "items { status error { code message fields { path message } } } } }")

def gql(query, variables=None, token=None):
    req = urllib.request.Request(BASE + "/graphql", json.dumps({"query": query, "variables": variables or {}}).encode(),
                                 {"content-type": "application/json", **({"authorization": "Bearer " + token} if token else {})})
    with urllib.request.urlopen(req, timeout=300) as r:
        body = json.load(r)
    if body.get("errors"):
        raise SystemExit(f"error: {body['errors']}")
    return body["data"]

token = gql('mutation { login(email: "admin@demo.mn", password: "demo-password") { accessToken } }')["login"]["accessToken"]
ub = gql('{ orgUnitByCode(code: "11") { children { id } } }', token=token)["orgUnitByCode"]["children"]
units = [d["id"] for d in ub]
today = datetime.date.today()
day = lambda n: (today - datetime.timedelta(days=n)).isoformat()

def batch(b):
    items = []
    for f in range(100):
        h, mother, a, c = (str(uuid.uuid4()) for _ in range(4))
        unit = units[(b * 100 + f) % len(units)]
        items += [
            {"id": str(uuid.uuid4()), "payload": {"growthMeasurement": {"personId": a, "date": day(2), "weightKg": 11.0 + f % 7 / 10, "lengthHeightCm": 83.5}}},
            {"id": str(uuid.uuid4()), "payload": {"growthMeasurement": {"personId": c, "date": day(2), "weightKg": 16.0, "lengthHeightCm": 102.0}}},
            {"id": str(uuid.uuid4()), "payload": {"serviceRecord": {"serviceTypeCode": "VITAMIN_A", "personId": a, "date": day(2)}}},
            {"id": str(uuid.uuid4()), "payload": {"serviceRecord": {"serviceTypeCode": "VITAMIN_A", "personId": c, "date": day(2)}}},
            {"id": str(uuid.uuid4()), "payload": {"immunisation": {"personId": a, "date": day(2), "antigenCode": "MMR", "doseNumber": 1}}},
            {"id": str(uuid.uuid4()), "payload": {"milestoneCheck": {"personId": a, "date": day(2), "items": [{"milestoneCode": "MOTOR_WALKS_ALONE", "achieved": True}]}}},
            {"id": a, "payload": {"person": {"householdId": h, "givenName": "Тэмүүлэн", "familyName": "Бат", "sex": "FEMALE", "birthDate": day(600)}}},
            {"id": c, "payload": {"person": {"householdId": h, "givenName": "Анар", "familyName": "Бат", "sex": "MALE", "birthDate": day(1500)}}},
            {"id": mother, "payload": {"person": {"householdId": h, "givenName": "Оюун", "familyName": "Бат", "sex": "FEMALE", "birthDate": "1993-04-05"}}},
            {"id": h, "payload": {"household": {"orgUnitId": unit, "dwelling": "GER", "consent": {"givenBy": "Оюун", "purpose": "CBSS"}}}},
        ]
    return items

batches = [batch(b) for b in range(BATCHES)]
bodies = [json.dumps({"query": PUSH, "variables": {"items": items}}).encode() for items in batches]

def send(body):
    req = urllib.request.Request(BASE + "/graphql", body, {"content-type": "application/json", "authorization": "Bearer " + token})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=300) as r:
        out = json.load(r)
    dt = time.perf_counter() - t
    if out.get("errors"):
        raise SystemExit(f"error: {out['errors']}")
    s = out["data"]["syncPush"]["summary"]
    if s["rejected"]:
        bad = [i for i in out["data"]["syncPush"]["items"] if i["status"] == "REJECTED"][:3]
        raise SystemExit(f"rejected items: {bad}")
    return dt, s

RECORD = ("mutation($i: RecordServiceInput!) { recordService(input: $i) { id } }")

def single_writer(child, stop, latencies):
    """Records a vitamin A dose for `child` again and again until `stop` is set."""
    while not stop.is_set():
        body = json.dumps({"query": RECORD, "variables": {"i": {"serviceTypeCode": "VITAMIN_A", "personId": child, "date": day(1)}}}).encode()
        req = urllib.request.Request(BASE + "/graphql", body, {"content-type": "application/json", "authorization": "Bearer " + token})
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=300) as r:
            out = json.load(r)
        latencies.append(time.perf_counter() - t)
        if out.get("errors"):
            raise SystemExit(f"error: {out['errors']}")

def run(label, payloads, probe=None):
    times, summaries, lock = [], [], threading.Lock()
    queue = list(payloads)
    stop, latencies = threading.Event(), []
    prober = threading.Thread(target=single_writer, args=(probe, stop, latencies)) if probe else None
    def worker():
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            dt, s = send(body)
            with lock:
                times.append(dt); summaries.append(s)
    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    if prober:
        prober.start()
    [t.start() for t in threads]; [t.join() for t in threads]
    wall = time.perf_counter() - start
    stop.set()
    if prober:
        prober.join()
    n = sum(s["total"] for s in summaries)
    times.sort()
    print(f"{label}: {n} items in {len(times)} batches, {CLIENTS} client(s): {wall:.2f} s wall, "
          f"{n / wall:,.0f} records/s; per batch median {1000 * times[len(times) // 2]:.0f} ms, "
          f"max {1000 * times[-1]:.0f} ms; created {sum(s['created'] for s in summaries)}, "
          f"unchanged {sum(s['unchanged'] for s in summaries)}")
    if latencies:
        latencies.sort()
        pct = lambda q: 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))]
        print(f"  meanwhile {len(latencies)} single recordService: p50 {pct(0.5):.0f} ms, "
              f"p99 {pct(0.99):.0f} ms, max {1000 * latencies[-1]:.0f} ms")

# The single writer's child, in a household of its own.
warm = batch(BATCHES)[-4:]
send(json.dumps({"query": PUSH, "variables": {"items": warm}}).encode())
child = next(i["id"] for i in warm if i["payload"].get("person", {}).get("givenName") == "Анар")
run("new records", bodies, probe=child if PROBE else None)
run("resent (retries)", bodies[:max(1, BATCHES // 2)])
