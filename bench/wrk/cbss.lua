-- wrk script for bench/load.sh: GraphQL reads against CBSS. BENCH_MIX weighs the kinds
-- ("person:80,page:15,coverage:5"); BENCH_IDS is the directory of id lists load.sh writes;
-- BENCH_TOKEN is an administrator's access token.
-- Answers that are not 200, or that carry "errors", are counted and printed at the end: an
-- error comes back fast and must not pass for throughput.

local kinds = {
  -- one person by id, a few scalar fields
  person = { ids = "person.txt", query = [[query($id: UUID!) { person(id: $id) { id givenName familyName sex birthDate } }]] },
  -- a page of 50 people in a soum or khoroo, each with the household and service records
  page = { ids = "unit.txt", query = [[query($id: UUID!) { people(filter: {orgUnitId: $id}, first: 50) { edges { node { id givenName familyName birthDate household { id address } serviceRecords { date serviceType { code } } } } } }]] },
  -- vitamin A coverage in an aimag, by soum
  coverage = { ids = "aimag.txt", query = [[query($id: UUID!) { coverage(indicator: \"VITAMIN_A\", orgUnitId: $id, period: \"LAST_12_MONTHS\", groupBy: [ORG_UNIT]) { total { numerator denominator value } rows { numerator } } }]] },
  -- bench/planner.sh: a person and their service records as Relay/Apollo clients send it (the
  -- issue-31 target a)
  personrecords = { ids = "person.txt", query = [[query PersonCard($id: UUID!) { person(id: $id) { ...PersonCard } } fragment PersonCard on Person { __typename id givenName familyName sex birthDate serviceRecords { ...RecordRow } } fragment RecordRow on ServiceRecord { __typename id date serviceType { __typename code } }]] },
  -- the page of 50 as Relay/Apollo clients send it (named operation and fragments,
  -- a variable with a default, __typename everywhere), and the same page with each person's unit
  -- and life stage (the issue-31 target b)
  pagefrag = { ids = "unit.txt", query = [[query PeoplePage($id: UUID!, $first: Int = 50) { people(filter: {orgUnitId: $id}, first: $first) { ...PeopleList } } fragment PeopleList on PersonConnection { __typename edges { __typename node { ...PersonRow } } pageInfo { __typename hasNextPage endCursor } } fragment PersonRow on Person { __typename id givenName familyName birthDate household { ...HouseholdRow } serviceRecords { ...RecordRow } } fragment HouseholdRow on Household { __typename id address } fragment RecordRow on ServiceRecord { __typename date serviceType { __typename code } }]] },
  pagewide = { ids = "unit.txt", query = [[query PeoplePage($id: UUID!, $first: Int = 50) { people(filter: {orgUnitId: $id}, first: $first) { ...PeopleList } } fragment PeopleList on PersonConnection { __typename edges { __typename node { ...PersonRow } } pageInfo { __typename hasNextPage endCursor } } fragment PersonRow on Person { __typename id givenName familyName birthDate orgUnit { __typename nameEn } lifeStage { __typename code } household { ...HouseholdRow } serviceRecords { ...RecordRow } } fragment HouseholdRow on Household { __typename id address } fragment RecordRow on ServiceRecord { __typename date serviceType { __typename code } }]] },
  -- bench/rollups.sh, written as Relay/Apollo clients send them (named operations and fragments):
  -- people per soum in an aimag (the issue's query c)
  soums = { ids = "aimag.txt", query = [[query PeoplePerSoum($id: UUID!) { aggregate(entity: PEOPLE, orgUnitId: $id, groupBy: [ORG_UNIT]) { ...Counts } } fragment Counts on Aggregate { __typename rows { orgUnit { id nameEn } count } }]] },
  -- people of the country by aimag, sex and age band
  national = { ids = "country.txt", query = [[query PeopleByAimag($id: UUID!) { aggregate(entity: PEOPLE, orgUnitId: $id, orgUnitLevel: AIMAG, groupBy: [ORG_UNIT, SEX, AGE_BAND]) { ...Counts } } fragment Counts on Aggregate { __typename rows { orgUnit { id } sex ageBand count } total { count } }]] },
  -- service records of the country by aimag, type and year
  services = { ids = "country.txt", query = [[query ServicesByAimag($id: UUID!) { aggregate(entity: SERVICE_RECORDS, orgUnitId: $id, orgUnitLevel: AIMAG, groupBy: [ORG_UNIT, SERVICE_TYPE, YEAR]) { ...Counts } } fragment Counts on Aggregate { __typename rows { orgUnit { id } serviceType period count } }]] },
}

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local requests, pick = {}, {}
function init(args)
  math.randomseed(os.time() * 100 + id)
  bad_status, gql_errors, first_error = 0, 0, ""
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }
  -- every request built once, so the loop costs wrk as little CPU as possible (it shares the cores)
  for name, weight in string.gmatch(os.getenv("BENCH_MIX"), "(%a+):(%d+)") do
    local kind = assert(kinds[name], "unknown kind " .. name)
    requests[name] = {}
    for line in io.lines(os.getenv("BENCH_IDS") .. "/" .. kind.ids) do
      local body = '{"query":"' .. kind.query .. '","variables":{"id":"' .. line .. '"}}'
      table.insert(requests[name], wrk.format("POST", "/graphql", headers, body))
    end
    for _ = 1, tonumber(weight) do table.insert(pick, name) end
  end
end

function request()
  local list = requests[pick[math.random(#pick)]]
  return list[math.random(#list)]
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif string.find(body, '"errors"', 1, true) then
    gql_errors = gql_errors + 1
  else
    return
  end
  if first_error == "" then first_error = status .. " " .. string.sub(body, 1, 300) end
end

function done(summary, latency, _)
  local bad, errors, first = 0, 0, ""
  for _, t in ipairs(threads) do
    bad, errors = bad + t:get("bad_status"), errors + t:get("gql_errors")
    if first == "" then first = t:get("first_error") end
  end
  -- one line for load.sh: req/s, p50 ms, p99 ms, answers, non-200, with "errors"
  io.write(string.format("cbss: %.0f %.1f %.1f %d %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests, bad, errors))
  if first ~= "" then io.write("cbss: first error: " .. first .. "\n") end
end
