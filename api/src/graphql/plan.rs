//! Pages and records of people and households answered from a plan of their selection.
//!
//! async-graphql resolves every field of every object as a boxed future of its own, and a page of
//! 50 people with their households and service records is ~1,100 fields: half the server's CPU
//! for that page went on the executor and its allocations (profile in the issue-7 notes). This
//! module reads the selection as the executor would — named and inline fragments (with type
//! conditions, interfaces included), aliases, repeated keys merged, `__typename`; async-graphql
//! has applied and removed `@skip` and `@include` by then — and, when every field it selects is
//! one listed here, reads it level by level, each relation of a level in one statement in the
//! caller's scope as its loader reads it (no batching timer: the parents are known), of the
//! columns the selected fields declare (`*_COLUMNS`) where the plan reads the rows itself, and
//! writes the answer itself. Any other selection (a field with arguments, another directive, a field not
//! listed) goes through the executor. `tests/` runs queries selecting every field listed here,
//! written as clients write them, on a server with the plan and on one without
//! (`CBSS_PLANNER=false`), for every kind of caller; a resolver changed alone fails it.
//!
//! An error on the planned path (a failed statement, an unknown value in the database) sends the
//! answer through the executor, which reports it on the field it belongs to.

use super::RequestData;
use super::connection::{Conn, Total};
use super::org_units::OrgUnit;
use super::people::{
    Household, Person, Pregnancy, gestation_weeks, life_stage_of, pregnancy_status, skilled_attendance,
};
use super::services::{LifeStage, ServiceRecord, ServiceType};
use crate::disclosure;
use crate::domain::age;
use crate::domain::pregnancy::FollowUp;
use crate::domain::vocab::{
    BirthAttendant, DeliveryPlace, DetailKind, Disability, Dwelling, MigrantStatus, OrgUnitLevel, PregnancyOutcome,
    RelationToHead, Sector, Settlement, Sex, TargetGroup,
};
use crate::error::{ApiError, ApiResult};
use crate::store::{LifeStageRules, Store, today};
use async_graphql::connection::{Edge, EmptyFields, PageInfo};
use async_graphql::dataloader::Loader;
use async_graphql::futures_util::future::BoxFuture;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{EnumType, enum_value};
use async_graphql::{ContextSelectionSet, ID, Name, OutputType, Positioned, ScalarType, ServerResult, Value};
use chrono::NaiveDate;
use entity::{household, life_stage, org_unit, person, pregnancy, service_record, service_type};
use sea_orm::{EntityTrait, IdenStatic};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;

/// Whether answers are planned (`CBSS_PLANNER`), and how many were: schema data.
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
pub const SERVICE_RECORD_FIELDS: &[&str] = &["id", "date", "provider", "recordedBy", "note", "version", "createdAt"];

/// The columns each field the plan answers reads, for the rows it reads itself (the first
/// level's rows are the root field's, read whole): a plan reads rows with the columns its
/// selections need and no others.
const PERSON_COLUMNS: &[(&str, &[person::Column])] = {
    use person::Column::*;
    &[
        ("id", &[Id]),
        ("givenName", &[GivenName]),
        ("familyName", &[FamilyName]),
        ("sex", &[Sex]),
        ("birthDate", &[BirthDate]),
        ("birthMonth", &[BirthDate]),
        ("birthDateEstimated", &[BirthDateEstimated]),
        ("ageMonths", &[BirthDate]),
        ("relationToHead", &[RelationToHead]),
        ("registryNumber", &[RegistryNumber]),
        ("phone", &[Phone]),
        ("disability", &[Disability]),
        ("dateOfDeath", &[DateOfDeath]),
        ("version", &[Version]),
        ("createdAt", &[CreatedAt]),
        ("updatedAt", &[UpdatedAt]),
        ("household", &[HouseholdId]),
        ("serviceRecords", &[Id]),
        ("orgUnit", &[OrgUnitId]),
        ("lifeStage", &[Id, BirthDate]),
        ("pregnancies", &[Id]),
    ]
};
const HOUSEHOLD_COLUMNS: &[(&str, &[household::Column])] = {
    use household::Column::*;
    &[
        ("id", &[Id]),
        ("address", &[Address]),
        ("description", &[Description]),
        ("dwelling", &[Dwelling]),
        ("isHerder", &[IsHerder]),
        ("migrantStatus", &[MigrantStatus]),
        ("registeredOn", &[RegisteredOn]),
        ("version", &[Version]),
        ("createdAt", &[CreatedAt]),
        ("updatedAt", &[UpdatedAt]),
        ("orgUnit", &[OrgUnitId]),
        ("members", &[Id]),
        ("serviceRecords", &[Id]),
    ]
};
const SERVICE_RECORD_COLUMNS: &[(&str, &[service_record::Column])] = {
    use service_record::Column::*;
    &[
        ("id", &[Id]),
        ("date", &[ServiceDate]),
        ("provider", &[Provider]),
        ("recordedBy", &[RecordedBy]),
        ("note", &[Note]),
        ("version", &[Version]),
        ("createdAt", &[CreatedAt]),
        ("serviceType", &[ServiceTypeId]),
    ]
};
pub const PREGNANCY_FIELDS: &[&str] = &[
    "id",
    "lastMenstrualPeriod",
    "expectedDeliveryDate",
    "registeredOn",
    "gestationWeeks",
    "status",
    "outcome",
    "outcomeDate",
    "deliveryPlace",
    "attendant",
    "skilledAttendance",
    "version",
];
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
    PersonConnection,
    PersonEdge,
    HouseholdConnection,
    HouseholdEdge,
    PageInfo,
    Person,
    Household,
    ServiceRecord,
    ServiceType,
    OrgUnit,
    LifeStage,
    Pregnancy,
}

