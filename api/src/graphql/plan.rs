//! Pages of people answered from a plan of their selection.
//!
//! async-graphql resolves every field of every object as a boxed future of its own, and a page of
//! 50 people with their households and service records is ~1,100 fields: half the server's CPU
//! for that page went on the executor and its allocations (profile in the issue-7 notes). This
//! module reads the selection as the executor would — named and inline fragments (with type
//! conditions, interfaces included), aliases, repeated keys merged, `__typename`; async-graphql
//! has applied and removed `@skip` and `@include` by then — and, when every field it selects is
//! one listed here, reads each relation in one batch through the same loaders' scoped store calls
//! and writes the answer itself. Any other selection (a field with arguments, another directive,
//! a field not listed) goes through the executor. `tests/` runs fragment-shaped queries of every
//! field listed here on a server with the plan and one without, for every kind of caller; a
//! field resolver changed without this module fails it.
//!
//! An error on the planned path (a failed statement, an unknown value in the database) sends the
//! page through the executor, which reports it on the field it belongs to.

use super::RequestData;
use super::connection::Conn;
use super::org_units::OrgUnit;
use super::people::{Household, Person, life_stage_of};
use super::services::{LifeStage, ServiceRecord, ServiceType};
use crate::disclosure;
use crate::domain::age;
use crate::domain::vocab::{
    DetailKind, Disability, Dwelling, MigrantStatus, OrgUnitLevel, RelationToHead, Sector, Settlement, Sex, TargetGroup,
};
use crate::error::{ApiError, ApiResult};
use crate::store::Store;
use async_graphql::connection::{Edge, EmptyFields, PageInfo};
use async_graphql::dataloader::Loader;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{EnumType, enum_value};
use async_graphql::{ContextSelectionSet, ID, Name, OutputType, Positioned, ScalarType, ServerResult, Value};
use entity::service_record::Brief;
use entity::{household, life_stage, org_unit, person, service_type};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;

/// Whether pages are answered from their plan (`CBSS_PLANNER`), and how many were: schema data.
#[derive(Clone)]
pub struct Planning {
    pub enabled: bool,
    pub answered: Arc<AtomicU64>,
}

impl Planning {
    pub fn new(enabled: bool) -> Self {
        Self { enabled, answered: Arc::default() }
    }
}

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
pub const ORG_UNIT_FIELDS: &[&str] =
    &["id", "code", "nameEn", "nameMn", "level", "depth", "validFrom", "validTo", "settlement", "isDemo"];
pub const LIFE_STAGE_FIELDS: &[&str] =
    &["code", "nameEn", "nameMn", "criterion", "minAgeValue", "minAgeUnit", "maxAgeValue", "maxAgeUnit"];
pub const PAGE_INFO_FIELDS: &[&str] = &["hasPreviousPage", "hasNextPage", "startCursor", "endCursor"];
pub const CONNECTION_FIELDS: &[&str] = &["totalCount"];
pub const EDGE_FIELDS: &[&str] = &["cursor"];

/// The object types the plan knows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ty {
    Connection,
    Edge,
    PageInfo,
    Person,
    Household,
    ServiceRecord,
    ServiceType,
    OrgUnit,
    LifeStage,
}

/// The connection's edge type.
type PersonEdge = Edge<String, Person, EmptyFields>;

