//! Service records along the life-cycle chain, with their typed details (growth measurements,
//! immunisations). Every record is checked against its service type's target group and ages.

use super::audit::diff;
use super::doses::DoseRow;
use super::write::NewRow;
use super::{Store, growth, today};
use crate::access::Action;
use crate::domain::eligibility::{self, Eligibility, Recipient};
use crate::domain::vocab::{DetailKind, EnrolmentEndReason, MeasurementPosition, Sex, TargetGroup};
use crate::domain::{school, validate};
use crate::error::{ApiError, ApiResult, Problems};
use async_graphql::InputObject;
use chrono::NaiveDate;
use entity::read::Projection;
use entity::{
    antigen, attendance, enrolment, growth_measurement, immunisation, person, referral, service_record, service_type,
};
use sea_orm::sea_query::UpdateStatement;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set,
    TryIntoModel,
};
use uuid::Uuid;

/// A service given, without a typed detail.
#[derive(InputObject, Clone)]
#[graphql(name = "RecordServiceInput")]
pub struct NewServiceRecord {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// A service type code from `serviceTypes`, e.g. VITAMIN_A or ANC_CONTACT.
    pub service_type_code: String,
    /// The person served; leave out for a household service.
    pub person_id: Option<Uuid>,
    /// The household served, for household services (water, sanitation, garden).
    pub household_id: Option<Uuid>,
    /// For maternal services: the pregnancy they belong to (defaults to the open one).
    pub pregnancy_id: Option<Uuid>,
    /// The day it was given: not in the future; the person must be eligible that day.
    pub date: NaiveDate,
    /// Where it was delivered; defaults to the person's or household's unit.
    pub org_unit_id: Option<Uuid>,
    /// Who gave it (a facility or a worker), at most 200 characters.
    pub provider: Option<String>,
    /// A free-text note, at most 2,000 characters.
    pub note: Option<String>,
}

/// A growth measurement: at least one of weight, length/height, MUAC or oedema.
#[derive(InputObject, Clone)]
#[graphql(name = "RecordGrowthMeasurementInput")]
pub struct NewGrowthMeasurement {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// The child (0 to 18 years 11 months on the day).
    pub person_id: Uuid,
    /// The day it was measured: not in the future.
    pub date: NaiveDate,
    /// Where it was delivered; defaults to the person's unit.
    pub org_unit_id: Option<Uuid>,
    /// Who measured (a facility or a worker), at most 200 characters.
    pub provider: Option<String>,
    /// A free-text note, at most 2,000 characters.
    pub note: Option<String>,
    /// Weight in kg: 0.2 to 250.
    pub weight_kg: Option<f64>,
    /// Length or height in cm as measured: 20 to 250.
    pub length_height_cm: Option<f64>,
    /// How length/height was measured; WHO assumes LYING under 2 years, STANDING from 2.
    pub position: Option<MeasurementPosition>,
    /// Mid-upper arm circumference in mm: 50 to 500.
    pub muac_mm: Option<f64>,
    /// Bilateral pitting oedema (default false).
    #[graphql(default)]
    pub oedema: bool,
}

/// A dose of an antigen given.
#[derive(InputObject, Clone)]
#[graphql(name = "RecordImmunisationInput")]
pub struct NewImmunisation {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// The person vaccinated.
    pub person_id: Uuid,
    /// The day it was given: not in the future.
    pub date: NaiveDate,
    /// Where it was delivered; defaults to the person's unit.
    pub org_unit_id: Option<Uuid>,
    /// Who gave it (a facility or a worker), at most 200 characters.
    pub provider: Option<String>,
    /// A free-text note, at most 2,000 characters.
    pub note: Option<String>,
    /// An antigen code from `antigens`, e.g. PENTA.
    pub antigen_code: String,
    /// Which dose the worker takes it to be: 1 to the antigen's `doses`. A label: a dose that
    /// did not count is recorded again under its number, and which position of the series a
    /// dose fills comes from the dates (`Immunisation.evaluation`, `validDoseNumber`).
    pub dose_number: i32,
    /// IMMUNISATION (children, the default) or TD_MATERNAL (pregnant women).
    #[graphql(default_with = "\"IMMUNISATION\".to_string()")]
    pub service_type_code: String,
}

