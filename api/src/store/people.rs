//! People: search and lists in the caller's view scope, registration and updates in its capture scope.

use super::filters::{NamesUnits, PersonWhere};
use super::households::{check_version, unchanged};
use super::org_units::holds_households;
use super::page::{self, Page, PageRequest, SortedPageRequest};
use super::pregnancies::open_pregnancy_mothers;
use super::write::NewRow;
use super::{Store, today};
use crate::access::Action;
use crate::access::units_under;
use crate::disclosure;
use crate::domain::vocab::{Disability, PersonSort, RelationToHead, Sex, SortDirection};
use crate::domain::{names, validate};
use crate::error::{ApiError, ApiResult, Problems, Unique};
use async_graphql::{InputObject, MaybeUndefined};
use chrono::{Datelike, NaiveDate};
use entity::person;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select, Set, TryIntoModel};
use uuid::Uuid;

/// The common conditions on a list of people; all given must hold.
#[derive(InputObject, Default, Clone)]
pub struct PersonFilter {
    /// People living anywhere in this unit's subtree (an unknown unit is VALIDATION).
    pub org_unit_id: Option<Uuid>,
    /// The members of this household (FORBIDDEN to callers who see data de-identified).
    pub household_id: Option<Uuid>,
    /// People of this sex.
    pub sex: Option<Sex>,
    /// A life-stage code (see `lifeStages`), evaluated on `asOf`.
    pub life_stage: Option<String>,
    /// The date life stages are evaluated on; defaults to today.
    pub as_of: Option<NaiveDate>,
    /// Born on or after this date.
    pub born_from: Option<NaiveDate>,
    /// Born on or before this date.
    pub born_to: Option<NaiveDate>,
    /// Part of a given or family name, in Cyrillic or Latin letters, any case (FORBIDDEN to callers
    /// who see data de-identified).
    pub name: Option<String>,
    /// True: people not recorded as dead; false: those recorded as dead.
    pub alive: Option<bool>,
}

/// The order of a list of people; ties go by id.
#[derive(InputObject, Clone, Copy)]
pub struct PersonOrder {
    /// What to order by.
    pub field: PersonSort,
    /// Ascending (the default) or descending.
    #[graphql(default_with = "SortDirection::Asc")]
    pub direction: SortDirection,
}

impl PersonOrder {
    pub fn order(&self) -> page::Order<person::Entity> {
        let date = |k: &str| k.parse::<NaiveDate>().ok().map(sea_orm::Value::from);
        let text = |k: &str| Some(sea_orm::Value::from(k.to_string()));
        let desc = self.direction == SortDirection::Desc;
        match self.field {
            PersonSort::Id => page::Order {
                key: person::Column::Id,
                desc,
                key_of: |m| m.id.to_string(),
                parse: |k| k.parse::<Uuid>().ok().map(sea_orm::Value::from),
            },
            PersonSort::BirthDate => {
                page::Order { key: person::Column::BirthDate, desc, key_of: |m| m.birth_date.to_string(), parse: date }
            }
            PersonSort::FamilyName => {
                page::Order { key: person::Column::FamilyName, desc, key_of: |m| m.family_name.clone(), parse: text }
            }
            PersonSort::GivenName => {
                page::Order { key: person::Column::GivenName, desc, key_of: |m| m.given_name.clone(), parse: text }
            }
        }
    }
}

/// A new person.
#[derive(InputObject, Clone)]
#[graphql(name = "RegisterPersonInput")]
pub struct NewPerson {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// The household the person lives in; their unit is the household's.
    pub household_id: Option<Uuid>,
    /// Required when there is no household: a soum, district, bag or khoroo. With a household,
    /// leave it out (or give the household's).
    pub org_unit_id: Option<Uuid>,
    /// The given name, at most 100 characters.
    pub given_name: String,
    /// The family (patronymic) name, at most 100 characters.
    pub family_name: String,
    /// Their sex.
    pub sex: Sex,
    /// The birth date: not in the future.
    pub birth_date: NaiveDate,
    /// Whether the birth date is an estimate (default false).
    #[graphql(default)]
    pub birth_date_estimated: bool,
    /// How they are related to the head of the household.
    pub relation_to_head: Option<RelationToHead>,
    /// Civil registry number: two Cyrillic letters and eight digits (unique).
    pub registry_number: Option<String>,
    /// A Mongolian phone number: eight digits, optionally after +976.
    pub phone: Option<String>,
    /// A functional difficulty, if any.
    pub disability: Option<Disability>,
    /// The day they died, if they did: not in the future nor before the birth date.
    pub date_of_death: Option<NaiveDate>,
}