impl Ty {
    /// The type's name in the schema, from the type itself.
    pub fn name(self) -> Cow<'static, str> {
        match self {
            Ty::PersonConnection => Conn::<Person>::type_name(),
            Ty::PersonEdge => Edge::<String, Person, EmptyFields>::type_name(),
            Ty::HouseholdConnection => Conn::<Household>::type_name(),
            Ty::HouseholdEdge => Edge::<String, Household, EmptyFields>::type_name(),
            Ty::PageInfo => PageInfo::type_name(),
            Ty::Person => Person::type_name(),
            Ty::Household => Household::type_name(),
            Ty::ServiceRecord => ServiceRecord::type_name(),
            Ty::ServiceType => ServiceType::type_name(),
            Ty::OrgUnit => OrgUnit::type_name(),
            Ty::LifeStage => LifeStage::type_name(),
            Ty::Pregnancy => Pregnancy::type_name(),
        }
    }

    pub fn plain_fields(self) -> &'static [&'static str] {
        match self {
            Ty::PersonConnection | Ty::HouseholdConnection => CONNECTION_FIELDS,
            Ty::PersonEdge | Ty::HouseholdEdge => EDGE_FIELDS,
            Ty::PageInfo => PAGE_INFO_FIELDS,
            Ty::Person => PERSON_FIELDS,
            Ty::Household => HOUSEHOLD_FIELDS,
            Ty::ServiceRecord => SERVICE_RECORD_FIELDS,
            Ty::ServiceType => SERVICE_TYPE_FIELDS,
            Ty::OrgUnit => ORG_UNIT_FIELDS,
            Ty::LifeStage => LIFE_STAGE_FIELDS,
            Ty::Pregnancy => PREGNANCY_FIELDS,
        }
    }

    /// The object fields the plan follows, with their types.
    pub fn object_fields(self) -> &'static [(&'static str, Ty)] {
        match self {
            Ty::PersonConnection => &[("edges", Ty::PersonEdge), ("nodes", Ty::Person), ("pageInfo", Ty::PageInfo)],
            Ty::PersonEdge => &[("node", Ty::Person)],
            Ty::HouseholdConnection => {
                &[("edges", Ty::HouseholdEdge), ("nodes", Ty::Household), ("pageInfo", Ty::PageInfo)]
            }
            Ty::HouseholdEdge => &[("node", Ty::Household)],
            Ty::Person => &[
                ("household", Ty::Household),
                ("serviceRecords", Ty::ServiceRecord),
                ("orgUnit", Ty::OrgUnit),
                ("lifeStage", Ty::LifeStage),
                ("pregnancies", Ty::Pregnancy),
            ],
            Ty::Household => {
                &[("orgUnit", Ty::OrgUnit), ("members", Ty::Person), ("serviceRecords", Ty::ServiceRecord)]
            }
            Ty::ServiceRecord => &[("serviceType", Ty::ServiceType)],
            Ty::Pregnancy => &[("serviceRecords", Ty::ServiceRecord)],
            Ty::PageInfo | Ty::ServiceType | Ty::OrgUnit | Ty::LifeStage => &[],
        }
    }

    fn object_field(self, name: &str) -> Option<Ty> {
        self.object_fields().iter().find(|(f, _)| *f == name).map(|(_, t)| *t)
    }
}

/// One selected field: the key it answers under, its name, and the plan of its selection.
#[derive(Debug)]
pub struct Sel<'a> {
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