/// An enrolment in a kindergarten, school or programme.
#[derive(InputObject, Clone)]
#[graphql(name = "RecordEnrolmentInput")]
pub struct NewEnrolment {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// KINDERGARTEN_ENROLMENT, GER_KINDERGARTEN_ENROLMENT, OUTREACH_ECD, SCHOOL_ENROLMENT or
    /// NON_FORMAL_EDUCATION.
    pub service_type_code: String,
    /// The child (or young person) enrolled.
    pub person_id: Uuid,
    /// The day the child was enrolled: not in the future.
    pub date: NaiveDate,
    /// Where it was delivered; defaults to the person's unit.
    pub org_unit_id: Option<Uuid>,
    /// Who recorded the enrolment (a facility or a worker), at most 200 characters.
    pub provider: Option<String>,
    /// A free-text note, at most 2,000 characters.
    pub note: Option<String>,
    /// The kindergarten, school or programme, at most 200 characters.
    pub institution: String,
    /// The grade or group, at most 40 characters.
    pub grade: Option<String>,
    /// SCHOOL_ENROLMENT: the grade of general education (1-12) the pupil attends on `date`. The
    /// pupil is taken to move up one grade on each 1 September after it (a repeated year is a new
    /// enrolment); the secondary attendance ratios count by it.
    pub grade_number: Option<i32>,
}

impl NewServiceRecord {
    /// The record part of a typed person service (growth, immunisation, enrolment, milestones,
    /// HIV knowledge).
    pub(super) fn for_person(
        id: Option<Uuid>,
        service_type_code: &str,
        person_id: Uuid,
        date: NaiveDate,
        org_unit_id: Option<Uuid>,
        provider: &Option<String>,
        note: &Option<String>,
    ) -> Self {
        Self {
            id,
            service_type_code: service_type_code.into(),
            person_id: Some(person_id),
            household_id: None,
            pregnancy_id: None,
            date,
            org_unit_id,
            provider: provider.clone(),
            note: note.clone(),
        }
    }
}

impl NewGrowthMeasurement {
    /// Its service record, as `recordGrowthMeasurement` writes it (and sync compares it).
    pub(super) fn record(&self) -> NewServiceRecord {
        let s = self;
        NewServiceRecord::for_person(
            s.id,
            "GROWTH_MONITORING",
            s.person_id,
            s.date,
            s.org_unit_id,
            &s.provider,
            &s.note,
        )
    }
}

impl NewImmunisation {
    pub(super) fn record(&self) -> NewServiceRecord {
        let s = self;
        NewServiceRecord::for_person(
            s.id,
            &s.service_type_code,
            s.person_id,
            s.date,
            s.org_unit_id,
            &s.provider,
            &s.note,
        )
    }
}

impl NewEnrolment {
    pub(super) fn record(&self) -> NewServiceRecord {
        let s = self;
        NewServiceRecord::for_person(
            s.id,
            &s.service_type_code,
            s.person_id,
            s.date,
            s.org_unit_id,
            &s.provider,
            &s.note,
        )
    }
}

impl super::NewMilestoneCheck {
    pub(super) fn record(&self) -> NewServiceRecord {
        let s = self;
        NewServiceRecord::for_person(
            s.id,
            "DEVELOPMENT_CHECK",
            s.person_id,
            s.date,
            s.org_unit_id,
            &s.provider,
            &s.note,
        )
    }
}

/// A checked service record, ready to insert.
pub(super) struct Checked {
    pub(super) id: Uuid,
    pub(super) record: service_record::ActiveModel,
    /// The person served, as read for the checks.
    pub(super) person: Option<person::Model>,
    /// The referral that lets the caller serve a person outside its scope, if it was needed.
    pub(super) via: Option<Uuid>,
}

impl Store {
    pub async fn service_record(&self, id: Uuid) -> ApiResult<service_record::Model> {
        self.visible_by_id::<service_record::Entity>(id, "service record").await
    }

    /// A service record the caller sees, or one it wrote itself outside its scope (on a
    /// referral): a retry of that write is answered as any other (NOT_FOUND otherwise).
    pub(crate) async fn own_service_record(&self, id: Uuid) -> ApiResult<service_record::Model> {
        match self.service_record(id).await {
            Err(ApiError::NotFound { .. }) => {
                let me = self.principal().user_id;
                match service_record::Entity::find_by_id(id).one(self.db()).await? {
                    Some(r) if me.is_some() && r.recorded_by == me => Ok(r),
                    _ => Err(ApiError::not_found("service record")),
                }
            }
            other => other,
        }
    }

