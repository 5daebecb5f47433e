//! The `people` connection, answered from a plan of its selection when the selection allows.
//!
//! async-graphql resolves every field of every object as a boxed future of its own, and a page of
//! 50 people with their households and service records is ~1,100 fields: half the server's CPU
//! for that page went on the executor and its allocations (profile in the issue-7 notes). When a
//! page's selection holds only the plain fields listed here (no fragments, directives, arguments
//! or repeated keys; async-graphql has applied and removed `@skip` and `@include` by then), this
//! module reads each relation in one batch, through the same loaders' scoped store calls, and
//! writes the answer itself. Any other selection goes through the
//! executor as before. `tests/` compares both paths' JSON for every field listed here, for
//! identified and de-identified callers; a field resolver changed without this module fails it.
//!
//! An error on the planned path (a failed statement, an unknown value in the database) sends the
//! page through the executor, which reports it on the field it belongs to.

use super::RequestData;
use super::connection::Conn;
use super::people::{Household, Person};
use super::services::{ServiceRecord, ServiceType};
use crate::disclosure;
use crate::domain::age;
use crate::domain::vocab::{DetailKind, Disability, Dwelling, MigrantStatus, RelationToHead, Sector, Sex, TargetGroup};
use crate::error::{ApiError, ApiResult};
use crate::store::Store;
use async_graphql::connection::{Edge, EmptyFields, PageInfo};
use async_graphql::dataloader::Loader;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{EnumType, enum_value};
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ScalarType, ServerResult, Value};
use entity::service_record::Brief;
use entity::{household, person, service_type};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;

/// The plain (scalar and enum) fields the plan answers, per type; `__typename` too on each.
pub const PERSON_FIELDS: &[&str] = &[
    "id",
    "givenName",
    "familyName",
    "sex",
    "birthDate",
    "birthMonth",
    "birthDateEstimated",
    "ageMonths",
    "relationToHead",
    "registryNumber",
    "phone",
    "disability",
    "dateOfDeath",
    "version",
    "createdAt",
    "updatedAt",
];
pub const HOUSEHOLD_FIELDS: &[&str] = &[
    "id",
    "address",
    "description",
    "dwelling",
    "isHerder",
    "migrantStatus",
    "registeredOn",
    "version",
    "createdAt",
    "updatedAt",
];
pub const SERVICE_RECORD_FIELDS: &[&str] = &["id", "date", "version"];
pub const SERVICE_TYPE_FIELDS: &[&str] = &[
    "id",
    "code",
    "sector",
    "lifeStageCode",
    "nameEn",
    "nameMn",
    "minAgeMonths",
    "maxAgeMonths",
    "targetGroup",
    "unit",
    "detailKind",
];
pub const PAGE_INFO_FIELDS: &[&str] = &["hasPreviousPage", "hasNextPage", "startCursor", "endCursor"];
pub const CONNECTION_FIELDS: &[&str] = &["totalCount"];
pub const EDGE_FIELDS: &[&str] = &["cursor"];

/// The object types the plan knows.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ty {
    Connection,
    Edge,
    PageInfo,
    Person,
    Household,
    ServiceRecord,
    ServiceType,
}

impl Ty {
    fn plain_fields(self) -> &'static [&'static str] {
        match self {
            Ty::Connection => CONNECTION_FIELDS,
            Ty::Edge => EDGE_FIELDS,
            Ty::PageInfo => PAGE_INFO_FIELDS,
            Ty::Person => PERSON_FIELDS,
            Ty::Household => HOUSEHOLD_FIELDS,
            Ty::ServiceRecord => SERVICE_RECORD_FIELDS,
            Ty::ServiceType => SERVICE_TYPE_FIELDS,
        }
    }

    /// The type of an object field the plan follows.
    fn object_field(self, name: &str) -> Option<Ty> {
        Some(match (self, name) {
            (Ty::Connection, "edges") => Ty::Edge,
            (Ty::Connection, "nodes") | (Ty::Edge, "node") => Ty::Person,
            (Ty::Connection, "pageInfo") => Ty::PageInfo,
            (Ty::Person, "household") => Ty::Household,
            (Ty::Person, "serviceRecords") => Ty::ServiceRecord,
            (Ty::ServiceRecord, "serviceType") => Ty::ServiceType,
            _ => return None,
        })
    }
}