impl Ty {
    /// The type's name in the schema, from the type itself.
    pub fn name(self) -> Cow<'static, str> {
        match self {
            Ty::Connection => Conn::<Person>::type_name(),
            Ty::Edge => PersonEdge::type_name(),
            Ty::PageInfo => PageInfo::type_name(),
            Ty::Person => Person::type_name(),
            Ty::Household => Household::type_name(),
            Ty::ServiceRecord => ServiceRecord::type_name(),
            Ty::ServiceType => ServiceType::type_name(),
            Ty::OrgUnit => OrgUnit::type_name(),
            Ty::LifeStage => LifeStage::type_name(),
        }
    }

    pub fn plain_fields(self) -> &'static [&'static str] {
        match self {
            Ty::Connection => CONNECTION_FIELDS,
            Ty::Edge => EDGE_FIELDS,
            Ty::PageInfo => PAGE_INFO_FIELDS,
            Ty::Person => PERSON_FIELDS,
            Ty::Household => HOUSEHOLD_FIELDS,
            Ty::ServiceRecord => SERVICE_RECORD_FIELDS,
            Ty::ServiceType => SERVICE_TYPE_FIELDS,
            Ty::OrgUnit => ORG_UNIT_FIELDS,
            Ty::LifeStage => LIFE_STAGE_FIELDS,
        }
    }

    /// The object fields the plan follows, with their types.
    pub fn object_fields(self) -> &'static [(&'static str, Ty)] {
        match self {
            Ty::Connection => &[("edges", Ty::Edge), ("nodes", Ty::Person), ("pageInfo", Ty::PageInfo)],
            Ty::Edge => &[("node", Ty::Person)],
            Ty::Person => &[
                ("household", Ty::Household),
                ("serviceRecords", Ty::ServiceRecord),
                ("orgUnit", Ty::OrgUnit),
                ("lifeStage", Ty::LifeStage),
            ],
            Ty::Household => &[("orgUnit", Ty::OrgUnit)],
            Ty::ServiceRecord => &[("serviceType", Ty::ServiceType)],
            Ty::PageInfo | Ty::ServiceType | Ty::OrgUnit | Ty::LifeStage => &[],
        }
    }

    fn object_field(self, name: &str) -> Option<Ty> {
        self.object_fields().iter().find(|(f, _)| *f == name).map(|(_, t)| *t)
    }
}

/// One selected field: the key it answers under, its name, and the plan of its selection.
#[derive(Debug)]
struct Sel<'a> {
    key: &'a Name,
    name: &'a str,
    sub: Vec<Sel<'a>>,
}

/// Reads a selection as the executor collects it: fragments spread where their type condition
/// applies, fields of one response key merged.
struct Planner<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    registry: &'a Registry,
}