    /// Every service type, active or not: records keep the type they were given with.
    pub async fn all_service_types(&self) -> ApiResult<Vec<service_type::Model>> {
        Ok(service_type::Entity::find().all(self.db()).await?)
    }

    pub async fn antigens_by_ids(&self, ids: &[Uuid]) -> ApiResult<Vec<antigen::Model>> {
        Ok(antigen::Entity::find().filter(antigen::Column::Id.is_in(ids.iter().copied())).all(self.db()).await?)
    }

    /// The visible records whose `column` (person or household) is one of `keys`, newest first.
    fn records_where(&self, column: service_record::Column, keys: &[Uuid]) -> Select<service_record::Entity> {
        self.visible(service_record::Entity::find().filter(column.is_in(keys.iter().copied())))
            .order_by_desc(service_record::Column::ServiceDate)
    }

    /// The records whose `column` (person or household) is one of `keys`, newest first.
    pub async fn service_records_of(
        &self,
        column: service_record::Column,
        keys: &[Uuid],
    ) -> ApiResult<Vec<service_record::Model>> {
        Ok(super::read_all(self.records_where(column, keys), self.db()).await?)
    }

    /// The same, of `columns` only (with `column` itself): the rest of each model is its
    /// default, for answers that read nothing else (`entity::read::Projection`).
    pub async fn projected_service_records(
        &self,
        column: service_record::Column,
        keys: &[Uuid],
        columns: &[service_record::Column],
    ) -> ApiResult<Vec<service_record::Model>> {
        let select = self.records_where(column, keys).select_only().columns(columns.iter().copied()).column(column);
        let rows = select.into_model::<Projection<service_record::Model>>().all(self.db()).await?;
        Ok(rows.into_iter().map(|p| p.0).collect())
    }