/// One selected field: the key it answers under, its name, and the plan of its selection.
#[derive(Debug)]
struct Sel<'a> {
    key: &'a Name,
    name: &'a str,
    sub: Vec<Sel<'a>>,
}

/// The plan of `set` on a `ty`, or `None` when the executor must answer it.
fn plan(set: &SelectionSet, ty: Ty) -> Option<Vec<Sel<'_>>> {
    let mut sels: Vec<Sel<'_>> = Vec::with_capacity(set.items.len());
    for item in &set.items {
        let Selection::Field(field) = &item.node else { return None };
        let Field { name, arguments, directives, selection_set, .. } = &field.node;
        let key = &field.node.response_key().node;
        // A repeated key means merging fields: the executor's job.
        if !arguments.is_empty() || !directives.is_empty() || sels.iter().any(|s| s.key == key) {
            return None;
        }
        let (name, children) = (name.node.as_str(), &selection_set.node);
        let sub = match ty.object_field(name) {
            Some(t) if !children.items.is_empty() => plan(children, t)?,
            None if children.items.is_empty() && (name == "__typename" || ty.plain_fields().contains(&name)) => {
                Vec::new()
            }
            _ => return None,
        };
        sels.push(Sel { key, name, sub });
    }
    Some(sels)
}

/// Whether the plan selects a field `name` anywhere (the relation names it follows are unique
/// to their type).
fn selects(sels: &[Sel<'_>], name: &str) -> bool {
    sels.iter().any(|s| s.name == name || selects(&s.sub, name))
}

/// Pages answered from their plan since the process started (the tests check that they are).
static PLANNED: AtomicU64 = AtomicU64::new(0);

pub fn planned_pages() -> u64 {
    PLANNED.load(Ordering::Relaxed)
}

/// A page of people, typed as the `PersonConnection` it is in the schema.
pub struct PeoplePage(pub Conn<Person>);

impl OutputType for PeoplePage {
    fn type_name() -> Cow<'static, str> {
        Conn::<Person>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Conn::<Person>::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        if let Some(sels) = plan(&field.node.selection_set.node, Ty::Connection) {
            // The `people` resolver checked the caller before it made this page.
            match self.answer(ctx.data_unchecked::<RequestData>(), &sels).await {
                Ok(value) => {
                    PLANNED.fetch_add(1, Ordering::Relaxed);
                    return Ok(value);
                }
                // The executor reports the error on the nested field it belongs to, and keeps
                // the rest of the page where the field is nullable.
                // A field the caller may not read is refused there too, on its own path.
                Err(e) if e.extensions.as_ref().and_then(|x| x.get("code")) == Some(&Value::from("FORBIDDEN")) => {}
                Err(e) => tracing::warn!(error = e.message, "a planned people page failed; executing it"),
            }
        }
        self.0.resolve(ctx, field).await
    }
}

/// What the planned answer reads besides the page.
struct Read<'a> {
    store: &'a Store,
    households: HashMap<Uuid, Arc<Vec<household::Model>>>,
    records: HashMap<Uuid, Arc<Vec<Brief>>>,
    /// The service catalogue, when the plan selects `serviceType`.
    types: Option<&'a HashMap<Uuid, Arc<service_type::Model>>>,
}

/// The connection's edge type.
type PersonEdge = Edge<String, Person, EmptyFields>;

type Answer = async_graphql::Result<Value>;