/// Changes to a person: fields left out are kept; null clears an optional one.
#[derive(InputObject)]
#[graphql(name = "UpdatePersonInput")]
pub struct PersonChanges {
    /// The person's id.
    pub id: Uuid,
    /// The version the client last saw; a different stored version is a CONFLICT.
    pub expected_version: Option<i32>,
    /// Moves the person to this household (and its unit).
    pub household_id: Option<Uuid>,
    /// The given name.
    pub given_name: Option<String>,
    /// The family (patronymic) name.
    pub family_name: Option<String>,
    /// Their sex (recomputes the z-scores of their measurements).
    pub sex: Option<Sex>,
    /// The birth date (recomputes the z-scores of their measurements).
    pub birth_date: Option<NaiveDate>,
    /// Whether the birth date is an estimate.
    pub birth_date_estimated: Option<bool>,
    /// How they are related to the head of the household.
    #[graphql(default)]
    pub relation_to_head: MaybeUndefined<RelationToHead>,
    /// Civil registry number: two Cyrillic letters and eight digits (unique).
    #[graphql(default)]
    pub registry_number: MaybeUndefined<String>,
    /// A Mongolian phone number: eight digits, optionally after +976.
    #[graphql(default)]
    pub phone: MaybeUndefined<String>,
    /// A functional difficulty.
    #[graphql(default)]
    pub disability: MaybeUndefined<Disability>,
    /// The day they died.
    #[graphql(default)]
    pub date_of_death: MaybeUndefined<NaiveDate>,
}