    /// Validates a record of `kind` for its subject and builds the row; nothing is written.
    pub(super) async fn check_record(&self, input: NewServiceRecord, kind: DetailKind) -> ApiResult<Checked> {
        self.authorize(Action::RecordServices)?;
        let st = self.service_type_by_code(&input.service_type_code, "input.serviceTypeCode").await?;
        let st_kind = DetailKind::from_db(&st.detail_kind)?;
        if st_kind != kind {
            let hint = match st_kind {
                DetailKind::Growth => "recordGrowthMeasurement",
                DetailKind::Immunisation => "recordImmunisation",
                DetailKind::Milestones => "recordMilestoneCheck",
                DetailKind::None => "recordService",
                DetailKind::Enrolment => "recordEnrolment",
                DetailKind::Attendance => "recordAttendance",
                DetailKind::Outcome => "recordPregnancyOutcome",
                DetailKind::HivKnowledge => "recordHivKnowledge",
                DetailKind::ProtectionCase => "openProtectionCase",
            };
            return Err(ApiError::invalid("input.serviceTypeCode", format!("{} is recorded with {hint}", st.code)));
        }
        let mut p = Problems::default();
        validate::past_date(&mut p, "input.date", input.date, today());
        let provider = input.provider.as_deref().map(|t| validate::text(&mut p, "input.provider", t, 200));
        let note = input.note.as_deref().map(|t| validate::lines(&mut p, "input.note", t, 2000));
        p.into_result()?;
        let target = TargetGroup::from_db(&st.target_group)?;
        let mut served = None;
        let referred;
        let (subject_unit, pregnancy_id, subject_household) = match (input.person_id, input.household_id) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid("input.householdId", "give a person or a household, not both"));
            }
            (None, None) => {
                return Err(ApiError::invalid("input.personId", "a person or a household is required"));
            }
            (None, Some(h)) => {
                if target != TargetGroup::Household {
                    return Err(ApiError::invalid("input.householdId", format!("{} is given to a person", st.code)));
                }
                let (household, on_referral) = self
                    .subject_to_serve(
                        self.household(h).await.ok(),
                        |home| home.org_unit_id,
                        self.referred_household_to_caller(h, st.id),
                        &input,
                        ApiError::invalid("input.householdId", "unknown household"),
                    )
                    .await?;
                referred = on_referral;
                (household.org_unit_id, None, Some(h))
            }
            (Some(pid), None) => {
                let (who, on_referral) = self
                    .subject_to_serve(
                        self.person(pid).await.ok(),
                        |who| who.org_unit_id,
                        self.referred_to_caller(pid, st.id),
                        &input,
                        ApiError::invalid("input.personId", "unknown person"),
                    )
                    .await?;
                referred = on_referral;
                let eligible = self.check_eligible(&st, target, &who, input.date).await;
                let pregnancy = match (eligible, &referred) {
                    // One answer whatever the reason: a refusal must not date the birth, a death
                    // or a pregnancy of someone the caller does not see.
                    (Err(ApiError::Validation(_)), Some(_)) => {
                        let why = format!("{} cannot be given to the referred person on this date", st.code);
                        return Err(ApiError::invalid("input.date", why));
                    }
                    (eligible, _) => eligible?,
                };
                let pregnancy_id = match (input.pregnancy_id, pregnancy) {
                    (Some(given), _) => {
                        let preg = self
                            .pregnancy(given)
                            .await
                            .map_err(|_| ApiError::invalid("input.pregnancyId", "unknown pregnancy"))?;
                        if preg.mother_id != who.id {
                            return Err(ApiError::invalid("input.pregnancyId", "is not this woman's pregnancy"));
                        }
                        Some(given)
                    }
                    (None, open) => open,
                };
                let (unit, household) = (who.org_unit_id, who.household_id);
                served = Some(who);
                (unit, pregnancy_id, household)
            }
        };
        let delivered_at = match (input.org_unit_id, &referred) {
            (Some(u), _) => self.known_unit(u, "input.orgUnitId").await?,
            (None, Some(r)) => self.known_unit(r.to_org_unit_id, "input.personId").await?,
            (None, None) => self.known_unit(subject_unit, "input.personId").await?,
        };
        if referred.is_none() {
            // Capture scope is about whose data is written: the subject's unit must be in it (on a
            // referral, the place was checked instead: `check_referred_write`).
            let subject = self.known_unit(subject_unit, "input.personId").await?;
            self.check_capture(&subject)?;
        }
        match (served.as_ref(), subject_household) {
            (Some(who), household) => self.require_consent_of(who.id, household).await?,
            (None, Some(h)) => self.require_consent(self.db(), h).await?,
            (None, None) => {}
        }
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        if self.id_taken::<service_record::Entity>("service_record", id).await? {
            return Err(ApiError::conflict("a service record with this id exists"));
        }
        let now = super::now();
        Ok(Checked {
            id,
            via: referred.map(|r| r.id),
            person: served,
            record: service_record::ActiveModel {
                id: Set(id),
                service_type_id: Set(st.id),
                person_id: Set(input.person_id),
                household_id: Set(input.household_id),
                pregnancy_id: Set(pregnancy_id),
                service_date: Set(input.date),
                org_unit_id: Set(delivered_at.id),
                provider: Set(provider),
                recorded_by: Set(self.principal().user_id),
                note: Set(note),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
                change_seq: Set(0),
            },
        })
    }

    /// The subject of a record (a person or a household) as the caller may serve it: the one it
    /// sees (`seen`) when its capture scope holds the subject's unit; else one that an open
    /// referral it receives lets it serve (`on_referral`), with that referral, whose limits are
    /// checked before anything else (`check_referred_write`); else the one it sees (refused by
    /// the capture check that follows), or `unknown`.
    async fn subject_to_serve<T>(
        &self,
        seen: Option<T>,
        unit_of: impl Fn(&T) -> Uuid,
        on_referral: impl std::future::Future<Output = ApiResult<Option<(T, referral::Model)>>>,
        input: &NewServiceRecord,
        unknown: ApiError,
    ) -> ApiResult<(T, Option<referral::Model>)> {
        let writes_for = match &seen {
            Some(subject) => self
                .known_unit(unit_of(subject), "input.personId")
                .await
                .is_ok_and(|u| self.principal().capture.covers_path(&u.path)),
            None => false,
        };
        match (writes_for, seen) {
            (true, Some(subject)) => Ok((subject, None)),
            (_, seen) => match on_referral.await? {
                Some((subject, r)) => {
                    self.check_referred_write(&r, input.date, input.org_unit_id).await?;
                    Ok((subject, Some(r)))
                }
                None => Ok((seen.ok_or(unknown)?, None)),
            },
        }
    }

    /// Refuses a service the person cannot receive on `date`; returns her open pregnancy, if any.
    async fn check_eligible(
        &self,
        st: &service_type::Model,
        target: TargetGroup,
        who: &person::Model,
        date: NaiveDate,
    ) -> ApiResult<Option<Uuid>> {
        let (open, since_delivery) = self.maternal_state(who, date).await?;
        let recipient = Recipient {
            sex: Sex::from_db(&who.sex)?,
            birth_date: who.birth_date,
            date_of_death: who.date_of_death,
            pregnant: open.is_some(),
            days_since_delivery: since_delivery,
        };
        let rule =
            Eligibility { target_group: target, min_age_months: st.min_age_months, max_age_months: st.max_age_months };
        if let Some(why) = eligibility::refusal(&rule, &recipient, date) {
            return Err(ApiError::invalid("input.date", format!("{} cannot be given: {why}", st.code)));
        }
        Ok(open.map(|p| p.id))
    }

    /// Inserts a checked record and its detail rows as one write; `detail` goes to the audit log.
    pub(super) async fn insert_record(
        &self,
        checked: Checked,
        details: Vec<NewRow>,
        detail: Option<String>,
    ) -> ApiResult<service_record::Model> {
        self.insert_record_then(checked, details, detail, |_| Vec::new()).await
    }

    /// `insert_record`, then updates of rows it changes (`Store::insert_new_then`).
    pub(super) async fn insert_record_then(
        &self,
        checked: Checked,
        details: Vec<NewRow>,
        detail: Option<String>,
        then: impl FnOnce(i64) -> Vec<UpdateStatement> + Send,
    ) -> ApiResult<service_record::Model> {
        // Open referrals for this service are completed by it, in the same write.
        let (id, on) = (*checked.record.id.as_ref(), *checked.record.service_date.as_ref());
        let mut met = self.referrals_met_by(&checked.record).await?;
        if let Some(via) = checked.via {
            // A receiver serving someone it does not see answers its own referral, not others'.
            met.retain(|r| r.id == via);
        }
        let done = super::referrals::completed(met, id, on);
        let mut rows = vec![NewRow::ServiceRecord(checked.record.clone())];
        rows.extend(details);
        let user = self.principal().user_id;
        let via = checked.via;
        rows.extend(
            done.iter().map(|(before, _)| NewRow::ReferralStep(super::referrals::completion_step(before, user))),
        );
        let mut saved = checked.record.try_into_model()?;
        saved.change_seq = self
            .insert_new_then(
                rows,
                |w| {
                    w.note("CREATE", "service_record", saved.id, diff(None, Some(&saved)), detail);
                    if let Some(via) = via {
                        let why = format!("for a person outside the writer's scope, on referral {via}");
                        w.note("ON_REFERRAL", "service_record", saved.id, None, Some(why));
                    }
                    for (before, after) in &done {
                        w.record("TRANSITION", "referral", before.id, Some(before), Some(after));
                    }
                },
                |seq| {
                    let mut all = then(seq);
                    all.extend(super::referrals::complete_by(&done, seq));
                    all
                },
            )
            .await?;
        self.cached(|c| c.free_ids.remove(&("service_record", saved.id)));
        Ok(saved)
    }

    pub async fn record_service(&self, input: NewServiceRecord) -> ApiResult<service_record::Model> {
        let checked = self.check_record(input, DetailKind::None).await?;
        self.insert_record(checked, vec![], None).await
    }

    pub async fn record_growth_measurement(&self, input: NewGrowthMeasurement) -> ApiResult<service_record::Model> {
        let mut p = Problems::default();
        growth::check_measurement(&mut p, input.weight_kg, input.length_height_cm, input.muac_mm, input.oedema);
        p.into_result()?;
        let record = input.record();
        let checked = self.check_record(record, DetailKind::Growth).await?;
        let person = checked.person.clone().ok_or(ApiError::not_found("person"))?;
        // WHO z-scores are computed on write and stored with the measurement; values outside
        // WHO's tables are stored with null z-scores and `outside_who_range`.
        let z = growth::compute(
            &person,
            input.date,
            input.weight_kg,
            input.length_height_cm,
            input.position,
            input.oedema,
        )?;
        let row = growth_measurement::ActiveModel {
            service_record_id: Set(checked.id),
            person_id: Set(person.id),
            measured_on: Set(Some(input.date)),
            weight_kg: Set(input.weight_kg),
            length_height_cm: Set(input.length_height_cm),
            position: Set(input.position.map(|p| p.as_str().into())),
            muac_mm: Set(input.muac_mm),
            oedema: Set(input.oedema),
            ..Default::default()
        };
        let mut row = row;
        growth::set_zscores(&mut row, &z);
        let detail = serde_json::to_string(&row.clone().try_into_model()?).ok();
        self.insert_record(checked, vec![NewRow::Growth(row)], detail).await
    }

    /// Records an enrolment (kindergarten, ger-kindergarten, outreach ECD, school, non-formal
    /// education): a service record with its enrolment detail.
    pub async fn record_enrolment(&self, input: NewEnrolment) -> ApiResult<service_record::Model> {
        let mut p = Problems::default();
        let institution = validate::text(&mut p, "input.institution", &input.institution, 200);
        let grade = input.grade.as_deref().map(|g| validate::text(&mut p, "input.grade", g, 40));
        if let Some(n) = input.grade_number {
            if input.service_type_code != school::ENROLMENT_TYPE {
                p.add("input.gradeNumber", format!("only a {} has a grade number", school::ENROLMENT_TYPE));
            } else if !school::GRADES.contains(&n) {
                let (first, last) = (school::GRADES.start(), school::GRADES.end());
                p.add("input.gradeNumber", format!("a grade of general education is {first} to {last}"));
            }
        }
        p.into_result()?;
        let record = input.record();
        let checked = self.check_record(record, DetailKind::Enrolment).await?;
        let row = enrolment::ActiveModel {
            service_record_id: Set(checked.id),
            person_id: Set(input.person_id),
            institution: Set(institution),
            grade: Set(grade),
            ended_on: Set(None),
            end_reason: Set(None),
            service_type_id: Set(Some(*checked.record.service_type_id.as_ref())),
            started_on: Set(Some(input.date)),
            grade_number: Set(input.grade_number),
            first_grade_year: Set(input.grade_number.map(|g| school::first_grade_year(input.date, g))),
        };
        let detail = serde_json::to_string(&row.clone().try_into_model()?).ok();
        self.insert_record(checked, vec![NewRow::Enrolment(row)], detail).await
    }

    async fn antigen_by_code(&self, code: &str) -> ApiResult<antigen::Model> {
        if let Some(Some(a)) = self.cached(|c| c.antigens.get(code).cloned()) {
            return Ok(a);
        }
        // A code no antigen can have (a NUL, a control character) is not looked up.
        let found = if validate::plain(code) {
            antigen::Entity::find().filter(antigen::Column::Code.eq(code)).one(self.db()).await?
        } else {
            None
        };
        let found = found.ok_or_else(|| ApiError::invalid("input.antigenCode", format!("unknown antigen {code:?}")))?;
        self.cached(|c| c.antigens.insert(code.to_string(), found.clone()));
        Ok(found)
    }

    /// Records a dose. The verdicts are computed from the person's doses as read, under the
    /// household's lock (`Store::require_consent`; a create runs in a transaction of its own,
    /// `Store::create`), so two doses of one child written at once see each other.
    pub async fn record_immunisation(&self, input: NewImmunisation) -> ApiResult<service_record::Model> {
        let antigen = self.antigen_by_code(&input.antigen_code).await?;
        if !(1..=antigen.doses).contains(&input.dose_number) {
            return Err(ApiError::invalid(
                "input.doseNumber",
                format!("{} has doses 1 to {}", antigen.code, antigen.doses),
            ));
        }
        let record = input.record();
        let checked = self.check_record(record, DetailKind::Immunisation).await?;
        // The person's doses with this one, evaluated together: a back-filled dose can change
        // the verdicts of later ones.
        let rules = self.dose_rules().await?;
        let birth = checked.person.as_ref().ok_or(ApiError::not_found("person"))?.birth_date;
        let mut doses = self.dose_rows_of(input.person_id).await?;
        doses.push(DoseRow {
            record_id: checked.id,
            antigen_id: antigen.id,
            date: input.date,
            service_type_id: *checked.record.service_type_id.as_ref(),
            evaluation: None,
            valid_dose_number: None,
        });
        let (doses, changed) = rules.reevaluate(birth, doses);
        // The new row is inserted with its verdict; earlier ones whose verdict changed, updated.
        let changed: Vec<DoseRow> = changed.into_iter().filter(|d| d.record_id != checked.id).collect();
        let updates = move |seq| super::doses::verdict_updates(&changed, seq);
        let verdict = doses.iter().find(|d| d.record_id == checked.id).cloned().expect("the new dose");
        let row = immunisation::ActiveModel {
            service_record_id: Set(checked.id),
            person_id: Set(input.person_id),
            antigen_id: Set(antigen.id),
            dose_number: Set(input.dose_number),
            given_on: Set(Some(input.date)),
            org_unit_id: Set(Some(*checked.record.org_unit_id.as_ref())),
            evaluation: Set(verdict.evaluation),
            valid_dose_number: Set(verdict.valid_dose_number),
        };
        let detail = serde_json::to_string(&row.clone().try_into_model()?).ok();
        let saved = self.insert_record_then(checked, vec![NewRow::Immunisation(row)], detail, updates).await?;
        self.cached(|c| c.doses.insert(input.person_id, doses));
        Ok(saved)
    }
}