impl PeoplePage {
    async fn answer(&self, d: &RequestData, sels: &[Sel<'_>]) -> Answer {
        let conn = &self.0;
        let people = || conn.edges.iter().map(|e| &e.node.0);
        // The same batches the `household` and `serviceRecords` resolvers' loaders would make.
        let households = async {
            let mut ids: Vec<Uuid> = people().filter_map(|p| p.household_id).collect();
            if ids.is_empty() || !selects(sels, "household") {
                return Ok(HashMap::new());
            }
            ids.sort_unstable();
            ids.dedup();
            d.loaders.household.loader().load(&ids).await
        };
        let records = async {
            let ids: Vec<Uuid> = people().map(|p| p.id).collect();
            if ids.is_empty() || !selects(sels, "serviceRecords") {
                return Ok(HashMap::new());
            }
            d.loaders.brief_records_of_person.loader().load(&ids).await
        };
        let (households, records) = tokio::try_join!(households, records)?;
        let total = match sels.iter().any(|s| s.name == "totalCount") {
            true => Some(conn.additional_fields.count().await?),
            false => None,
        };
        let types = match selects(sels, "serviceType") {
            true => Some(d.service_types().await?),
            false => None,
        };
        let read = Read { store: &d.store, households, records, types };
        read.object("PersonConnection", sels, |s| {
            Ok(match s.name {
                "__typename" => typename::<Conn<Person>>(),
                "edges" => list(conn.edges.iter(), |e| {
                    read.object("PersonEdge", &s.sub, |f| {
                        Ok(match f.name {
                            "__typename" => typename::<PersonEdge>(),
                            "cursor" => Value::String(e.cursor.clone()),
                            "node" => read.person(&e.node.0, &f.sub)?,
                            _ => return Err(unplanned(f)),
                        })
                    })
                })?,
                "nodes" => list(people(), |p| read.person(p, &s.sub))?,
                "pageInfo" => {
                    let cursor = |e: Option<&PersonEdge>| e.map(|e| e.cursor.clone());
                    object(&s.sub, |f| {
                        Ok(match f.name {
                            "__typename" => typename::<PageInfo>(),
                            "hasPreviousPage" => Value::Boolean(conn.has_previous_page),
                            "hasNextPage" => Value::Boolean(conn.has_next_page),
                            "startCursor" => opt(cursor(conn.edges.first())),
                            "endCursor" => opt(cursor(conn.edges.last())),
                            _ => return Err(unplanned(f)),
                        })
                    })?
                }
                "totalCount" => opt(total.flatten()),
                _ => return Err(unplanned(s)),
            })
        })
    }
}

impl Read<'_> {
    /// An object of the selected fields of type `ty`, each as `disclosure` shows it to the
    /// caller (the executor's `disclosure::Guard` does the same field by field).
    fn object(&self, ty: &str, sels: &[Sel<'_>], mut value: impl FnMut(&Sel<'_>) -> Answer) -> Answer {
        if self.store.identified() {
            return object(sels, value);
        }
        object(sels, |s| {
            if s.name.starts_with("__") {
                return value(s);
            }
            let class = disclosure::output(ty, s.name).unwrap_or(disclosure::Out::Withheld);
            disclosure::readable(self.store.reader(), class)?;
            if class.withheld() {
                return Ok(Value::Null);
            }
            Ok(disclosure::shown(class, value(s)?, |id| self.store.public_id(id)))
        })
    }