/// Whether a `on` anywhere in a plan of a `ty` selects `name`.
fn selects_on(sels: &[Sel<'_>], ty: Ty, on: Ty, name: &str) -> bool {
    sels.iter().any(|s| {
        let sub = ty.object_field(s.name);
        (ty == on && s.name == name) || sub.is_some_and(|t| selects_on(&s.sub, t, on, name))
    })
}

/// The columns the selections on `on` anywhere in a plan of a `ty` read, added to `columns`:
/// rows of a key are read once per answer, for every place that selects them. `None` when a
/// selected field declares no columns.
fn columns_on<C: IdenStatic + Copy>(
    sels: &[Sel<'_>],
    ty: Ty,
    on: Ty,
    table: &[(&str, &[C])],
    columns: &mut Vec<C>,
) -> Option<()> {
    for s in sels {
        if ty == on && !s.name.starts_with("__") {
            let (_, of) = table.iter().find(|(f, _)| *f == s.name)?;
            for c in *of {
                if !columns.iter().any(|k| k.as_str() == c.as_str()) {
                    columns.push(*c);
                }
            }
        }
        if let Some(t) = ty.object_field(s.name) {
            columns_on(&s.sub, t, on, table, columns)?;
        }
    }
    Some(())
}

/// The columns a plan reads of the rows it reads itself.
#[derive(Default)]
struct Columns {
    people: Vec<person::Column>,
    households: Vec<household::Column>,
    records: Vec<service_record::Column>,
}

impl Columns {
    /// The keys the plan reads relations by, and what `sels` of a `ty` select.
    fn of(sels: &[Sel<'_>], ty: Ty) -> Option<Self> {
        use {household::Column as H, person::Column as P};
        let mut c = Columns {
            people: vec![P::Id, P::HouseholdId, P::OrgUnitId],
            households: vec![H::Id, H::OrgUnitId],
            records: vec![service_record::Column::Id],
        };
        columns_on(sels, ty, Ty::Person, PERSON_COLUMNS, &mut c.people)?;
        columns_on(sels, ty, Ty::Household, HOUSEHOLD_COLUMNS, &mut c.households)?;
        columns_on(sels, ty, Ty::ServiceRecord, SERVICE_RECORD_COLUMNS, &mut c.records)?;
        // A pregnancy's records are its mother's that name it.
        if selects_on(sels, ty, Ty::Pregnancy, "serviceRecords") {
            c.records.push(service_record::Column::PregnancyId);
        }
        Some(c)
    }
}

/// A root field's value that the plan can answer: a page or a record of people or households.
pub trait Root: Send + Sync {
    /// What the executor answers instead (the same schema type).
    type Executed: OutputType;
    const TY: Ty;
    fn executed(&self) -> &Self::Executed;
    /// The rows of the plan's first level.
    fn level(&self) -> Level;
    /// The page's total, for a connection.
    fn total(&self) -> Option<&Total> {
        None
    }
    fn render(&self, r: &Render<'_>, sels: &[Sel<'_>], total: Option<Option<i64>>) -> Answer;
}

impl Root for Conn<Person> {
    type Executed = Self;
    const TY: Ty = Ty::PersonConnection;
    fn executed(&self) -> &Self {
        self
    }
    fn level(&self) -> Level {
        Level { people: self.edges.iter().map(|e| PersonKeys::of(&e.node.0)).collect(), ..Level::default() }
    }
    fn total(&self) -> Option<&Total> {
        Some(&self.additional_fields)
    }
    fn render(&self, r: &Render<'_>, sels: &[Sel<'_>], total: Option<Option<i64>>) -> Answer {
        r.connection((Ty::PersonConnection, Ty::PersonEdge), self, sels, total, |p, s| r.person(&p.0, s))
    }
}

impl Root for Conn<Household> {
    type Executed = Self;
    const TY: Ty = Ty::HouseholdConnection;
    fn executed(&self) -> &Self {
        self
    }
    fn level(&self) -> Level {
        Level { households: self.edges.iter().map(|e| HouseholdKeys::of(&e.node.0)).collect(), ..Level::default() }
    }
    fn total(&self) -> Option<&Total> {
        Some(&self.additional_fields)
    }
    fn render(&self, r: &Render<'_>, sels: &[Sel<'_>], total: Option<Option<i64>>) -> Answer {
        r.connection((Ty::HouseholdConnection, Ty::HouseholdEdge), self, sels, total, |h, s| r.household(&h.0, s))
    }
}

impl Root for Person {
    type Executed = Self;
    const TY: Ty = Ty::Person;
    fn executed(&self) -> &Self {
        self
    }
    fn level(&self) -> Level {
        Level { people: vec![PersonKeys::of(&self.0)], ..Level::default() }
    }
    fn render(&self, r: &Render<'_>, sels: &[Sel<'_>], _: Option<Option<i64>>) -> Answer {
        r.person(&self.0, sels)
    }
}

impl Root for Household {
    type Executed = Self;
    const TY: Ty = Ty::Household;
    fn executed(&self) -> &Self {
        self
    }
    fn level(&self) -> Level {
        Level { households: vec![HouseholdKeys::of(&self.0)], ..Level::default() }
    }
    fn render(&self, r: &Render<'_>, sels: &[Sel<'_>], _: Option<Option<i64>>) -> Answer {
        r.household(&self.0, sels)
    }
}

/// A root field's value, answered from its plan when the selection allows and by the executor
/// otherwise; typed as the value is in the schema.
pub struct Planned<T>(pub T);