/// Escapes LIKE wildcards so a name search matches the letters typed, nothing more.
fn like_contains(term: &str) -> LikeExpr {
    let escaped = term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// The id column of a person's row, whose last byte is its record key (`domain::cell_key`).
const PERSON_ID: &str = "person.id";

impl Store {
    pub async fn people(
        &self,
        filter: PersonFilter,
        cond: Option<PersonWhere>,
        req: &PageRequest,
    ) -> ApiResult<Page<person::Model>> {
        let Some(unit) = filter.org_unit_id else {
            let q = self.people_select(filter, cond).await?;
            let page = page::fetch(self.pool(), q.clone(), person::Column::Id, req).await?;
            return Ok(self.counted(page, &q, PERSON_ID));
        };
        let unit = self.known_unit(unit, "filter.orgUnitId").await?;
        let q = self.people_select(PersonFilter { org_unit_id: None, ..filter }, cond).await?;
        let whole = page::in_subtree(q.clone(), person::Column::OrgUnitId, &unit.path);
        let page =
            page::fetch_in_subtree(self.pool(), q, person::Column::OrgUnitId, &unit.path, person::Column::Id, req)
                .await?;
        Ok(self.counted(page, &whole, PERSON_ID))
    }

    /// People in an order other than by id.
    pub async fn people_ordered(
        &self,
        filter: PersonFilter,
        cond: Option<PersonWhere>,
        order: PersonOrder,
        req: &SortedPageRequest,
    ) -> ApiResult<Page<person::Model>> {
        if !self.identified() && disclosure::input("PersonSort", order.field.as_str()) != Some(disclosure::In::Safe) {
            // An order by a name or a day (and its cursors) would reveal them.
            return Err(ApiError::Forbidden);
        }
        let Some(unit) = filter.org_unit_id else {
            let q = self.people_select(filter, cond).await?;
            let page = page::fetch_ordered(self.pool(), q.clone(), &order.order(), person::Column::Id, req).await?;
            return Ok(self.counted(page, &q, PERSON_ID));
        };
        let unit = self.known_unit(unit, "filter.orgUnitId").await?;
        let q = self.people_select(PersonFilter { org_unit_id: None, ..filter }, cond).await?;
        let whole = page::in_subtree(q.clone(), person::Column::OrgUnitId, &unit.path);
        let (order, id) = (order.order(), person::Column::Id);
        let page =
            page::fetch_ordered_in_subtree(self.pool(), q, person::Column::OrgUnitId, &unit.path, &order, id, req)
                .await?;
        Ok(self.counted(page, &whole, PERSON_ID))
    }

    async fn people_select(
        &self,
        filter: PersonFilter,
        cond: Option<PersonWhere>,
    ) -> ApiResult<Select<person::Entity>> {
        let deidentified = !self.identified();
        for (field, given) in [("name", filter.name.is_some()), ("householdId", filter.household_id.is_some())] {
            if given {
                disclosure::given(deidentified, "PersonFilter", field)?;
            }
        }
        for (field, day, start) in [("bornFrom", filter.born_from, true), ("bornTo", filter.born_to, false)] {
            if let Some(day) = day {
                disclosure::given_day(deidentified, "PersonFilter", field, day, start, &format!("filter.{field}"))?;
            }
        }
        let mut q = self.visible(person::Entity::find());
        if let Some(unit) = filter.org_unit_id {
            let unit = self.known_unit(unit, "filter.orgUnitId").await?;
            q = q.filter(Expr::col(person::Column::OrgUnitId).in_subquery(units_under(&unit.path)));
        }
        if let Some(h) = filter.household_id {
            q = q.filter(person::Column::HouseholdId.eq(h));
        }
        if let Some(s) = filter.sex {
            q = q.filter(person::Column::Sex.eq(s.as_str()));
        }
        if let Some(from) = filter.born_from {
            q = q.filter(person::Column::BirthDate.gte(from));
        }
        if let Some(to) = filter.born_to {
            q = q.filter(person::Column::BirthDate.lte(to));
        }
        if let Some(alive) = filter.alive {
            q = q.filter(if alive {
                person::Column::DateOfDeath.is_null()
            } else {
                person::Column::DateOfDeath.is_not_null()
            });
        }
        if let Some(name) = filter.name {
            let term = names::normalise(&validate::term("filter.name", &name)?);
            q = q.filter(Expr::col(person::Column::SearchName).like(like_contains(&term)));
        }
        if let Some(code) = filter.life_stage {
            let as_of = self.reference_day(filter.as_of);
            q = q.filter(self.life_stage_condition(&code, as_of).await?);
        }
        if let Some(w) = cond {
            let mut ids = Vec::new();
            w.unit_ids(&mut ids);
            let mut cx = self.compiler(ids, filter.as_of.unwrap_or_else(today), "where").await?;
            q = q.filter(cx.person(&w, "person", "where")?);
        }
        Ok(q)
    }

    /// People in a life stage on `as_of`, as SQL: a birth-date range, or an open pregnancy.
    async fn life_stage_condition(&self, code: &str, as_of: NaiveDate) -> ApiResult<Condition> {
        let follow_up = self.pregnancy_follow_up().await?;
        let stages = self.life_stages().await?;
        let (rule, _) = stages
            .iter()
            .find(|(r, _)| r.code == code)
            .ok_or_else(|| ApiError::invalid("filter.lifeStage", format!("unknown life stage {code:?}")))?;
        if let Some((mut earliest, mut latest)) = rule.birth_date_range(as_of) {
            if !self.identified() {
                // As if every birth were on the first of its month (`disclosure::Coarsened`): a
                // stage bounded in days would otherwise tell the days of a month apart.
                let first = disclosure::month_start(earliest);
                earliest = if first == earliest {
                    first
                } else {
                    disclosure::month_end(earliest).succ_opt().unwrap_or(earliest)
                };
                latest = disclosure::month_end(latest);
            }
            // An open pregnancy comes first, so a pregnant adolescent is in PREGNANCY, not ADOLESCENCE.
            return Ok(Condition::all().add(person::Column::BirthDate.between(earliest, latest)).add(
                Expr::col(person::Column::Id).not_in_subquery(open_pregnancy_mothers(
                    as_of,
                    follow_up,
                    !self.identified(),
                )),
            ));
        }
        Ok(Condition::all().add(Expr::col(person::Column::Id).in_subquery(open_pregnancy_mothers(
            as_of,
            follow_up,
            !self.identified(),
        ))))
    }

    pub async fn person(&self, id: Uuid) -> ApiResult<person::Model> {
        if let Some(Some(found)) = self.cached(|c| c.people.get(&id).cloned()) {
            return Ok(found);
        }
        let found = self.visible_by_id::<person::Entity>(id, "person").await?;
        self.cached(|c| c.people.insert(id, found.clone()));
        Ok(found)
    }

    /// Keeps a person this batch wrote (or read in bulk) for the batch's later items.
    pub(crate) fn remember_person(&self, p: &person::Model) {
        self.cached(|c| {
            c.free_ids.remove(&("person", p.id));
            c.people.insert(p.id, p.clone());
        });
    }

    /// The unit a person without a household is registered in, checked for capture scope.
    async fn person_unit(&self, household_id: Option<Uuid>, org_unit_id: Option<Uuid>) -> ApiResult<Uuid> {
        let unit_id = match (household_id, org_unit_id) {
            (Some(h), given) => {
                let household =
                    self.household(h).await.map_err(|_| ApiError::invalid("input.householdId", "unknown household"))?;
                if given.is_some_and(|u| u != household.org_unit_id) {
                    return Err(ApiError::invalid(
                        "input.orgUnitId",
                        "differs from the household's unit; leave it out",
                    ));
                }
                household.org_unit_id
            }
            (None, Some(u)) => u,
            (None, None) => {
                return Err(ApiError::invalid("input.householdId", "a household or an org unit is required"));
            }
        };
        let unit = self.known_unit(unit_id, "input.orgUnitId").await?;
        if !holds_households(&unit) {
            return Err(ApiError::invalid("input.orgUnitId", "people are placed in a soum, district, bag or khoroo"));
        }
        self.check_capture(&unit)?;
        Ok(unit_id)
    }

    async fn check_registry_number_free(&self, number: &str, except: Option<Uuid>) -> ApiResult<()> {
        let mut q = person::Entity::find().filter(person::Column::RegistryNumber.eq(number));
        if let Some(id) = except {
            q = q.filter(person::Column::Id.ne(id));
        }
        if q.one(self.db()).await?.is_some() {
            return Err(Unique::RegistryNumber.error());
        }
        Ok(())
    }

    /// A person looked up by id for a caller: audited, and never for de-identified callers (an id
    /// from elsewhere must not lead to a record).
    pub async fn read_person(&self, id: Uuid) -> ApiResult<person::Model> {
        if !self.identified() {
            return Err(ApiError::not_found("person"));
        }
        let found = self.person(id).await?;
        self.log_read(self.auditor().entry("READ", "person", Some(id), None, None)).await?;
        Ok(found)
    }

    pub async fn register_person(&self, input: NewPerson) -> ApiResult<person::Model> {
        self.authorize(Action::RegisterPeople)?;
        let today = today();
        let mut p = Problems::default();
        let given = validate::name(&mut p, "input.givenName", &input.given_name, 100);
        let family = validate::name(&mut p, "input.familyName", &input.family_name, 100);
        validate::past_date(&mut p, "input.birthDate", input.birth_date, today);
        let registry =
            input.registry_number.as_deref().map(|r| validate::registry_number(&mut p, "input.registryNumber", r));
        let phone = input.phone.as_deref().map(|t| validate::phone(&mut p, "input.phone", t));
        if let Some(death) = input.date_of_death {
            validate::past_date(&mut p, "input.dateOfDeath", death, today);
            p.check(death >= input.birth_date, "input.dateOfDeath", "must not be before the birth date");
        }
        p.into_result()?;
        let unit = self.person_unit(input.household_id, input.org_unit_id).await?;
        if let Some(h) = input.household_id {
            self.require_consent(self.db(), h).await?;
        }
        if let Some(r) = &registry {
            self.check_registry_number_free(r, None).await?;
        }
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        if self.id_taken::<person::Entity>("person", id).await? {
            return Err(ApiError::conflict("a person with this id exists"));
        }
        let now = super::now();
        let row = person::ActiveModel {
            id: Set(id),
            household_id: Set(input.household_id),
            org_unit_id: Set(unit),
            search_name: Set(names::search_key(&given, &family)),
            given_name: Set(given),
            family_name: Set(family),
            sex: Set(input.sex.as_str().into()),
            birth_date: Set(input.birth_date),
            birth_date_estimated: Set(input.birth_date_estimated),
            relation_to_head: Set(input.relation_to_head.map(|r| r.as_str().into())),
            registry_number: Set(registry),
            phone: Set(phone),
            disability: Set(input.disability.map(|d| d.as_str().into())),
            date_of_death: Set(input.date_of_death),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            change_seq: Set(0),
        };
        let mut saved = row.clone().try_into_model()?;
        saved.change_seq = self
            .insert_new(vec![NewRow::Person(row)], |w| w.record("CREATE", "person", saved.id, None, Some(&saved)))
            .await?;
        self.remember_person(&saved);
        Ok(saved)
    }

    pub async fn update_person(&self, input: PersonChanges) -> ApiResult<person::Model> {
        self.authorize(Action::RegisterPeople)?;
        let current = self.person(input.id).await?;
        let unit = self.known_unit(current.org_unit_id, "input.id").await?;
        self.check_capture(&unit)?;
        let today = today();
        let mut p = Problems::default();
        let mut row: person::ActiveModel = current.clone().into();
        let given = input.given_name.map(|g| validate::name(&mut p, "input.givenName", &g, 100));
        let family = input.family_name.map(|f| validate::name(&mut p, "input.familyName", &f, 100));
        if given.is_some() || family.is_some() {
            let g = given.unwrap_or(current.given_name.clone());
            let f = family.unwrap_or(current.family_name.clone());
            row.search_name = Set(names::search_key(&g, &f));
            row.given_name = Set(g);
            row.family_name = Set(f);
        }
        let birth = input.birth_date.unwrap_or(current.birth_date);
        if let Some(b) = input.birth_date {
            validate::past_date(&mut p, "input.birthDate", b, today);
            row.birth_date = Set(b);
        }
        if let Some(e) = input.birth_date_estimated {
            row.birth_date_estimated = Set(e);
        }
        if let Some(s) = input.sex {
            row.sex = Set(s.as_str().into());
        }
        match input.relation_to_head {
            MaybeUndefined::Value(r) => row.relation_to_head = Set(Some(r.as_str().into())),
            MaybeUndefined::Null => row.relation_to_head = Set(None),
            MaybeUndefined::Undefined => {}
        }
        let mut new_registry = None;
        match input.registry_number {
            MaybeUndefined::Value(r) => {
                let r = validate::registry_number(&mut p, "input.registryNumber", &r);
                new_registry = Some(r.clone());
                row.registry_number = Set(Some(r));
            }
            MaybeUndefined::Null => row.registry_number = Set(None),
            MaybeUndefined::Undefined => {}
        }
        match input.phone {
            MaybeUndefined::Value(t) => row.phone = Set(Some(validate::phone(&mut p, "input.phone", &t))),
            MaybeUndefined::Null => row.phone = Set(None),
            MaybeUndefined::Undefined => {}
        }
        match input.disability {
            MaybeUndefined::Value(d) => row.disability = Set(Some(d.as_str().into())),
            MaybeUndefined::Null => row.disability = Set(None),
            MaybeUndefined::Undefined => {}
        }
        let death = match input.date_of_death {
            MaybeUndefined::Value(d) => {
                validate::past_date(&mut p, "input.dateOfDeath", d, today);
                row.date_of_death = Set(Some(d));
                Some(d)
            }
            MaybeUndefined::Null => {
                row.date_of_death = Set(None);
                None
            }
            MaybeUndefined::Undefined => current.date_of_death,
        };
        if death.is_some_and(|d| d < birth) {
            p.add("input.dateOfDeath", "must not be before the birth date");
        }
        p.into_result()?;
        if let Some(h) = input.household_id.filter(|h| Some(*h) != current.household_id) {
            let unit = self.person_unit(Some(h), None).await?;
            row.household_id = Set(Some(h));
            row.org_unit_id = Set(unit);
        }
        if let Some(r) = &new_registry {
            self.check_registry_number_free(r, Some(current.id)).await?;
        }
        if unchanged(&row, &current)? {
            // Nothing to write (a retried or repeated update): no new version, no conflict.
            return Ok(current);
        }
        check_version(input.expected_version, current.version)?;
        // Both households at once (in key order): two people moved in opposite directions at
        // once never wait for each other in a circle.
        let households: Vec<Uuid> = [current.household_id, input.household_id].into_iter().flatten().collect();
        self.lock_records(if households.is_empty() { vec![current.id] } else { households.clone() }).await?;
        for h in households {
            self.require_consent(self.db(), h).await?;
        }
        self.save_person(current, row, "UPDATE", None).await
    }

    /// Writes a change only if nobody changed the person since it was read; audited.
    async fn save_person(
        &self,
        current: person::Model,
        mut row: person::ActiveModel,
        action: &'static str,
        detail: Option<String>,
    ) -> ApiResult<person::Model> {
        row.version = Set(current.version + 1);
        row.updated_at = Set(super::now());
        let saved = self
            .write(move |txn, w| {
                Box::pin(async move {
                    row.change_seq = Set(w.seq);
                    let res = person::Entity::update_many()
                        .set(row)
                        .filter(person::Column::Id.eq(current.id))
                        .filter(person::Column::Version.eq(current.version))
                        .exec(txn)
                        .await?;
                    if res.rows_affected == 0 {
                        return Err(ApiError::conflict("the person was changed by someone else; reload them"));
                    }
                    let saved =
                        person::Entity::find_by_id(current.id).one(txn).await?.ok_or(ApiError::not_found("person"))?;
                    w.record(action, "person", saved.id, Some(&current), Some(&saved));
                    if detail.is_some() {
                        w.note(action, "person", saved.id, None, detail);
                    }
                    // A corrected birth date or sex changes every stored z-score of the person.
                    if saved.birth_date != current.birth_date || saved.sex != current.sex {
                        super::growth::recompute_person(txn, &saved, w.seq).await?;
                    }
                    // A corrected birth date re-evaluates every dose (an erasure's coarsened one
                    // does not: the verdicts were made on the true date).
                    if saved.birth_date != current.birth_date && action != "ERASE" {
                        super::doses::reevaluate_person(txn, &saved, w.seq).await?;
                    }
                    if action == "ERASE" {
                        // Devices holding the person must drop their identifiable copy.
                        super::write::tombstone(txn, "person", saved.id, saved.org_unit_id, w.seq, "ERASED").await?;
                        // Referrals' free text may name the person too.
                        super::referrals::erase_texts(txn, saved.id, w.seq).await?;
                        super::cases::erase_texts(txn, saved.id, w.seq).await?;
                    }
                    Ok(saved)
                })
            })
            .await?;
        self.remember_person(&saved);
        // The batch's copy of the person's doses holds verdicts made on the old birth date.
        self.cached(|c| c.doses.remove(&saved.id));
        Ok(saved)
    }

    /// Pseudonymises a person irreversibly: names, registry number, phone and disability are
    /// removed and the birth date coarsened to the month, while their service records stay, so
    /// every count and indicator still adds up. For administrators, with a reason.
    pub async fn erase_person(&self, id: Uuid, reason: String) -> ApiResult<person::Model> {
        self.authorize(Action::Administer)?;
        let mut p = Problems::default();
        let reason = validate::text(&mut p, "reason", &reason, 500);
        p.into_result()?;
        let current = self.person(id).await?;
        let mut row: person::ActiveModel = current.clone().into();
        row.given_name = Set(names::ERASED.into());
        row.family_name = Set(names::ERASED.into());
        row.search_name = Set(String::new());
        row.registry_number = Set(None);
        row.phone = Set(None);
        row.disability = Set(None);
        row.relation_to_head = Set(None);
        row.birth_date = Set(current.birth_date.with_day(1).unwrap_or(current.birth_date));
        row.birth_date_estimated = Set(true);
        self.save_person(current, row, "ERASE", Some(reason)).await
    }
}