/// The end of an enrolment.
#[derive(InputObject)]
#[graphql(name = "EndEnrolmentInput")]
pub struct EndEnrolment {
    /// The enrolment's id (its service record's id).
    pub id: Uuid,
    /// The service record's version the client last saw; a different stored version is a CONFLICT.
    pub expected_version: i32,
    /// The last day of the enrolment: on or after the day it began, not in the future.
    pub ended_on: NaiveDate,
    /// Why it ended.
    pub reason: EnrolmentEndReason,
}

/// Attendance over a period for an enrolment.
#[derive(InputObject, Clone)]
#[graphql(name = "RecordAttendanceInput")]
pub struct NewAttendance {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// SCHOOL_ATTENDANCE or PRESCHOOL_ATTENDANCE: of the same life stage as the enrolment.
    pub service_type_code: String,
    /// The enrolment (its service record's id) the attendance is of.
    pub enrolment_id: Uuid,
    /// The first day of the period reported on: within the enrolment.
    pub period_start: NaiveDate,
    /// The last day, the record's date: not in the future, nor after the enrolment ended.
    pub period_end: NaiveDate,
    /// Days the child attended, 0 to `daysExpected`.
    pub days_present: i32,
    /// Days the institution was open to the child in the period, 1 to the period's days.
    pub days_expected: i32,
    /// Where it was delivered; defaults to the child's unit.
    pub org_unit_id: Option<Uuid>,
    /// The institution or worker reporting it, at most 200 characters.
    pub provider: Option<String>,
    /// A free-text note, at most 2,000 characters.
    pub note: Option<String>,
}