impl<T: Root> OutputType for Planned<T> {
    fn type_name() -> Cow<'static, str> {
        T::Executed::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::Executed::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        let planning = ctx.data_opt::<Planning>().filter(|p| p.enabled);
        let planner = Planner { fragments: &ctx.query_env.fragments, registry: &ctx.schema_env.registry };
        let d = ctx.data_unchecked::<RequestData>();
        let plan = planner.plan(&field.node.selection_set.node, T::TY).filter(|sels| readable(&d.store, T::TY, sels));
        if let Some((planning, sels)) = planning.zip(plan) {
            // The root field's resolver checked the caller before it made this value.
            match answer(&self.0, d, &sels).await {
                Ok(value) => {
                    planning.answered.fetch_add(1, Ordering::Relaxed);
                    return Ok(value);
                }
                // The executor reports the error on the nested field it belongs to, and keeps
                // the rest of the answer where the field is nullable.
                // A field the caller may not read is refused there too, on its own path.
                Err(e) if e.extensions.as_ref().and_then(|x| x.get("code")) == Some(&Value::from("FORBIDDEN")) => {}
                Err(e) => tracing::warn!(error = e.message, "a planned answer failed; executing it"),
            }
        }
        self.0.executed().resolve(ctx, field).await
    }
}

type Answer = async_graphql::Result<Value>;