impl<'a> Planner<'a> {
    /// The plan of `set` on a `ty`, or `None` when the executor must answer it.
    fn plan(&self, set: &'a SelectionSet, ty: Ty) -> Option<Vec<Sel<'a>>> {
        let mut sels = Vec::with_capacity(set.items.len());
        self.collect(set, ty, &mut sels)?;
        Some(sels)
    }

    fn collect(&self, set: &'a SelectionSet, ty: Ty, sels: &mut Vec<Sel<'a>>) -> Option<()> {
        for item in &set.items {
            // Only `@skip` and `@include` are known, and they are gone by now.
            if !item.node.directives().is_empty() {
                return None;
            }
            match &item.node {
                Selection::Field(field) => self.field(field, ty, sels)?,
                Selection::FragmentSpread(spread) => {
                    let fragment = &self.fragments.get(&spread.node.fragment_name.node)?.node;
                    if !fragment.directives.is_empty() {
                        return None;
                    }
                    if self.applies(&fragment.type_condition.node.on.node, ty) {
                        self.collect(&fragment.selection_set.node, ty, sels)?;
                    }
                }
                Selection::InlineFragment(inline) => {
                    let on = inline.node.type_condition.as_ref().map(|c| &c.node.on.node);
                    if on.is_none_or(|on| self.applies(on, ty)) {
                        self.collect(&inline.node.selection_set.node, ty, sels)?;
                    }
                }
            }
        }
        Some(())
    }

    fn field(&self, field: &'a Positioned<Field>, ty: Ty, sels: &mut Vec<Sel<'a>>) -> Option<()> {
        let Field { name, arguments, selection_set, .. } = &field.node;
        if !arguments.is_empty() {
            return None;
        }
        let (key, name, children) = (&field.node.response_key().node, name.node.as_str(), &selection_set.node);
        let object = ty.object_field(name);
        let known = match object {
            Some(_) => !children.items.is_empty(),
            None => children.items.is_empty() && (name == "__typename" || ty.plain_fields().contains(&name)),
        };
        if !known {
            return None;
        }
        // Fields of one key are one field (validation made sure they can be): their
        // selections merge, as the executor merges their values.
        let at = match sels.iter().position(|s| s.key == key) {
            Some(at) if sels[at].name == name => at,
            Some(_) => return None,
            None => {
                sels.push(Sel { key, name, sub: Vec::new() });
                sels.len() - 1
            }
        };
        match object {
            Some(t) => self.collect(children, t, &mut sels[at].sub),
            None => Some(()),
        }
    }

    /// Whether a fragment on `on` applies to an object of `ty`: its own type, or an interface
    /// (or union) it belongs to.
    fn applies(&self, on: &str, ty: Ty) -> bool {
        let name = ty.name();
        on == name || self.registry.types.get(on).is_some_and(|t| t.is_possible_type(&name))
    }
}

/// Whether a `ty` anywhere in the plan selects `name`.
fn selects_on(sels: &[Sel<'_>], ty: Ty, on: Ty, name: &str) -> bool {
    sels.iter().any(|s| {
        let sub = ty.object_field(s.name);
        (ty == on && s.name == name) || sub.is_some_and(|t| selects_on(&s.sub, t, on, name))
    })
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
        let planning = ctx.data_opt::<Planning>().filter(|p| p.enabled);
        let planner = Planner { fragments: &ctx.query_env.fragments, registry: &ctx.schema_env.registry };
        if let Some((planning, sels)) = planning.zip(planner.plan(&field.node.selection_set.node, Ty::Connection)) {
            // The `people` resolver checked the caller before it made this page.
            match self.answer(ctx.data_unchecked::<RequestData>(), &sels).await {
                Ok(value) => {
                    planning.answered.fetch_add(1, Ordering::Relaxed);
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

/// What the planned answer reads besides the page, each only when the plan selects it.
struct Read<'a> {
    store: &'a Store,
    households: HashMap<Uuid, Arc<Vec<household::Model>>>,
    records: HashMap<Uuid, Arc<Vec<Brief>>>,
    units: HashMap<Uuid, Arc<Vec<org_unit::Model>>>,
    /// Each person's life stage today.
    stages: HashMap<Uuid, &'a life_stage::Model>,
    /// The service catalogue.
    types: Option<&'a HashMap<Uuid, Arc<service_type::Model>>>,
}

type Answer = async_graphql::Result<Value>;

/// The distinct keys of `ids`, as one loader batch takes them.
fn keys(ids: impl Iterator<Item = Uuid>) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Loads `ids` through `loader` when `wanted` (the same batch its resolver's loader makes).
async fn batch<L: Loader<Uuid>>(loader: &L, wanted: bool, ids: Vec<Uuid>) -> Result<HashMap<Uuid, L::Value>, L::Error> {
    if !wanted || ids.is_empty() {
        return Ok(HashMap::new());
    }
    loader.load(&ids).await
}

impl PeoplePage {
    async fn answer(&self, d: &RequestData, sels: &[Sel<'_>]) -> Answer {
        let conn = &self.0;
        let people = || conn.edges.iter().map(|e| &e.node.0);
        let on = |ty, name| selects_on(sels, Ty::Connection, ty, name);
        let households = batch(
            d.loaders.household.loader(),
            on(Ty::Person, "household"),
            keys(people().filter_map(|p| p.household_id)),
        );
        let records = batch(d.loaders.brief_records_of_person.loader(), on(Ty::Person, "serviceRecords"), {
            people().map(|p| p.id).collect()
        });
        let pregnancies = batch(d.loaders.pregnancies_of_mother.loader(), on(Ty::Person, "lifeStage"), {
            people().map(|p| p.id).collect()
        });
        let (households, records, pregnancies) = tokio::try_join!(households, records, pregnancies)?;
        // Units of the people, and of their households once those are read.
        let unit_ids = keys((people().map(|p| p.org_unit_id).filter(|_| on(Ty::Person, "orgUnit"))).chain(
            households.values().flat_map(|h| h.iter().map(|h| h.org_unit_id)).filter(|_| on(Ty::Household, "orgUnit")),
        ));
        let units = batch(d.loaders.org_unit.loader(), true, unit_ids).await?;
        let total = match sels.iter().any(|s| s.name == "totalCount") {
            true => Some(conn.additional_fields.count().await?),
            false => None,
        };
        let types = match on(Ty::ServiceRecord, "serviceType") {
            true => Some(d.service_types().await?),
            false => None,
        };
        let mut stages = HashMap::new();
        if on(Ty::Person, "lifeStage") {
            let (rules, follow_up) = (d.life_stages().await?, d.schedule().await?.follow_up);
            let today = d.store.reference_day(None);
            for p in people() {
                let theirs = pregnancies.get(&p.id).map_or(&[][..], |v| v.as_slice());
                if let Some(stage) = life_stage_of(&d.store, rules, follow_up, p, theirs, today) {
                    stages.insert(p.id, stage);
                }
            }
        }
        let read = Read { store: &d.store, households, records, units, stages, types };
        read.object(Ty::Connection, sels, |s| {
            Ok(match s.name {
                "__typename" => typename(Ty::Connection),
                "edges" => list(conn.edges.iter(), |e| {
                    read.object(Ty::Edge, &s.sub, |f| {
                        Ok(match f.name {
                            "__typename" => typename(Ty::Edge),
                            "cursor" => Value::String(e.cursor.clone()),
                            "node" => read.person(&e.node.0, &f.sub)?,
                            _ => return Err(unplanned(f)),
                        })
                    })
                })?,
                "nodes" => list(people(), |p| read.person(p, &s.sub))?,
                "pageInfo" => {
                    let cursor = |e: Option<&PersonEdge>| e.map(|e| e.cursor.clone());
                    read.object(Ty::PageInfo, &s.sub, |f| {
                        Ok(match f.name {
                            "__typename" => typename(Ty::PageInfo),
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
    fn object(&self, ty: Ty, sels: &[Sel<'_>], mut value: impl FnMut(&Sel<'_>) -> Answer) -> Answer {
        if self.store.identified() {
            return object(sels, value);
        }
        let name = ty.name();
        object(sels, |s| {
            if s.name.starts_with("__") {
                return value(s);
            }
            let class = disclosure::output(&name, s.name).unwrap_or(disclosure::Out::Withheld);
            disclosure::readable(self.store.reader(), class)?;
            if class.withheld() {
                return Ok(Value::Null);
            }
            Ok(disclosure::shown(class, value(s)?, |id| self.store.public_id(id)))
        })
    }

    /// As the loader's `one`: the last row of the key, null when out of scope.
    fn unit(&self, id: Uuid, sels: &[Sel<'_>]) -> Answer {
        match self.units.get(&id).and_then(|u| u.last()) {
            Some(u) => self.org_unit(u, sels),
            None => Ok(Value::Null),
        }
    }

    fn person(&self, p: &person::Model, sels: &[Sel<'_>]) -> Answer {
        self.object(Ty::Person, sels, |s| {
            Ok(match s.name {
                "__typename" => typename(Ty::Person),
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
                "household" => match p.household_id.and_then(|h| self.households.get(&h)?.last()) {
                    Some(h) => self.household(h, &s.sub)?,
                    None => Value::Null,
                },
                "serviceRecords" => match self.records.get(&p.id) {
                    Some(rows) => list(rows.iter(), |r| self.record(r, &s.sub))?,
                    None => Value::List(Vec::new()),
                },
                "orgUnit" => self.unit(p.org_unit_id, &s.sub)?,
                "lifeStage" => match self.stages.get(&p.id) {
                    Some(stage) => self.life_stage(stage, &s.sub)?,
                    None => Value::Null,
                },
                _ => return Err(unplanned(s)),
            })
        })
    }

    fn household(&self, h: &household::Model, sels: &[Sel<'_>]) -> Answer {
        self.object(Ty::Household, sels, |s| {
            Ok(match s.name {
                "__typename" => typename(Ty::Household),
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
                "orgUnit" => self.unit(h.org_unit_id, &s.sub)?,
                _ => return Err(unplanned(s)),
            })
        })
    }

    fn record(&self, r: &Brief, sels: &[Sel<'_>]) -> Answer {
        self.object(Ty::ServiceRecord, sels, |s| {
            Ok(match s.name {
                "__typename" => typename(Ty::ServiceRecord),
                "id" => scalar(r.id),
                "date" => scalar(r.service_date),
                "version" => scalar(r.version),
                "serviceType" => match self.types.and_then(|t| t.get(&r.service_type_id)) {
                    Some(t) => self.service_type(t, &s.sub)?,
                    None => Value::Null,
                },
                _ => return Err(unplanned(s)),
            })
        })
    }

    fn org_unit(&self, u: &org_unit::Model, sels: &[Sel<'_>]) -> Answer {
        self.object(Ty::OrgUnit, sels, |s| {
            Ok(match s.name {
                "__typename" => typename(Ty::OrgUnit),
                "id" => scalar(ID(u.id.to_string())),
                "code" => Value::String(u.code.clone()),
                "nameEn" => Value::String(u.name_en.clone()),
                "nameMn" => Value::String(u.name_mn.clone()),
                "level" => enum_value(OrgUnitLevel::from_db(&u.level)?),
                "depth" => scalar(u.depth),
                "validFrom" => opt(u.valid_from),
                "validTo" => opt(u.valid_to),
                "settlement" => vocab(u.settlement.as_deref(), Settlement::from_db)?,
                "isDemo" => Value::Boolean(u.is_demo),
                _ => return Err(unplanned(s)),
            })
        })
    }

    fn life_stage(&self, l: &life_stage::Model, sels: &[Sel<'_>]) -> Answer {
        self.object(Ty::LifeStage, sels, |s| {
            Ok(match s.name {
                "__typename" => typename(Ty::LifeStage),
                "code" => Value::String(l.code.clone()),
                "nameEn" => Value::String(l.name_en.clone()),
                "nameMn" => Value::String(l.name_mn.clone()),
                "criterion" => Value::String(l.criterion.clone()),
                "minAgeValue" => opt(l.min_age_value),
                "minAgeUnit" => opt(l.min_age_unit.clone()),
                "maxAgeValue" => opt(l.max_age_value),
                "maxAgeUnit" => opt(l.max_age_unit.clone()),
                _ => return Err(unplanned(s)),
            })
        })
    }

    fn service_type(&self, t: &service_type::Model, sels: &[Sel<'_>]) -> Answer {
        self.object(Ty::ServiceType, sels, |s| {
            Ok(match s.name {
                "__typename" => typename(Ty::ServiceType),
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

fn typename(ty: Ty) -> Value {
    Value::String(ty.name().into_owned())
}

/// A field `plan` let through and the answer does not know: a bug in this module.
fn unplanned(s: &Sel<'_>) -> async_graphql::Error {
    ApiError::Internal(anyhow::anyhow!("the people page plan has no answer for {:?}", s.name)).into()
}

/// Every field the plan answers on a `ty`, nested; as a named fragment per type when `named`.
fn every(ty: Ty, named: bool) -> String {
    let mut out = format!("__typename {}", ty.plain_fields().join(" "));
    for (field, t) in ty.object_fields() {
        let inner = if named { format!("...{}Fields", t.name()) } else { every(*t, false) };
        out.push_str(&format!(" {field} {{ {inner} }}"));
    }
    out
}

/// Queries of the `people` page selecting every field the plan answers, written as clients write
/// them: plain; Relay-style, a named fragment per type with an operation name and a variable;
/// inline fragments on the type and on an interface, aliases, repeated keys, `@skip` and
/// `@include`. `args` are the page's arguments. Tests run each with the plan and without.
pub fn planned_queries(args: &str) -> Vec<String> {
    use Ty::*;
    let plain = format!("{{ people{args} {{ {} }} }}", every(Connection, false));
    let fragments: String =
        [Connection, Edge, PageInfo, Person, Household, ServiceRecord, ServiceType, OrgUnit, LifeStage]
            .iter()
            .map(|t| format!("fragment {0}Fields on {0} {{ {1} }}\n", t.name(), every(*t, true)))
            .collect();
    let relay = format!(
        "query PeopleList($stage: Boolean = true) {{ people{args} {{ ...PersonConnectionFields }} }}\n{fragments}"
    )
    .replace("lifeStage {", "lifeStage @include(if: $stage) {");
    let mixed = format!(
        "query Mixed($hide: Boolean = true) {{ people{args} {{ ... on PersonConnection {{ totalCount }} \
         edges {{ ... {{ cursor }} node {{ ... on Node {{ id }} ...Names hh: household {{ id }} \
         household {{ address }} household {{ orgUnit {{ code }} dwelling }} stage: lifeStage {{ code }} \
         lifeStage {{ nameEn }} ageMonths(asOf: \"2020-01-01\") @skip(if: $hide) \
         serviceRecords {{ __typename }} serviceRecords {{ ... on ServiceRecord {{ date serviceType {{ code }} }} }} \
         orgUnit {{ ...Unit }} }} }} nodes {{ id id sex }} }} }}\n\
         fragment Names on Person {{ givenName familyName birthDate id }}\n\
         fragment Unit on OrgUnit {{ code level ... on OrgUnit {{ nameEn }} }}"
    );
    vec![plain, relay, mixed]
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;
    use async_graphql::parser::types::{DocumentOperations, OperationDefinition};

    /// The plan of the `people` field of a query's first operation, if it has one.
    fn plan_of(query: &str) -> Option<usize> {
        let doc = parse_query(query).unwrap();
        let op = match &doc.operations {
            DocumentOperations::Single(op) => op,
            DocumentOperations::Multiple(ops) => ops.values().next().unwrap(),
        };
        let OperationDefinition { selection_set, .. } = &op.node;
        let Selection::Field(people) = &selection_set.node.items[0].node else { panic!("a field") };
        let mut registry = Registry::default();
        <super::super::Query as OutputType>::create_type_info(&mut registry);
        let planner = Planner { fragments: &doc.fragments, registry: &registry };
        planner.plan(&people.node.selection_set.node, Ty::Connection).map(|sels| sels.len())
    }

    #[test]
    fn plans_every_listed_field_however_the_client_writes_it() {
        let [plain, relay, mixed] = &planned_queries("(first: 10)")[..] else { panic!("three") };
        assert_eq!(plan_of(plain), Some(5), "{plain}");
        // (At run time `@include` and `@skip` are gone: async-graphql applied them.)
        let run = |q: &str| q.replace(" @include(if: $stage)", "").replace(" @skip(if: $hide)", "");
        assert_eq!(plan_of(&run(relay)), Some(5), "{relay}");
        let mixed = run(mixed).replace("ageMonths(asOf: \"2020-01-01\")", "");
        assert_eq!(plan_of(&mixed), Some(3), "{mixed}");
        let bench = "query($id: UUID!) { people(filter: {orgUnitId: $id}, first: 50) { edges { node { id givenName \
                     familyName birthDate household { id address } serviceRecords { date serviceType { code } } } } } }";
        assert_eq!(plan_of(bench), Some(1));
        assert_eq!(plan_of("{ people { edges { n: node { i: id id } } } }"), Some(1), "aliases are keys");
        let fragments = "{ people { edges { node { ...F ... on Node { id } } } } } fragment F on Person { id }";
        assert_eq!(plan_of(fragments), Some(1));
        // A fragment on another type of an interface applies to none of the page's people.
        assert_eq!(
            plan_of("{ people { edges { node { ... on Node { ... on Household { members { id } } } } } } }"),
            Some(1)
        );
    }

    #[test]
    fn merges_the_fields_of_one_key() {
        let doc = parse_query("{ people { nodes { id household { id } id household { address } } } }").unwrap();
        let DocumentOperations::Single(op) = &doc.operations else { panic!("one operation") };
        let Selection::Field(people) = &op.node.selection_set.node.items[0].node else { panic!("a field") };
        let registry = Registry::default();
        let planner = Planner { fragments: &doc.fragments, registry: &registry };
        let sels = planner.plan(&people.node.selection_set.node, Ty::Connection).unwrap();
        let node = &sels[0].sub;
        assert_eq!(node.iter().map(|s| s.name).collect::<Vec<_>>(), ["id", "household"]);
        assert_eq!(node[1].sub.iter().map(|s| s.name).collect::<Vec<_>>(), ["id", "address"]);
    }

    #[test]
    fn leaves_the_rest_to_the_executor() {
        for q in [
            "{ people { edges { node { id @deprecated } } } }",
            "{ people { edges { node { ...F @deprecated } } } } fragment F on Person { id }",
            "{ people { edges { node { ageMonths(asOf: \"2026-01-01\") } } } }",
            "{ people { edges { node { lifeStage(asOf: \"2026-01-01\") { code } } } } }",
            "{ people { edges { node { serviceRecords { note } } } } }",
            "{ people { edges { node { household { members { id } } } } } }",
            "{ people { edges { node { orgUnit { parent { id } } } } } }",
            "{ people { edges { node { id: givenName id } } } }",
        ] {
            assert_eq!(plan_of(q), None, "{q}");
        }
    }
}