/// The longest period one attendance record covers (a school year fits).
pub const MAX_ATTENDANCE_DAYS: i64 = 366;

impl Store {
    /// Attendance over a period for an enrolment (a school's or kindergarten's register,
    /// summed): a service record of the attendance type, dated the period's last day, with its
    /// days present and expected. Periods of one enrolment do not overlap: a second record for
    /// any day already reported is a CONFLICT.
    pub async fn record_attendance(&self, input: NewAttendance) -> ApiResult<service_record::Model> {
        self.authorize(Action::RecordServices)?;
        let unknown = || ApiError::invalid("input.enrolmentId", "unknown enrolment");
        let enrolled = self.service_record(input.enrolment_id).await.map_err(|_| unknown())?;
        let enrolment = enrolment::Entity::find_by_id(enrolled.id).one(self.db()).await?.ok_or_else(unknown)?;
        let record = NewServiceRecord::for_person(
            input.id,
            &input.service_type_code,
            enrolment.person_id,
            input.period_end,
            input.org_unit_id,
            &input.provider,
            &input.note,
        );
        let checked = self.check_record(record, DetailKind::Attendance).await?;
        // check_record read the attendance type by this code (a batch keeps it).
        let attended = self.service_type_by_code(&input.service_type_code, "input.serviceTypeCode").await?;
        let enrolled_in = service_type::Entity::find_by_id(enrolled.service_type_id)
            .one(self.db())
            .await?
            .ok_or(ApiError::not_found("service type"))?;
        let mut p = Problems::default();
        p.check(
            attended.life_stage_code == enrolled_in.life_stage_code,
            "input.serviceTypeCode",
            &format!("is not attendance of a {} enrolment", enrolled_in.code),
        );
        let (start, end) = (input.period_start, input.period_end);
        let days = (end - start).num_days() + 1;
        p.check(start <= end, "input.periodStart", "must not be after periodEnd");
        p.check(
            days <= MAX_ATTENDANCE_DAYS,
            "input.periodStart",
            &format!("a period is at most {MAX_ATTENDANCE_DAYS} days"),
        );
        p.check(start >= enrolled.service_date, "input.periodStart", "must not be before the enrolment began");
        if let Some(ended) = enrolment.ended_on {
            p.check(end <= ended, "input.periodEnd", &format!("must not be after the enrolment ended ({ended})"));
        }
        p.check(
            (1..=days.max(1)).contains(&i64::from(input.days_expected)),
            "input.daysExpected",
            "must be 1 to the period's number of days",
        );
        p.check(
            (0..=input.days_expected).contains(&input.days_present),
            "input.daysPresent",
            "must be 0 to daysExpected",
        );
        p.into_result()?;
        let overlapping = attendance::Entity::find()
            .filter(attendance::Column::EnrolmentId.eq(enrolled.id))
            .filter(attendance::Column::PeriodStart.lte(end))
            .filter(attendance::Column::PeriodEnd.gte(start))
            .one(self.db())
            .await?;
        if let Some(o) = overlapping {
            return Err(ApiError::conflict(format!(
                "attendance from {} to {} is already recorded for this enrolment",
                o.period_start, o.period_end
            )));
        }
        let row = attendance::ActiveModel {
            service_record_id: Set(checked.id),
            enrolment_id: Set(enrolled.id),
            period_start: Set(start),
            period_end: Set(end),
            days_present: Set(input.days_present),
            days_expected: Set(input.days_expected),
        };
        let detail = serde_json::to_string(&row.clone().try_into_model()?).ok();
        self.insert_record(checked, vec![NewRow::Attendance(row)], detail).await
    }