/// Whether the caller may read every field of a plan of a `ty`: a field refused to them is the
/// executor's to report, on its own path, before anything is read for it.
fn readable(store: &Store, ty: Ty, sels: &[Sel<'_>]) -> bool {
    store.identified()
        || sels.iter().all(|s| {
            let class = disclosure::class_of(&ty.name(), s.name);
            let sub = ty.object_field(s.name);
            s.name.starts_with("__")
                || (disclosure::readable(store.reader(), class).is_ok()
                    && sub.is_none_or(|t| readable(store, t, &s.sub)))
        })
}

async fn answer<T: Root>(root: &T, d: &RequestData, sels: &[Sel<'_>]) -> Answer {
    let columns = Columns::of(sels, T::TY)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a planned field declares no columns")))?;
    let mut read = Read { columns, ..Read::default() };
    fetch(d, &mut read, T::TY, sels, root.level()).await?;
    let total = match root.total().filter(|_| sels.iter().any(|s| s.name == "totalCount")) {
        Some(total) => Some(total.count().await?),
        None => None,
    };
    let types = match selects_on(sels, T::TY, Ty::ServiceRecord, "serviceType") {
        true => Some(d.service_types().await?),
        false => None,
    };
    let stage = selects_on(sels, T::TY, Ty::Person, "lifeStage");
    let stages = match stage {
        true => Some(d.life_stages().await?),
        false => None,
    };
    let dated = ["status", "gestationWeeks"].iter().any(|f| selects_on(sels, T::TY, Ty::Pregnancy, f));
    let follow_up = match stage || dated {
        true => Some(d.schedule().await?.follow_up),
        false => None,
    };
    let today = d.store.reference_day(None);
    let r = Render { store: &d.store, read: &read, types, stages, follow_up, today };
    root.render(&r, sels, total)
}

/// What the plan reads of a person to read its relations.
#[derive(Clone, Copy)]
struct PersonKeys {
    id: Uuid,
    household: Option<Uuid>,
    unit: Uuid,
}

impl PersonKeys {
    fn of(p: &person::Model) -> Self {
        Self { id: p.id, household: p.household_id, unit: p.org_unit_id }
    }
}

#[derive(Clone, Copy)]
struct HouseholdKeys {
    id: Uuid,
    unit: Uuid,
}

impl HouseholdKeys {
    fn of(h: &household::Model) -> Self {
        Self { id: h.id, unit: h.org_unit_id }
    }
}

/// The rows of one level of a plan, whose relations the next level reads.
#[derive(Clone, Default)]
pub struct Level {
    people: Vec<PersonKeys>,
    households: Vec<HouseholdKeys>,
    /// The mothers of a level of pregnancies.
    mothers: Vec<Uuid>,
}

type Rows<M> = HashMap<Uuid, Arc<Vec<M>>>;

/// The rows a plan read, by the key its loader groups them by.
#[derive(Default)]
pub struct Read {
    /// By id.
    households: Rows<household::Model>,
    /// By household.
    members: Rows<person::Model>,
    /// The columns rows are read with.
    columns: Columns,
    /// By person.
    person_records: Rows<service_record::Model>,
    /// By household.
    household_records: Rows<service_record::Model>,
    /// By id.
    units: Rows<org_unit::Model>,
    /// By mother.
    pregnancies: Rows<pregnancy::Model>,
}

/// The keys among `ids` that `rows` has not read yet, once each.
fn unread<M>(rows: &Rows<M>, wanted: bool, ids: impl Iterator<Item = Uuid>) -> Vec<Uuid> {
    if !wanted {
        return Vec::new();
    }
    let mut ids: Vec<Uuid> = ids.filter(|id| !rows.contains_key(id)).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Reads `ids` through `loader` (the batch its resolver's DataLoader makes), an empty list for a
/// key without rows, so that it is not asked again.
async fn batch<M: Clone + Send + Sync + 'static>(
    loader: &async_graphql::dataloader::DataLoader<super::loaders::Batch<M>>,
    ids: Vec<Uuid>,
) -> async_graphql::Result<Rows<M>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut rows = loader.loader().load(&ids).await?;
    for id in ids {
        rows.entry(id).or_default();
    }
    Ok(rows)
}

/// Groups the rows read for `ids` by `key`, with an empty list for a key without rows (so that
/// it is not read again).
fn grouped<M>(ids: Vec<Uuid>, rows: Vec<M>, key: impl Fn(&M) -> Option<Uuid>) -> Rows<M> {
    let mut grouped: HashMap<Uuid, Vec<M>> = ids.into_iter().map(|id| (id, Vec::new())).collect();
    for r in rows {
        if let Some(list) = key(&r).and_then(|k| grouped.get_mut(&k)) {
            list.push(r);
        }
    }
    grouped.into_iter().map(|(k, v)| (k, Arc::new(v))).collect()
}

/// A column that rows are read by, and how to read it from a row.
type KeyColumn<E> = (<E as EntityTrait>::Column, fn(&<E as EntityTrait>::Model) -> Option<Uuid>);

/// Reads rows of `E` whose `column` is one of `ids`, in the caller's scope as the loaders read
/// them, of `columns` only; grouped by `key`.
async fn projected<E: crate::access::Scoped>(
    store: &Store,
    (column, key): KeyColumn<E>,
    columns: &[E::Column],
    ids: Vec<Uuid>,
) -> async_graphql::Result<Rows<E::Model>>
where
    E::Model: entity::read::Projected + Send + Sync,
{
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = store.projected_where_in::<E>(column, &ids, columns).await?;
    Ok(grouped(ids, rows, key))
}

/// A person's or a household's service records, as `projected`, newest first.
async fn records(
    store: &Store,
    (column, key): KeyColumn<service_record::Entity>,
    columns: &[service_record::Column],
    ids: Vec<Uuid>,
) -> async_graphql::Result<Rows<service_record::Model>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = store.projected_service_records(column, &ids, columns).await?;
    Ok(grouped(ids, rows, key))
}

/// Reads the relations a plan of a `ty` selects for the rows of `level`, level by level: each
/// relation of a level in one batch, and the levels below from the rows read.
fn fetch<'a>(
    d: &'a RequestData,
    read: &'a mut Read,
    ty: Ty,
    sels: &'a [Sel<'a>],
    level: Level,
) -> BoxFuture<'a, async_graphql::Result<()>> {
    Box::pin(async move {
        let wants = |name: &str| sels.iter().any(|s| s.name == name);
        let loaders = &d.loaders;
        match ty {
            Ty::PersonConnection | Ty::PersonEdge | Ty::HouseholdConnection | Ty::HouseholdEdge => {
                for s in sels {
                    if let Some(t) = ty.object_field(s.name) {
                        fetch(d, read, t, &s.sub, level.clone()).await?;
                    }
                }
            }
            Ty::Person => {
                let people = &level.people;
                let (households, records, units, pregnancies) = tokio::try_join!(
                    projected::<household::Entity>(
                        &d.store,
                        (household::Column::Id, |h| Some(h.id)),
                        &read.columns.households,
                        unread(&read.households, wants("household"), people.iter().filter_map(|p| p.household))
                    ),
                    records(
                        &d.store,
                        (service_record::Column::PersonId, |r| r.person_id),
                        &read.columns.records,
                        unread(&read.person_records, wants("serviceRecords"), people.iter().map(|p| p.id))
                    ),
                    batch(&loaders.org_unit, unread(&read.units, wants("orgUnit"), people.iter().map(|p| p.unit))),
                    batch(
                        &loaders.pregnancies_of_mother,
                        unread(
                            &read.pregnancies,
                            wants("lifeStage") || wants("pregnancies"),
                            people.iter().map(|p| p.id)
                        )
                    ),
                )?;
                read.households.extend(households);
                read.person_records.extend(records);
                read.units.extend(units);
                read.pregnancies.extend(pregnancies);
                for s in sels.iter().filter(|s| s.name == "household") {
                    let households = (people.iter().filter_map(|p| read.households.get(&p.household?)?.last()))
                        .map(HouseholdKeys::of)
                        .collect();
                    fetch(d, read, Ty::Household, &s.sub, Level { households, ..Level::default() }).await?;
                }
                for s in sels.iter().filter(|s| s.name == "pregnancies") {
                    let mothers = people.iter().map(|p| p.id).collect();
                    fetch(d, read, Ty::Pregnancy, &s.sub, Level { mothers, ..Level::default() }).await?;
                }
            }
            Ty::Household => {
                let households = &level.households;
                let (members, records, units) = tokio::try_join!(
                    projected::<person::Entity>(
                        &d.store,
                        (person::Column::HouseholdId, |p| p.household_id),
                        &read.columns.people,
                        unread(&read.members, wants("members"), households.iter().map(|h| h.id))
                    ),
                    records(
                        &d.store,
                        (service_record::Column::HouseholdId, |r| r.household_id),
                        &read.columns.records,
                        unread(&read.household_records, wants("serviceRecords"), households.iter().map(|h| h.id))
                    ),
                    batch(&loaders.org_unit, unread(&read.units, wants("orgUnit"), households.iter().map(|h| h.unit))),
                )?;
                read.members.extend(members);
                read.household_records.extend(records);
                read.units.extend(units);
                for s in sels.iter().filter(|s| s.name == "members") {
                    let people = (households.iter().filter_map(|h| read.members.get(&h.id)))
                        .flat_map(|m| m.iter().map(PersonKeys::of))
                        .collect();
                    fetch(d, read, Ty::Person, &s.sub, Level { people, ..Level::default() }).await?;
                }
            }
            Ty::Pregnancy => {
                let ids = unread(&read.person_records, wants("serviceRecords"), level.mothers.iter().copied());
                let columns = &read.columns.records;
                let records =
                    records(&d.store, (service_record::Column::PersonId, |r| r.person_id), columns, ids).await?;
                read.person_records.extend(records);
            }
            // Service types and life stages are reference data, read once per process.
            Ty::PageInfo | Ty::ServiceRecord | Ty::ServiceType | Ty::OrgUnit | Ty::LifeStage => {}
        }
        Ok(())
    })
}