    fn person(&self, p: &person::Model, sels: &[Sel<'_>]) -> Answer {
        self.object("Person", sels, |s| {
            Ok(match s.name {
                "__typename" => typename::<Person>(),
                "id" => scalar(p.id),
                "givenName" => Value::String(p.given_name.clone()),
                "familyName" => Value::String(p.family_name.clone()),
                "sex" => enum_value(Sex::from_db(&p.sex)?),
                "birthDate" => scalar(p.birth_date),
                "birthMonth" => Value::String(age::birth_month(p.birth_date)),
                "birthDateEstimated" => Value::Boolean(p.birth_date_estimated),
                "ageMonths" => scalar(age::months(p.birth_date, self.store.reference_day(None))),
                "relationToHead" => vocab(p.relation_to_head.as_deref(), RelationToHead::from_db)?,
                "registryNumber" => opt(p.registry_number.clone()),
                "phone" => opt(p.phone.clone()),
                "disability" => vocab(p.disability.as_deref(), Disability::from_db)?,
                "dateOfDeath" => opt(p.date_of_death),
                "version" => scalar(p.version),
                "createdAt" => scalar(p.created_at),
                "updatedAt" => scalar(p.updated_at),
                // As the loader's `one`: the last row of the key, null when out of scope.
                "household" => match p.household_id.and_then(|h| self.households.get(&h)?.last()) {
                    Some(h) => self.household(h, &s.sub)?,
                    None => Value::Null,
                },
                "serviceRecords" => match self.records.get(&p.id) {
                    Some(rows) => list(rows.iter(), |r| self.record(r, &s.sub))?,
                    None => Value::List(Vec::new()),
                },
                _ => return Err(unplanned(s)),
            })
        })
    }

    fn household(&self, h: &household::Model, sels: &[Sel<'_>]) -> Answer {
        self.object("Household", sels, |s| {
            Ok(match s.name {
                "__typename" => typename::<Household>(),
                "id" => scalar(h.id),
                "address" => opt(h.address.clone()),
                "description" => opt(h.description.clone()),
                "dwelling" => enum_value(Dwelling::from_db(&h.dwelling)?),
                "isHerder" => Value::Boolean(h.is_herder),
                "migrantStatus" => enum_value(MigrantStatus::from_db(&h.migrant_status)?),
                "registeredOn" => scalar(h.registered_on),
                "version" => scalar(h.version),
                "createdAt" => scalar(h.created_at),
                "updatedAt" => scalar(h.updated_at),
                _ => return Err(unplanned(s)),
            })
        })
    }

    fn record(&self, r: &Brief, sels: &[Sel<'_>]) -> Answer {
        self.object("ServiceRecord", sels, |s| {
            Ok(match s.name {
                "__typename" => typename::<ServiceRecord>(),
                "id" => scalar(r.id),
                "date" => scalar(r.service_date),
                "version" => scalar(r.version),
                "serviceType" => match self.types.and_then(|t| t.get(&r.service_type_id)) {
                    Some(t) => service_type(t, &s.sub)?,
                    None => Value::Null,
                },
                _ => return Err(unplanned(s)),
            })
        })
    }
}

fn service_type(t: &service_type::Model, sels: &[Sel<'_>]) -> Answer {
    object(sels, |s| {
        Ok(match s.name {
            "__typename" => typename::<ServiceType>(),
            "id" => scalar(t.id),
            "code" => Value::String(t.code.clone()),
            "sector" => enum_value(Sector::from_db(&t.sector)?),
            "lifeStageCode" => opt(t.life_stage_code.clone()),
            "nameEn" => Value::String(t.name_en.clone()),
            "nameMn" => Value::String(t.name_mn.clone()),
            "minAgeMonths" => opt(t.min_age_months),
            "maxAgeMonths" => opt(t.max_age_months),
            "targetGroup" => enum_value(TargetGroup::from_db(&t.target_group)?),
            "unit" => Value::String(t.unit.clone()),
            "detailKind" => enum_value(DetailKind::from_db(&t.detail_kind)?),
            _ => return Err(unplanned(s)),
        })
    })
}

/// An object of the selected fields, in the selection's order.
fn object(sels: &[Sel<'_>], mut value: impl FnMut(&Sel<'_>) -> Answer) -> Answer {
    let mut map = IndexMap::with_capacity(sels.len());
    for s in sels {
        map.insert(s.key.clone(), value(s)?);
    }
    Ok(Value::Object(map))
}

fn list<T>(items: impl Iterator<Item = T>, value: impl FnMut(T) -> Answer) -> Answer {
    Ok(Value::List(items.map(value).collect::<async_graphql::Result<_>>()?))
}

/// A scalar as its own resolver writes it (the same `to_value`).
fn scalar<T: ScalarType>(v: T) -> Value {
    v.to_value()
}

fn opt<T: ScalarType>(v: Option<T>) -> Value {
    v.map_or(Value::Null, scalar)
}

/// An optional vocabulary column as its enum.
fn vocab<E: EnumType>(v: Option<&str>, read: fn(&str) -> ApiResult<E>) -> Answer {
    Ok(v.map(read).transpose()?.map_or(Value::Null, enum_value))
}

fn typename<T: OutputType>() -> Value {
    Value::String(T::type_name().into_owned())
}

/// A field `plan` let through and the answer does not know: a bug in this module.
fn unplanned(s: &Sel<'_>) -> async_graphql::Error {
    ApiError::Internal(anyhow::anyhow!("the people page plan has no answer for {:?}", s.name)).into()
}

/// A query of the `people` page selecting every field the plan answers, once each; tests run
/// it through both paths (`forced` wraps its first field in an inline fragment, which the plan
/// leaves to the executor).
pub fn planned_query_with(args: &str, forced: bool) -> String {
    let leaves = |fields: &[&str]| format!("__typename {}", fields.join(" "));
    let record = format!("{} serviceType {{ {} }}", leaves(SERVICE_RECORD_FIELDS), leaves(SERVICE_TYPE_FIELDS));
    let person =
        format!("{} household {{ {} }} serviceRecords {{ {record} }}", leaves(PERSON_FIELDS), leaves(HOUSEHOLD_FIELDS));
    format!(
        "{{ people{args} {{ {} {} edges {{ {} node {{ {person} }} }} nodes {{ {person} }} pageInfo {{ {} }} }} }}",
        if forced { "... on PersonConnection { __typename }" } else { "__typename" },
        CONNECTION_FIELDS.join(" "),
        leaves(EDGE_FIELDS),
        leaves(PAGE_INFO_FIELDS),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;
    use async_graphql::parser::types::{DocumentOperations, OperationDefinition};

    /// The plan of the `people` field of a query, if it has one.
    fn plan_of(query: &str) -> Option<usize> {
        let doc = parse_query(query).unwrap();
        let DocumentOperations::Single(op) = &doc.operations else { panic!("one operation") };
        let OperationDefinition { selection_set, .. } = &op.node;
        let Selection::Field(people) = &selection_set.node.items[0].node else { panic!("a field") };
        plan(&people.node.selection_set.node, Ty::Connection).map(|sels| sels.len())
    }

    #[test]
    fn plans_plain_selections_of_every_listed_field() {
        let q = planned_query_with("", false);
        assert_eq!(plan_of(&q), Some(5), "{q}");
        let bench = "query($id: UUID!) { people(filter: {orgUnitId: $id}, first: 50) { edges { node { id givenName \
                     familyName birthDate household { id address } serviceRecords { date serviceType { code } } } } } }";
        assert_eq!(plan_of(bench), Some(1));
        assert_eq!(plan_of("{ people { edges { n: node { i: id id } } } }"), Some(1), "aliases are keys");
    }

    #[test]
    fn leaves_the_rest_to_the_executor() {
        for q in [
            // (At run time async-graphql has applied `@skip` and `@include` and removed them.)
            "{ people { edges { node { id @include(if: true) } } } }",
            "{ people { edges { node { ...F } } } } fragment F on Person { id }",
            "{ people { edges { node { ... on Person { id } } } } }",
            "{ people { edges { node { id id } } } }",
            "{ people { edges { node { ageMonths(asOf: \"2026-01-01\") } } } }",
            "{ people { edges { node { orgUnit { id } } } } }",
            "{ people { edges { node { serviceRecords { note } } } } }",
            "{ people { edges { node { household { members { id } } } } } }",
        ] {
            assert_eq!(plan_of(q), None, "{q}");
        }
    }
}