    /// Ends an open enrolment (completed, dropped out, transferred, moved, died): from the day
    /// after `endedOn` the child no longer counts as enrolled. The record's version and change
    /// number move, so devices pull it again; ending it twice is a CONFLICT.
    pub async fn end_enrolment(&self, input: EndEnrolment) -> ApiResult<service_record::Model> {
        self.authorize(Action::RecordServices)?;
        let record = self.service_record(input.id).await?;
        let current =
            enrolment::Entity::find_by_id(input.id).one(self.db()).await?.ok_or(ApiError::not_found("enrolment"))?;
        let person = self.person(current.person_id).await?;
        let unit = self.known_unit(person.org_unit_id, "input.id").await?;
        self.check_capture(&unit)?;
        self.require_consent_of(person.id, person.household_id).await?;
        super::households::check_version(Some(input.expected_version), record.version)?;
        if let Some(ended) = current.ended_on {
            return Err(ApiError::conflict(format!("the enrolment already ended on {ended}")));
        }
        let mut p = Problems::default();
        validate::past_date(&mut p, "input.endedOn", input.ended_on, today());
        p.check(input.ended_on >= record.service_date, "input.endedOn", "must not be before the enrolment began");
        p.into_result()?;
        let before = current.clone();
        let mut row: enrolment::ActiveModel = current.into();
        row.ended_on = Set(Some(input.ended_on));
        row.end_reason = Set(Some(input.reason.as_str().into()));
        let (id, version) = (record.id, record.version);
        self.write(move |txn, w| {
            Box::pin(async move {
                bump_record(txn, w.seq, id, version, "enrolment").await?;
                let after = row.update(txn).await?;
                w.record("UPDATE", "enrolment", id, Some(&before), Some(&after));
                service_record::Entity::find_by_id(id).one(txn).await?.ok_or(ApiError::not_found("service record"))
            })
        })
        .await
    }
}

/// Moves a service record to its next version and change number when its detail changes (so
/// devices pull it again); a record no longer at `version` is a CONFLICT.
pub(crate) async fn bump_record<C: ConnectionTrait>(
    txn: &C,
    seq: i64,
    id: Uuid,
    version: i32,
    what: &str,
) -> ApiResult<()> {
    let res = service_record::Entity::update_many()
        .col_expr(service_record::Column::Version, (version + 1).into())
        .col_expr(service_record::Column::UpdatedAt, super::now().into())
        .col_expr(service_record::Column::ChangeSeq, seq.into())
        .filter(service_record::Column::Id.eq(id))
        .filter(service_record::Column::Version.eq(version))
        .exec(txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(ApiError::conflict(format!("the {what} was changed by someone else; reload it")));
    }
    Ok(())
}