/// Writes a planned answer from what its plan read.
pub struct Render<'a> {
    store: &'a Store,
    read: &'a Read,
    /// The service catalogue, when the plan selects a record's type.
    types: Option<&'a HashMap<Uuid, Arc<service_type::Model>>>,
    /// The life-stage rules, when the plan selects a person's stage.
    stages: Option<&'a LifeStageRules>,
    /// The pregnancy follow-up margins, when the plan selects a stage or a pregnancy's status.
    follow_up: Option<FollowUp>,
    today: NaiveDate,
}

impl Render<'_> {
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
            let class = disclosure::class_of(&name, s.name);
            disclosure::readable(self.store.reader(), class)?;
            if class.withheld() {
                return Ok(Value::Null);
            }
            Ok(disclosure::shown(class, value(s)?, |id| self.store.public_id(id)))
        })
    }

    /// A page of `N`, with its edges, nodes, page info and total.
    fn connection<N: OutputType>(
        &self,
        (ty, edge): (Ty, Ty),
        conn: &Conn<N>,
        sels: &[Sel<'_>],
        total: Option<Option<i64>>,
        node: impl Fn(&N, &[Sel<'_>]) -> Answer,
    ) -> Answer {
        self.object(ty, sels, |s| {
            Ok(match s.name {
                "__typename" => typename(ty),
                "edges" => list(conn.edges.iter(), |e| {
                    self.object(edge, &s.sub, |f| {
                        Ok(match f.name {
                            "__typename" => typename(edge),
                            "cursor" => Value::String(e.cursor.clone()),
                            "node" => node(&e.node, &f.sub)?,
                            _ => return Err(unplanned(f)),
                        })
                    })
                })?,
                "nodes" => list(conn.edges.iter(), |e| node(&e.node, &s.sub))?,
                "pageInfo" => {
                    let cursor = |e: Option<&Edge<String, N, EmptyFields>>| e.map(|e| e.cursor.clone());
                    self.object(Ty::PageInfo, &s.sub, |f| {
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

    /// As the loader's `one`: the last row of the key, null when out of scope.
    fn unit(&self, id: Uuid, sels: &[Sel<'_>]) -> Answer {
        match self.read.units.get(&id).and_then(|u| u.last()) {
            Some(u) => self.org_unit(u, sels),
            None => Ok(Value::Null),
        }
    }

    /// Service records, as the loader's `many`.
    fn records(&self, rows: Option<&Arc<Vec<service_record::Model>>>, sels: &[Sel<'_>]) -> Answer {
        list(rows.into_iter().flat_map(|r| r.iter()), |r| self.record(r, sels))
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
                "household" => match p.household_id.and_then(|h| self.read.households.get(&h)?.last()) {
                    Some(h) => self.household(h, &s.sub)?,
                    None => Value::Null,
                },
                "serviceRecords" => self.records(self.read.person_records.get(&p.id), &s.sub)?,
                "orgUnit" => self.unit(p.org_unit_id, &s.sub)?,
                "lifeStage" => match self.life_stage_of(p) {
                    Some(stage) => self.life_stage(stage, &s.sub)?,
                    None => Value::Null,
                },
                "pregnancies" => {
                    // Newest first, as the resolver sorts them (stably).
                    let mut mine: Vec<_> =
                        self.read.pregnancies.get(&p.id).into_iter().flat_map(|v| v.iter()).collect();
                    mine.sort_by_key(|g| std::cmp::Reverse(g.registered_on));
                    list(mine.into_iter(), |g| self.pregnancy(g, &s.sub))?
                }
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
                "members" => {
                    list(self.read.members.get(&h.id).into_iter().flat_map(|m| m.iter()), |p| self.person(p, &s.sub))?
                }
                "serviceRecords" => self.records(self.read.household_records.get(&h.id), &s.sub)?,
                _ => return Err(unplanned(s)),
            })
        })
    }

    fn record(&self, r: &service_record::Model, sels: &[Sel<'_>]) -> Answer {
        self.object(Ty::ServiceRecord, sels, |s| {
            Ok(match s.name {
                "__typename" => typename(Ty::ServiceRecord),
                "id" => scalar(r.id),
                "date" => scalar(r.service_date),
                "provider" => opt(r.provider.clone()),
                "recordedBy" => opt(r.recorded_by),
                "note" => opt(r.note.clone()),
                "version" => scalar(r.version),
                "createdAt" => scalar(r.created_at),
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

    /// The `lifeStage` field's rule, on today.
    fn life_stage_of(&self, p: &person::Model) -> Option<&life_stage::Model> {
        let (rules, follow_up) = self.stages.zip(self.follow_up)?;
        let pregnancies = self.read.pregnancies.get(&p.id).map_or(&[][..], |v| v.as_slice());
        life_stage_of(self.store, rules, follow_up, p, pregnancies, self.today)
    }

    fn pregnancy(&self, g: &pregnancy::Model, sels: &[Sel<'_>]) -> Answer {
        self.object(Ty::Pregnancy, sels, |s| {
            let follow_up = || self.follow_up.ok_or_else(|| unplanned(s));
            Ok(match s.name {
                "__typename" => typename(Ty::Pregnancy),
                "id" => scalar(ID(g.id.to_string())),
                "lastMenstrualPeriod" => opt(g.last_menstrual_period),
                "expectedDeliveryDate" => scalar(g.expected_delivery_date),
                "registeredOn" => scalar(g.registered_on),
                "gestationWeeks" => opt(gestation_weeks(g, today(), follow_up()?)),
                "status" => match pregnancy_status(self.store, g, self.today, follow_up()?) {
                    Some(status) => enum_value(status),
                    None => Value::Null,
                },
                "outcome" => vocab(g.outcome.as_deref(), PregnancyOutcome::from_db)?,
                "outcomeDate" => opt(g.outcome_date),
                "deliveryPlace" => vocab(g.delivery_place.as_deref(), DeliveryPlace::from_db)?,
                "attendant" => vocab(g.attendant.as_deref(), BirthAttendant::from_db)?,
                "skilledAttendance" => opt(skilled_attendance(g)),
                "version" => scalar(g.version),
                "serviceRecords" => {
                    let mine = self.read.person_records.get(&g.mother_id).into_iter().flat_map(|r| r.iter());
                    list(mine.filter(|r| r.pregnancy_id == Some(g.id)), |r| self.record(r, &s.sub))?
                }
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

/// A field the planner let through and the answer does not know: a bug in this module.
fn unplanned(s: &Sel<'_>) -> async_graphql::Error {
    ApiError::Internal(anyhow::anyhow!("the plan has no answer for {:?}", s.name)).into()
}

/// A selection of every field the plan answers on a `ty`, nested without coming back to a type
/// on its path (a household's members are people, whose household is not followed again) nor
/// into a third list (a page's people's pregnancies' records weigh 10 × 10 per person against
/// the complexity limit; the roots by id select them); as a named fragment per place, one
/// spread per level, when `fragments` collects them.
fn every(ty: Ty, path: &mut Vec<Ty>, lists: usize, fragments: &mut Option<Vec<String>>) -> String {
    const LISTS: &[&str] = &["edges", "nodes", "members", "serviceRecords", "pregnancies"];
    path.push(ty);
    let mut out = format!("__typename {}", ty.plain_fields().join(" "));
    for (field, t) in ty.object_fields() {
        let lists = lists + usize::from(LISTS.contains(field));
        if !path.contains(t) && lists <= 2 {
            out.push_str(&format!(" {field} {{ {} }}", every(*t, path, lists, fragments)));
        }
    }
    path.pop();
    match fragments {
        Some(list) => {
            let name = format!("{}Fields{}", ty.name(), list.len());
            list.push(format!("fragment {name} on {} {{ {out} }}", ty.name()));
            format!("...{name}")
        }
        None => out,
    }
}

/// Queries of a root field (`field`, with its arguments; `$id` is a `UUID!` variable) of type
/// `ty` selecting every field the plan answers, written as clients write them: plain;
/// Relay-style, a named fragment per place with an operation name and a variable with a
/// default; and for pages of people, inline fragments on the type and on an interface,
/// aliases, repeated keys, `@skip` and `@include`. Tests run each with the plan and without.
pub fn planned_queries(field: &str, ty: Ty) -> Vec<String> {
    let id = if field.contains("$id") { ", $id: UUID!" } else { "" };
    let vars = if id.is_empty() { String::new() } else { format!("({})", &id[2..]) };
    let plain = format!("query Plain{vars} {{ {field} {{ {} }} }}", every(ty, &mut Vec::new(), 0, &mut None));
    let mut fragments = Some(Vec::new());
    let root = every(ty, &mut Vec::new(), 0, &mut fragments);
    let relay = format!(
        "query Relay($stage: Boolean = true{id}) {{ {field} {{ {root} }} }}\n{}",
        fragments.unwrap_or_default().join("\n")
    )
    .replace("lifeStage {", "lifeStage @include(if: $stage) {");
    let mut queries = vec![plain, relay];
    if ty == Ty::PersonConnection {
        queries.push(format!(
            "query Mixed($hide: Boolean = true) {{ {field} {{ ... on PersonConnection {{ totalCount }} \
             edges {{ ... {{ cursor }} node {{ ... on Node {{ id }} ...Names hh: household {{ id }} \
             household {{ address }} household {{ orgUnit {{ code }} dwelling members {{ id }} }} \
             stage: lifeStage {{ code }} lifeStage {{ nameEn }} ageMonths(asOf: \"2020-01-01\") @skip(if: $hide) \
             serviceRecords {{ __typename }} serviceRecords {{ ... on ServiceRecord {{ date serviceType {{ code }} }} }} \
             orgUnit {{ ...Unit }} }} }} nodes {{ id id sex }} }} }}\n\
             fragment Names on Person {{ givenName familyName birthDate id }}\n\
             fragment Unit on OrgUnit {{ code level ... on OrgUnit {{ nameEn }} }}"
        ));
    }
    queries
}

/// Queries that select one field alone on each type whose rows a plan reads itself (a
/// household's members, a person's household, a person's records), and on pregnancies (whose
/// records are their mother's that name them): each reads only that field's declared columns
/// and reference data, so a declaration that misses what the field reads answers differently
/// from the executor.
pub fn field_alone_queries() -> Vec<String> {
    let places = [
        ("households(first: 5) { nodes { members", Ty::Person),
        ("people(first: 20) { nodes { household", Ty::Household),
        ("people(first: 20) { nodes { serviceRecords", Ty::ServiceRecord),
        ("people(first: 40) { nodes { pregnancies", Ty::Pregnancy),
    ];
    let mut queries = Vec::new();
    for (place, ty) in places {
        let fields = ty.plain_fields().iter().map(|f| f.to_string());
        let objects = ty.object_fields().iter().map(|(f, _)| format!("{f} {{ __typename }}"));
        for field in fields.chain(objects) {
            queries.push(format!("query Alone {{ {place} {{ {field} }} }} }} }}"));
        }
    }
    queries
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
        let ty = match people.node.name.node.as_str() {
            "people" => Ty::PersonConnection,
            "households" => Ty::HouseholdConnection,
            "person" => Ty::Person,
            _ => Ty::Household,
        };
        planner.plan(&people.node.selection_set.node, ty).map(|sels| sels.len())
    }

    #[test]
    fn plans_every_listed_field_however_the_client_writes_it() {
        let [plain, relay, mixed] = &planned_queries("people(first: 10)", Ty::PersonConnection)[..] else {
            panic!("three")
        };
        assert_eq!(plan_of(plain), Some(5), "{plain}");
        // (At run time `@include` and `@skip` are gone: async-graphql applied them.)
        let run = |q: &str| q.replace(" @include(if: $stage)", "").replace(" @skip(if: $hide)", "");
        assert_eq!(plan_of(&run(relay)), Some(5), "{relay}");
        let mixed = run(mixed).replace("ageMonths(asOf: \"2020-01-01\")", "");
        assert_eq!(plan_of(&mixed), Some(3), "{mixed}");
        for (field, ty, keys) in [
            ("households(first: 3)", Ty::HouseholdConnection, 5),
            ("person(id: $id)", Ty::Person, 22),
            ("household(id: $id)", Ty::Household, 14),
        ] {
            for q in planned_queries(field, ty) {
                assert_eq!(plan_of(&run(&q)), Some(keys), "{q}");
            }
        }
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
        let sels = planner.plan(&people.node.selection_set.node, Ty::PersonConnection).unwrap();
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
            "{ people { edges { node { serviceRecords { immunisation { doseNumber } } } } } }",
            "{ people { edges { node { household { members { phone(x: 1) } } } } } }",
            "{ households { nodes { consents { id } } } }",
            "{ people { edges { node { orgUnit { parent { id } } } } } }",
            "{ people { edges { node { id: givenName id } } } }",
        ] {
            assert_eq!(plan_of(q), None, "{q}");
        }
    }
}
