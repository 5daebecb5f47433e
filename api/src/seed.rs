//! Deterministic demo data (seeded RNG): the programme's focus soums and khoroos with bags,
//! households with mothers and children of every life stage, pregnancies and services along the
//! chain. Batched inserts, so `--people 1000000` takes minutes, not hours.

use crate::domain::dose_validity::{self, Recorded};
use crate::domain::growth;
use crate::domain::hiv_knowledge;
use crate::domain::names;
use crate::domain::schedule::DoseRule;
use crate::domain::school;
use crate::domain::vocab::{KnowledgeAnswer, MeasurementPosition, PartnerKind, Role, Sex};
use chrono::{Days, Months, NaiveDate, Utc};
use entity::{
    consent, enrolment, growth_measurement, household, immunisation, org_unit, org_unit_group, org_unit_group_member,
    person, pregnancy, pregnancy_child, service_record,
};
use migration::reference::reference_id;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};
use uuid::Uuid;

pub const DEFAULT_PEOPLE: usize = 2_000;
const SEED: u64 = 20_261_127;
/// Rows per INSERT: under SQLite's and PostgreSQL's bound-parameter limits for our widest table.
const BATCH: usize = 1_000;
/// The registry holds services of the last five years (older doses of older children were given
/// before it began), which keeps the record count near five per person, as in the field.
const RECORDED_SINCE_DAYS: i64 = 5 * 365;
/// People generated per chunk; one chunk is written while the next is generated.
const CHUNK_PEOPLE: usize = 5_000;

#[derive(Debug, Default)]
pub struct Summary {
    pub org_units: usize,
    pub households: usize,
    pub people: usize,
    pub pregnancies: usize,
    pub service_records: usize,
    pub family_assessments: usize,
    pub community_projects: usize,
    pub referrals: usize,
    pub protection_cases: usize,
}

/// Whether the database holds no personal data yet.
pub async fn is_empty(db: &DatabaseConnection) -> anyhow::Result<bool> {
    Ok(household::Entity::find().count(db).await? == 0)
}

/// A demo unit: code, English and Mongolian name, parent code, level.
struct DemoUnit {
    code: String,
    name_en: String,
    name_mn: String,
    parent: String,
    level: &'static str,
}

/// Focus soums (8 in 7 aimags; real soum names, demo focus) plus one soum outside the focus,
/// and 12 focus khoroos in 4 Ulaanbaatar districts plus one outside.
fn demo_units() -> Vec<(DemoUnit, bool)> {
    let soums: [(&str, &str, &str, &str, bool); 9] = [
        ("85", "ZAVKHAN", "Zavkhan", "Завхан", true),
        ("85", "TARIALAN", "Tarialan", "Тариалан", true),
        ("81", "TOSONTSENGEL", "Tosontsengel", "Тосонцэнгэл", true),
        ("84", "ERDENEBUREN", "Erdenebüren", "Эрдэнэбүрэн", true),
        ("83", "TSENGEL", "Tsengel", "Цэнгэл", true),
        ("82", "TAISHIR", "Taishir", "Тайшир", true),
        ("67", "TSETSERLEG", "Tsetserleg", "Цэцэрлэг", true),
        ("65", "TARIAT", "Tariat", "Тариат", true),
        ("85", "NAURAN", "Naranbulag", "Наранбулаг", false),
    ];
    let mut units = Vec::new();
    for (aimag, code, en, mn, focus) in soums {
        let soum = format!("{aimag}-{code}");
        units.push((
            DemoUnit {
                code: soum.clone(),
                name_en: en.into(),
                name_mn: mn.into(),
                parent: aimag.into(),
                level: "SOUM",
            },
            focus,
        ));
        for b in 1..=2 {
            units.push((
                DemoUnit {
                    code: format!("{soum}-B{b}"),
                    name_en: format!("{en} bag {b} (demo)"),
                    name_mn: format!("{mn} {b}-р баг"),
                    parent: soum.clone(),
                    level: "BAG",
                },
                false,
            ));
        }
    }
    for (district, count) in [("11-BZD", 4), ("11-SKHD", 3), ("11-CHD", 3), ("11-SBD", 3)] {
        for k in 1..=count {
            // The first 12 are the focus khoroos; Bayanzürkh's 4th lies outside the focus.
            let focus = !(district == "11-BZD" && k == 4);
            units.push((
                DemoUnit {
                    code: format!("{district}-{k:02}"),
                    name_en: format!("Khoroo {k} (demo)"),
                    name_mn: format!("{k}-р хороо"),
                    parent: district.into(),
                    level: "KHOROO",
                },
                focus,
            ));
        }
    }
    units
}

const MALE: &[&str] = &[
    "Батболд",
    "Ганбаатар",
    "Төмөрбаатар",
    "Эрдэнэбат",
    "Мөнхбат",
    "Баярсайхан",
    "Болд",
    "Сүхбат",
    "Энхтөр",
    "Ганзориг",
    "Тэмүүлэн",
    "Билгүүн",
    "Хүслэн",
    "Нямдорж",
    "Амарсанаа",
    "Ерлан",
    "Серик",
];
const FEMALE: &[&str] = &[
    "Оюунчимэг",
    "Сарангэрэл",
    "Наранцэцэг",
    "Энхжаргал",
    "Болормаа",
    "Номин",
    "Анужин",
    "Мөнхзул",
    "Солонго",
    "Хулан",
    "Уянга",
    "Цэцэгмаа",
    "Гэрэлмаа",
    "Алтанцэцэг",
    "Айгерим",
    "Марал",
    "Дэлгэрмаа",
];

struct Rows {
    households: Vec<household::ActiveModel>,
    consents: Vec<consent::ActiveModel>,
    people: Vec<person::ActiveModel>,
    pregnancies: Vec<pregnancy::ActiveModel>,
    births: Vec<pregnancy_child::ActiveModel>,
    records: Vec<service_record::ActiveModel>,
    growth: Vec<growth_measurement::ActiveModel>,
    immunisations: Vec<immunisation::ActiveModel>,
    enrolments: Vec<enrolment::ActiveModel>,
    hiv_knowledge: Vec<entity::hiv_knowledge::ActiveModel>,
}

struct Gen {
    rng: fastrand::Rng,
    /// The national immunisation schedule (reference data): antigen and the ages of its doses.
    schedule: Vec<(&'static str, Vec<i64>)>,
    /// When a dose counts (reference data), to store each generated dose's verdict.
    dose_rules: Vec<DoseRule>,
    today: NaiveDate,
    now: chrono::DateTime<Utc>,
    registry_serial: u32,
}

impl Gen {
    fn id(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        self.rng.fill(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// Six young people in ten asked the HIV knowledge questions in the last 300 days, each
    /// question answered right four times in five; all chosen from the person's id, so the
    /// generator's sequence, and the rest of the demo, stay as they were.
    fn hiv_knowledge(&mut self, rows: &mut Rows, person: Uuid, unit: Uuid) {
        let id = Uuid::new_v5(&person, b"HIV_KNOWLEDGE");
        let b = *id.as_bytes();
        if b[15] % 10 >= 6 {
            return;
        }
        let date = self.today - Days::new(u64::from(b[14]) * 300 / 255);
        let answers: hiv_knowledge::Answers = std::array::from_fn(|i| {
            let right = hiv_knowledge::QUESTIONS[i].1;
            match b[i] % 10 {
                0..8 => right,
                8 => KnowledgeAnswer::DontKnow,
                _ if right == KnowledgeAnswer::Yes => KnowledgeAnswer::No,
                _ => KnowledgeAnswer::Yes,
            }
        });
        self.record_as(rows, id, "HIV_KNOWLEDGE_ASSESSMENT", Some(person), None, unit, date);
        let text = |i: usize| Set(answers[i].as_str().to_string());
        rows.hiv_knowledge.push(entity::hiv_knowledge::ActiveModel {
            service_record_id: Set(id),
            person_id: Set(person),
            assessed_on: Set(date),
            one_faithful_partner: text(0),
            condom_every_time: text(1),
            healthy_looking_person: text(2),
            mosquito_bites: text(3),
            sharing_food: text(4),
            comprehensive: Set(hiv_knowledge::comprehensive(&answers)),
        });
    }

    fn days_ago(&mut self, lo: u64, hi: u64) -> NaiveDate {
        self.today - Days::new(self.rng.u64(lo..=hi))
    }

    fn record(
        &mut self,
        rows: &mut Rows,
        st: &str,
        person: Option<Uuid>,
        household: Option<Uuid>,
        unit: Uuid,
        date: NaiveDate,
    ) -> Uuid {
        let id = self.id();
        self.record_as(rows, id, st, person, household, unit, date)
    }

    /// `record` under a given id (one derived from another row's, leaving the generator's
    /// sequence, and so the rest of the demo, as it was).
    #[allow(clippy::too_many_arguments)]
    fn record_as(
        &mut self,
        rows: &mut Rows,
        id: Uuid,
        st: &str,
        person: Option<Uuid>,
        household: Option<Uuid>,
        unit: Uuid,
        date: NaiveDate,
    ) -> Uuid {
        rows.records.push(service_record::ActiveModel {
            id: Set(id),
            service_type_id: Set(reference_id("service_type", st)),
            person_id: Set(person),
            household_id: Set(household),
            pregnancy_id: Set(None),
            service_date: Set(date.min(self.today)),
            org_unit_id: Set(unit),
            provider: Set(Some("Demo health centre".into())),
            recorded_by: Set(None),
            note: Set(None),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            version: Set(1),
            change_seq: Set(0),
        });
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn person(
        &mut self,
        rows: &mut Rows,
        household: Uuid,
        unit: Uuid,
        given: &str,
        family: &str,
        sex: &str,
        birth: NaiveDate,
        relation: &str,
    ) -> Uuid {
        let id = self.id();
        let adult = (self.today - birth).num_days() > 18 * 365;
        let registry = (adult && self.rng.bool()).then(|| {
            self.registry_serial += 1;
            format!("ДМ{:08}", self.registry_serial)
        });
        rows.people.push(person::ActiveModel {
            id: Set(id),
            household_id: Set(Some(household)),
            org_unit_id: Set(unit),
            given_name: Set(given.into()),
            family_name: Set(family.into()),
            search_name: Set(names::search_key(given, family)),
            sex: Set(sex.into()),
            birth_date: Set(birth),
            birth_date_estimated: Set(adult && self.rng.u8(0..10) == 0),
            relation_to_head: Set(Some(relation.into())),
            registry_number: Set(registry),
            phone: Set(adult.then(|| format!("99{:06}", self.rng.u32(0..1_000_000)))),
            disability: Set((self.rng.u8(0..40) == 0).then(|| "MOBILITY".into())),
            date_of_death: Set(None),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            version: Set(1),
            change_seq: Set(0),
        });
        id
    }

    /// The services a child of this age would plausibly have had, most but not all of them.
    fn child_services(&mut self, rows: &mut Rows, child: Uuid, unit: Uuid, birth: NaiveDate, sex_male: bool) {
        let age_days = (self.today - birth).num_days();
        let schedule = std::mem::take(&mut self.schedule);
        let first_dose = rows.immunisations.len();
        let mut given = Vec::new();
        for (antigen, ages) in &schedule {
            let mut previous: Option<NaiveDate> = None;
            for (i, age) in ages.iter().enumerate() {
                // About one child in eight misses a given dose, so due lists have defaulters.
                if *age > age_days || self.rng.u8(0..8) == 0 {
                    continue;
                }
                // Given when due, a few days late, and never before the minimum interval after
                // the previous dose; but one dose in 40 is given too early (two weeks after the
                // previous one, or at four weeks of age): the invalid doses registries find.
                let interval = self
                    .dose_rules
                    .iter()
                    .find(|r| r.antigen == *antigen && r.dose == i as i32 + 1)
                    .and_then(|r| r.min_interval_days)
                    .unwrap_or(0);
                let jitter = self.rng.i64(0..20) as u64;
                let when_due = birth + Days::new(*age as u64 + jitter);
                if (self.today - when_due).num_days() > RECORDED_SINCE_DAYS {
                    // Given before the registry began: not in it.
                    previous = Some(when_due);
                    continue;
                }
                let mut date = when_due;
                if let Some(p) = previous {
                    date = date.max(p + Days::new(interval as u64 + jitter));
                }
                // Chosen from the child's id, not drawn, and never in the future: the rest of the
                // demo data stays as it was generated before doses were evaluated.
                if (child.as_u128() >> (8 * i)) % 40 == u128::from(antigen.as_bytes()[0]) % 40 {
                    date = previous.map_or(birth + Days::new(28), |p| p + Days::new(14));
                }
                let date = date.min(self.today);
                previous = Some(date);
                let id = self.record(rows, "IMMUNISATION", Some(child), None, unit, date);
                rows.immunisations.push(immunisation::ActiveModel {
                    service_record_id: Set(id),
                    person_id: Set(child),
                    antigen_id: Set(reference_id("antigen", antigen)),
                    dose_number: Set(i as i32 + 1),
                    given_on: Set(Some(date)),
                    org_unit_id: Set(Some(unit)),
                    evaluation: Set(None),
                    valid_dose_number: Set(None),
                });
                given.push(Recorded { antigen: antigen.to_string(), date, evaluated: true });
            }
        }
        self.schedule = schedule;
        // Each dose's verdict, as a write would store it (a dose given late after a missed one
        // fills the missed position).
        // Doses of one day in the order the store reads them back: by record id, the rows all
        // being created at the same instant.
        let doses = &mut rows.immunisations[first_dose..];
        let mut order: Vec<usize> = (0..doses.len()).collect();
        order.sort_by_key(|&k| (given[k].date, *doses[k].service_record_id.as_ref()));
        let sorted: Vec<Recorded> = order.iter().map(|&k| given[k].clone()).collect();
        let verdicts = dose_validity::evaluate(&self.dose_rules, birth, &sorted);
        for (&k, v) in order.iter().zip(verdicts) {
            doses[k].evaluation = Set(Some(v.evaluation.as_str().to_string()));
            doses[k].valid_dose_number = Set(v.valid_dose);
        }
        let months = age_days / 30;
        if months < 60 {
            for _ in 0..self.rng.u8(1..=3) {
                let at = self.rng.i64(0..=age_days.max(0));
                let date = birth + Days::new(at as u64);
                let m = at as f64 / 30.4375;
                // Median-ish growth with spread; a few children stunted or wasted.
                let z = self.rng.f64() * 3.0 - 1.8;
                let height = if m < 1.0 { 50.0 } else { 50.0 + 20.0 * m.ln().max(0.0) + m * 0.35 } + z * 2.5;
                let weight = (3.3 + m * 0.35 - (m * m) * 0.0018 + z * 0.6).max(2.0);
                let id = self.record(rows, "GROWTH_MONITORING", Some(child), None, unit, date);
                let (weight, height) = ((weight * 10.0).round() / 10.0, (height * 10.0).round() / 10.0);
                let position = if at < 731 { MeasurementPosition::Lying } else { MeasurementPosition::Standing };
                let mut row = growth_measurement::ActiveModel {
                    service_record_id: Set(id),
                    person_id: Set(child),
                    measured_on: Set(Some(date)),
                    weight_kg: Set(Some(weight)),
                    length_height_cm: Set(Some(height)),
                    position: Set(Some(position.as_str().into())),
                    muac_mm: Set((months >= 6).then(|| 120.0 + self.rng.f64() * 40.0)),
                    oedema: Set(false),
                    ..Default::default()
                };
                // The same WHO computation as a recorded measurement.
                let sex = if sex_male { Sex::Male } else { Sex::Female };
                let z =
                    growth::stored(&growth::input(sex, Some(at), Some(weight), Some(height), Some(position), false));
                crate::store::growth::set_zscores(&mut row, &z);
                rows.growth.push(row);
            }
        }
        if (6..60).contains(&months) && self.rng.u8(0..10) < 7 {
            let date = self.days_ago(0, 170);
            self.record(rows, "VITAMIN_A", Some(child), None, unit, date.max(birth + Months::new(6)));
        }
        if months < 24 && self.rng.bool() {
            self.record(rows, "VITAMIN_D", Some(child), None, unit, self.today.min(birth + Days::new(30)));
        }
        if months < 1 || self.rng.u8(0..10) < 9 {
            self.record(rows, "BIRTH_REGISTRATION", Some(child), None, unit, birth + Days::new(7));
        }
        let enrol =
            |g: &mut Self, rows: &mut Rows, st: &str, date: NaiveDate, institution: &str, grade: Option<i32>| {
                let id = g.record(rows, st, Some(child), None, unit, date);
                rows.enrolments.push(enrolment::ActiveModel {
                    service_record_id: Set(id),
                    person_id: Set(child),
                    institution: Set(institution.into()),
                    grade: Set(None),
                    ended_on: Set(None),
                    end_reason: Set(None),
                    service_type_id: Set(Some(reference_id("service_type", st))),
                    started_on: Set(Some(date)),
                    grade_number: Set(grade),
                    first_grade_year: Set(grade.map(|g| school::first_grade_year(date, g))),
                });
            };
        let at = |g: &Self, months: u32| (birth + Months::new(months)).min(g.today);
        if (36..72).contains(&months) && self.rng.u8(0..10) < 7 {
            let st = if self.rng.bool() { "KINDERGARTEN_ENROLMENT" } else { "GER_KINDERGARTEN_ENROLMENT" };
            enrol(self, rows, st, at(self, 36), "Demo kindergarten", None);
        } else if (24..72).contains(&months) && self.rng.u8(0..10) < 3 {
            enrol(self, rows, "OUTREACH_ECD", at(self, 24), "Demo outreach ECD", None);
        }
        if (72..216).contains(&months) && self.rng.u8(0..20) < 19 {
            // Grade 1 from the first 1 September the child is 6 on (Mongolia's entry age).
            let sixth = birth + Months::new(72);
            let start = school::school_year_start(sixth);
            let entry = if start == sixth { start } else { start + Months::new(12) };
            if entry <= self.today {
                enrol(self, rows, school::ENROLMENT_TYPE, entry, "Demo school", Some(1));
            } else {
                // Not at school yet; the id is drawn all the same, so the rest of the demo stays
                // as it was.
                self.id();
            }
        }
        if (180..216).contains(&months) {
            self.hiv_knowledge(rows, child, unit);
        }
        if (144..216).contains(&months) && self.rng.bool() {
            let date = self.days_ago(0, 300);
            self.record(
                rows,
                if sex_male { "LIFE_SKILLS" } else { "HIV_STI_PREVENTION" },
                Some(child),
                None,
                unit,
                date,
            );
        }
    }
}

/// Inserts rows in batches inside one transaction.
async fn insert_all<A, C>(db: &C, rows: Vec<A>) -> Result<(), sea_orm::DbErr>
where
    A: sea_orm::ActiveModelTrait + Send,
    C: ConnectionTrait,
{
    let mut rows = rows;
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(BATCH));
        let batch = std::mem::replace(&mut rows, rest);
        <A::Entity as EntityTrait>::insert_many(batch).exec_without_returning(db).await?;
    }
    Ok(())
}

/// The demo users (never created in production): email, role, capture unit code, display name.
pub const DEMO_USERS: &[(&str, Role, Option<&str>, &str)] = &[
    ("admin@demo.mn", Role::Admin, None, "Demo administrator"),
    ("analyst@demo.mn", Role::Analyst, None, "Demo ministry analyst"),
    ("researcher@demo.mn", Role::Researcher, None, "Demo researcher (de-identified microdata)"),
    ("ngo.uvs@demo.mn", Role::Partner, None, "Demo NGO staff, Uvs"),
    ("field.zavkhan@demo.mn", Role::FieldWorker, Some("85-ZAVKHAN"), "Demo social worker, Zavkhan soum"),
    ("field.bayanzurkh@demo.mn", Role::FieldWorker, Some("11-BZD-01"), "Demo social worker, Bayanzürkh khoroo 1"),
    ("clinic.bayanzurkh@demo.mn", Role::Provider, Some("11-BZD-01"), "Demo family health centre, Bayanzürkh khoroo 1"),
    (
        "caseworker.zavkhan@demo.mn",
        Role::CaseWorker,
        Some("85-ZAVKHAN"),
        "Demo child-protection case worker, Zavkhan soum",
    ),
    (
        "supervisor.zavkhan@demo.mn",
        Role::Supervisor,
        Some("85-ZAVKHAN"),
        "Demo case-management supervisor, Zavkhan soum",
    ),
];

/// Creates the demo partner (assigned to Uvs aimag) and the demo users, through the store so
/// they get the same validation and audit as any other user.
async fn demo_users(db: &DatabaseConnection, password: &str) -> anyhow::Result<Uuid> {
    let store = crate::store::Store::new(
        db.clone(),
        crate::access::Principal::system(),
        std::sync::Arc::new(crate::auth::Keys::ephemeral()),
    );
    let unit = |code: &str| reference_id("org_unit", code);
    let ngo = store.create_partner("Demo NGO (Uvs)".into(), PartnerKind::Ngo, vec![unit("85")]).await?;
    for (email, role, capture, name) in DEMO_USERS {
        store
            .create_user(crate::store::NewUser {
                email: (*email).into(),
                display_name: (*name).into(),
                password: password.into(),
                roles: vec![*role],
                capture_unit_ids: capture.iter().map(|c| unit(c)).collect(),
                view_unit_ids: vec![],
                partner_id: (*role == Role::Partner).then_some(ngo.id),
            })
            .await?;
    }
    Ok(ngo.id)
}

/// Family assessments in two focus areas (khoroo 11-BZD-01 and soum 85-ZAVKHAN, with their bags):
/// a visit 13-20 months ago for some households and one in the last year for all (a little
/// better: the programme at work), and a community project at several stages. Written through
/// the store, as field workers and the local government would, so every rule applies.
async fn demo_family(db: &DatabaseConnection, ngo: Uuid, rng: &mut fastrand::Rng) -> anyhow::Result<(usize, usize)> {
    use crate::domain::vocab::{AppliesWhen, AssessmentAnswer, CipArea, FunderKind, ProjectStatus};
    let store = crate::store::Store::new(
        db.clone(),
        crate::access::Principal::system(),
        std::sync::Arc::new(crate::auth::Keys::ephemeral()),
    );
    let today = crate::store::today();
    let instrument = store.instrument(None).await?;
    let indicators = store.indicators_of(instrument.id).await?;
    // How often each indicator is met before the programme's work, in percent.
    let base = |code: &str| match code {
        "LATRINE_HANDWASHING" => 30,
        "HOME_GARDEN" => 20,
        "HIV_KNOWLEDGE" => 45,
        "GROWTH_CHART" => 55,
        "ANC_4" => 60,
        "PRESCHOOL" => 50,
        "SAFE_WATER" => 70,
        _ => 80,
    };
    let mut visits = 0;
    for code in ["11-BZD-01", "85-ZAVKHAN"] {
        let filter =
            crate::store::HouseholdFilter { org_unit_id: Some(reference_id("org_unit", code)), ..Default::default() };
        let req = store.page_request(Some(25), None)?;
        for h in store.households(filter, None, &req).await?.items {
            let mut days = vec![rng.i64(30..300)];
            if rng.bool() {
                days.push(rng.i64(400..600));
            }
            for ago in days {
                let day = today - chrono::Duration::days(ago);
                let composition = store.composition(h.id, day).await?;
                let lift = if ago < 365 { 15 } else { 0 };
                let mut answers = Vec::new();
                for i in &indicators {
                    if composition.applies(AppliesWhen::from_db(&i.applies_when)?).is_ok() {
                        let yes = rng.u8(0..100) < base(&i.code) + lift;
                        let answer = if yes { AssessmentAnswer::Yes } else { AssessmentAnswer::No };
                        answers.push(crate::store::AnswerInput { indicator_code: i.code.clone(), answer });
                    }
                }
                store
                    .record_family_assessment(crate::store::NewAssessment {
                        id: None,
                        household_id: h.id,
                        assessed_on: Some(day),
                        instrument_version: None,
                        answers,
                        actions: vec![],
                        follow_ups: vec![],
                        note: None,
                    })
                    .await?;
                visits += 1;
            }
        }
    }
    let project = |unit: &str,
                   area: CipArea,
                   title: &str,
                   objectives: &str,
                   indicator: &str,
                   lines: Vec<crate::store::NewBudgetLine>,
                   partners: Vec<Uuid>| crate::store::NewProject {
        id: None,
        org_unit_id: reference_id("org_unit", unit),
        area,
        title: title.into(),
        objectives: objectives.into(),
        starts_on: Some(today - chrono::Duration::days(90)),
        ends_on: Some(today + chrono::Duration::days(270)),
        indicator_codes: vec![indicator.into()],
        budget_lines: lines,
        implementing_partner_ids: partners,
    };
    let line = |description: &str, amount_mnt: i64, funder: FunderKind, partner_id: Option<Uuid>| {
        crate::store::NewBudgetLine { description: description.into(), amount_mnt, funder, partner_id }
    };
    let latrines = store
        .propose_community_project(project(
            "11-BZD-01",
            CipArea::WaterSanitation,
            "Latrines and hand-washing stations",
            "Every household of the khoroo has an improved latrine and a hand-washing station",
            "LATRINE_HANDWASHING",
            vec![
                line("Materials", 5_000_000, FunderKind::LocalGovernment, None),
                line("Hand-washing stations", 3_000_000, FunderKind::Unicef, None),
            ],
            vec![],
        ))
        .await?;
    let gardens = store
        .propose_community_project(project(
            "85-ZAVKHAN",
            CipArea::Gardening,
            "Home gardens for herder families",
            "Half of the soum's households keep a vegetable garden by next autumn",
            "HOME_GARDEN",
            vec![
                line("Seeds and tools", 2_400_000, FunderKind::Partner, Some(ngo)),
                line("Training", 1_200_000, FunderKind::LocalGovernment, None),
            ],
            vec![ngo],
        ))
        .await?;
    store
        .propose_community_project(project(
            "85-TARIALAN",
            CipArea::ChildParticipation,
            "Children's council",
            "A children's council meets every month and is heard by the soum's khural",
            "SCHOOL",
            vec![line("Meetings", 600_000, FunderKind::Community, None)],
            vec![],
        ))
        .await?;
    for (p, steps) in [
        (&latrines, &[ProjectStatus::Approved, ProjectStatus::InProgress][..]),
        (&gardens, &[ProjectStatus::Approved][..]),
    ] {
        for to in steps {
            store.transition_community_project(p.id, *to, None, None).await?;
        }
    }
    store
        .report_community_project(crate::store::NewReport {
            id: None,
            project_id: latrines.id,
            reported_on: Some(today - chrono::Duration::days(10)),
            progress_percent: 40,
            narrative: "12 latrines and 9 hand-washing stations built; 20 volunteers trained".into(),
            households_reached: 12,
            people_reached: 41,
        })
        .await?;
    Ok((visits, 3))
}

/// Referrals between the demo users' units, so that each side has something to answer: a child
/// of khoroo 1 of Bayanzürkh whose family went to Zavkhan soum for the summer (sent there, open:
/// field.zavkhan@ sees the child's minimum although the child lives outside its scope), a child of
/// Zavkhan soum referred to its health centre (accepted), and a household of Zavkhan soum
/// referred to the demo NGO for a latrine (sent). Written through the store.
async fn demo_referrals(db: &DatabaseConnection, ngo: Uuid) -> anyhow::Result<usize> {
    use crate::domain::vocab::{ReferralNeed, ReferralStatus, ReferralTrigger, ReferralUrgency};
    use sea_orm::sea_query::ExprTrait;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let store = crate::store::Store::new(
        db.clone(),
        crate::access::Principal::system(),
        std::sync::Arc::new(crate::auth::Keys::ephemeral()),
    );
    let today = crate::store::today();
    // The first under-five of a unit's subtree (by id: the same every time).
    let child_in = |code: &'static str| {
        let store = &store;
        async move {
            let unit = store.known_unit(reference_id("org_unit", code), "unit").await?;
            let child = entity::person::Entity::find()
                .filter(
                    sea_orm::sea_query::Expr::col(entity::person::Column::OrgUnitId)
                        .in_subquery(crate::access::units_under(&unit.path)),
                )
                .filter(entity::person::Column::BirthDate.gt(today - chrono::Duration::days(4 * 365)))
                .filter(entity::person::Column::BirthDate.lt(today - chrono::Duration::days(365)))
                .order_by_asc(entity::person::Column::Id)
                .one(db)
                .await?;
            anyhow::Ok(child)
        }
    };
    let referral =
        |person: Option<Uuid>, household: Option<Uuid>, need, service: Option<&str>, to: &str, reason: &str| {
            crate::store::NewReferral {
                id: None,
                person_id: person,
                household_id: household,
                need,
                service_type_code: service.map(str::to_string),
                to_org_unit_id: reference_id("org_unit", to),
                to_partner_id: None,
                provider: None,
                urgency: ReferralUrgency::Routine,
                sent_on: Some(today - chrono::Duration::days(12)),
                due_by: None,
                reason: reason.into(),
                raised_by: service.map(|_| ReferralTrigger::OverdueService),
                raised_by_id: None,
            }
        };
    let mut sent = 0;
    if let Some(child) = child_in("11-BZD-01").await? {
        let mut r = referral(
            Some(child.id),
            None,
            ReferralNeed::Nutrition,
            Some("VITAMIN_A"),
            "85-ZAVKHAN",
            "Vitamin A due; the family herds in Zavkhan soum until September",
        );
        r.urgency = ReferralUrgency::Urgent;
        store.send_referral(r).await?;
        sent += 1;
    }
    if let Some(child) = child_in("85-ZAVKHAN").await? {
        let r = referral(
            Some(child.id),
            None,
            ReferralNeed::Health,
            None,
            "85-ZAVKHAN",
            "Cough for three weeks; to be seen by the soum health centre's doctor",
        );
        let saved = store.send_referral(r).await?;
        let answer = crate::store::ReferralAnswer {
            id: saved.id,
            expected_version: Some(saved.version),
            to: ReferralStatus::Accepted,
            note: Some("Appointment on Thursday".into()),
            close_reason: None,
            service_record_id: None,
        };
        store.answer_referral(answer).await?;
        sent += 1;
        if let Some(home) = child.household_id {
            let mut r = referral(
                None,
                Some(home),
                ReferralNeed::Wash,
                None,
                "85-ZAVKHAN",
                "No latrine; the family asks for help to build one",
            );
            r.to_partner_id = Some(ngo);
            store.send_referral(r).await?;
            sent += 1;
        }
    }
    Ok(sent)
}

/// Two child-protection cases in Zavkhan soum, owned by the demo case worker: one at high risk
/// with a plan under way, one at medium risk reviewed once. Written through the store.
async fn demo_cases(db: &DatabaseConnection) -> anyhow::Result<usize> {
    use crate::domain::vocab::{CaseStep, ProtectionConcern, RiskLevel};
    use sea_orm::sea_query::ExprTrait;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let store = crate::store::Store::new(
        db.clone(),
        crate::access::Principal::system(),
        std::sync::Arc::new(crate::auth::Keys::ephemeral()),
    );
    let today = crate::store::today();
    let worker = entity::app_user::Entity::find()
        .filter(entity::app_user::Column::Email.eq("caseworker.zavkhan@demo.mn"))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no demo case worker"))?;
    let unit = store.known_unit(reference_id("org_unit", "85-ZAVKHAN"), "unit").await?;
    // Children of 8 to 15 (by id: the same every time).
    let children = entity::person::Entity::find()
        .filter(
            sea_orm::sea_query::Expr::col(entity::person::Column::OrgUnitId)
                .in_subquery(crate::access::units_under(&unit.path)),
        )
        .filter(entity::person::Column::BirthDate.gt(today - chrono::Duration::days(15 * 365)))
        .filter(entity::person::Column::BirthDate.lt(today - chrono::Duration::days(8 * 365)))
        .order_by_asc(entity::person::Column::Id)
        .limit(2)
        .all(db)
        .await?;
    let cases = [
        (
            ProtectionConcern::Violence,
            RiskLevel::High,
            "Bruises seen at the home visit; the child is afraid to go home",
        ),
        (
            ProtectionConcern::Exploitation,
            RiskLevel::Medium,
            "Herds alone in winter pastures instead of going to school",
        ),
    ];
    let mut opened = 0;
    for (child, (concern, risk, summary)) in children.iter().zip(cases) {
        let case = store
            .open_protection_case(crate::store::NewProtectionCase {
                id: None,
                person_id: child.id,
                concern,
                risk_level: risk,
                opened_on: Some(today - chrono::Duration::days(20)),
                summary: Some(summary.into()),
                case_worker_id: Some(worker.id),
            })
            .await?;
        let change = if risk == RiskLevel::High {
            crate::store::CaseChange {
                step: CaseStep::Plan,
                note: None,
                risk_level: None,
                add_actions: Some(vec![
                    crate::store::NewCaseAction {
                        id: None,
                        description: "Safety plan agreed with the mother and the bag governor".into(),
                        due_on: today - chrono::Duration::days(15),
                    },
                    crate::store::NewCaseAction {
                        id: None,
                        description: "Visit the school with the class teacher".into(),
                        due_on: today + chrono::Duration::days(10),
                    },
                ]),
                done_action_ids: None,
                to_user_id: None,
                to_org_unit_id: None,
                close_reason: None,
            }
        } else {
            crate::store::CaseChange {
                step: CaseStep::Review,
                note: Some("Family agreed the child goes back to school after the move to winter camp".into()),
                risk_level: Some(RiskLevel::Low),
                add_actions: None,
                done_action_ids: None,
                to_user_id: None,
                to_org_unit_id: None,
                close_reason: None,
            }
        };
        let update = crate::store::CaseUpdate { id: case.id, expected_version: Some(case.version), change };
        store.update_protection_case(update).await?;
        opened += 1;
    }
    Ok(opened)
}

/// The dose rules of the reference data (what the migrations store in `antigen_dose`).
fn dose_rules() -> Vec<DoseRule> {
    let validity = migration::reference::dose_validity();
    migration::reference::immunisation_schedule()
        .into_iter()
        .map(|d| {
            let v = validity.iter().find(|v| v.antigen == d.antigen && v.dose == d.dose);
            DoseRule {
                antigen: d.antigen.into(),
                dose: d.dose,
                recommended_age_days: d.recommended_age_days,
                min_interval_days: d.min_interval_days,
                max_age_days: d.max_age_days,
                grace_days: d.grace_days,
                min_age_days: v.map_or(0, |v| v.min_age_days),
                max_valid_age_days: v.and_then(|v| v.max_valid_age_days),
                validity_grace_days: v.map_or(0, |v| v.validity_grace_days),
                live_injected: v.is_some_and(|v| v.live_injected),
                in_schedule: d.in_schedule,
            }
        })
        .collect()
}

/// Loads the demo data set with about `people` people, and the demo users with `password`.
/// Refuses a database that holds data.
pub async fn demo(db: &DatabaseConnection, people: usize, password: &str) -> anyhow::Result<Summary> {
    anyhow::ensure!(is_empty(db).await?, "the database already holds households; seed only an empty database");
    let now = Utc::now();
    let today = crate::store::today();
    let mut summary = Summary::default();

    // Units and groups.
    let mut paths: std::collections::HashMap<String, (Uuid, String, i32)> = org_unit::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.code.clone(), (u.id, u.path.clone(), u.depth)))
        .collect();
    let mut unit_rows = Vec::new();
    let mut homes = Vec::new(); // (unit id, urban)
    let mut focus_soums = Vec::new();
    let mut focus_khoroos = Vec::new();
    for (u, focus) in demo_units() {
        let (parent_id, parent_path, depth) =
            paths.get(&u.parent).cloned().ok_or_else(|| anyhow::anyhow!("no unit {}", u.parent))?;
        let id = reference_id("org_unit", &u.code);
        let path = format!("{parent_path}{id}/");
        paths.insert(u.code.clone(), (id, path.clone(), depth + 1));
        match u.level {
            "BAG" => homes.push((id, false)),
            "KHOROO" => homes.push((id, true)),
            _ => {}
        }
        if focus {
            if u.level == "SOUM" { focus_soums.push(id) } else { focus_khoroos.push(id) }
        }
        unit_rows.push(org_unit::ActiveModel {
            id: Set(id),
            code: Set(u.code),
            name_en: Set(u.name_en),
            name_mn: Set(u.name_mn),
            level: Set(u.level.into()),
            parent_id: Set(Some(parent_id)),
            path: Set(path),
            depth: Set(depth + 1),
            valid_from: Set(None),
            valid_to: Set(None),
            settlement: Set(Some(if matches!(u.level, "KHOROO" | "DISTRICT") { "URBAN" } else { "RURAL" }.into())),
            is_demo: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        });
    }
    summary.org_units = unit_rows.len();
    let txn = db.begin().await?;
    insert_all(&txn, unit_rows).await?;
    let mut group_rows = Vec::new();
    let mut member_rows = Vec::new();
    for (code, en, mn, members) in [
        ("FOCUS_SOUMS", "CBSS focus soums", "ХҮНҮ-ийн зорилтот сумд", &focus_soums),
        ("FOCUS_KHOROOS", "CBSS focus khoroos (ger areas)", "ХҮНҮ-ийн зорилтот хороод", &focus_khoroos),
    ] {
        let gid = reference_id("org_unit_group", code);
        group_rows.push(org_unit_group::ActiveModel {
            id: Set(gid),
            code: Set(code.into()),
            name_en: Set(en.into()),
            name_mn: Set(mn.into()),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        });
        for m in members {
            member_rows.push(org_unit_group_member::ActiveModel { group_id: Set(gid), org_unit_id: Set(*m) });
        }
    }
    insert_all(&txn, group_rows).await?;
    insert_all(&txn, member_rows).await?;
    txn.commit().await?;
    let ngo = demo_users(db, password).await?;

    // Households and people, flushed every few thousand people.
    let mut schedule: Vec<(&'static str, Vec<i64>)> = Vec::new();
    for d in migration::reference::immunisation_schedule().into_iter().filter(|d| d.in_schedule) {
        match schedule.iter_mut().find(|(a, _)| *a == d.antigen) {
            Some((_, ages)) => ages.push(i64::from(d.recommended_age_days)),
            None => schedule.push((d.antigen, vec![i64::from(d.recommended_age_days)])),
        }
    }
    let mut g =
        Gen { rng: fastrand::Rng::with_seed(SEED), schedule, dose_rules: dose_rules(), today, now, registry_serial: 0 };
    let mut made = 0usize;
    let mut rows = empty_rows();
    let mut writing: Option<tokio::task::JoinHandle<anyhow::Result<()>>> = None;
    while made < people {
        let (unit, urban) = homes[g.rng.usize(0..homes.len())];
        let hid = g.id();
        let registered = g.days_ago(30, 2000);
        rows.households.push(household::ActiveModel {
            id: Set(hid),
            org_unit_id: Set(unit),
            address: Set(Some(if urban {
                format!("{}-р гудамж, {} тоот", g.rng.u8(1..40), g.rng.u16(1..300))
            } else {
                "Демо баг, малчин айл".into()
            })),
            description: Set(None),
            dwelling: Set(if urban {
                ["GER", "GER", "HOUSE", "APARTMENT"][g.rng.usize(0..4)]
            } else {
                ["GER", "GER", "GER", "HOUSE"][g.rng.usize(0..4)]
            }
            .into()),
            is_herder: Set(!urban && g.rng.u8(0..10) < 7),
            migrant_status: Set(if urban && g.rng.u8(0..5) == 0 { "IN_MIGRANT" } else { "RESIDENT" }.into()),
            registered_on: Set(registered),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            change_seq: Set(0),
        });
        summary.households += 1;
        rows.consents.push(consent::ActiveModel {
            id: Set(g.id()),
            household_id: Set(hid),
            given_by: Set("Demo household head".into()),
            representative_for: Set(None),
            purpose: Set("CBSS family services, follow-up and programme monitoring".into()),
            legal_basis: Set("CONSENT".into()),
            given_on: Set(registered),
            withdrawn_on: Set(None),
            recorded_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            change_seq: Set(0),
        });
        let father_name = MALE[g.rng.usize(0..MALE.len())];
        let family = MALE[g.rng.usize(0..MALE.len())];
        let mother_birth = g.days_ago(19 * 365, 42 * 365);
        let mother_given = FEMALE[g.rng.usize(0..FEMALE.len())];
        let mother = g.person(&mut rows, hid, unit, mother_given, family, "FEMALE", mother_birth, "HEAD");
        made += 1;
        if g.rng.u8(0..10) < 8 {
            let birth = g.days_ago(21 * 365, 50 * 365);
            let paternal = MALE[g.rng.usize(0..MALE.len())];
            g.person(&mut rows, hid, unit, father_name, paternal, "MALE", birth, "SPOUSE");
            made += 1;
        }
        let children = g.rng.usize(1..=4);
        let mut youngest: Option<(Uuid, NaiveDate)> = None;
        for _ in 0..children {
            let birth = g.days_ago(0, 18 * 365);
            let male = g.rng.bool();
            let given = if male { MALE[g.rng.usize(0..MALE.len())] } else { FEMALE[g.rng.usize(0..FEMALE.len())] };
            let child = g.person(
                &mut rows,
                hid,
                unit,
                given,
                father_name,
                if male { "MALE" } else { "FEMALE" },
                birth,
                "CHILD",
            );
            g.child_services(&mut rows, child, unit, birth, male);
            if youngest.is_none_or(|(_, b)| birth > b) {
                youngest = Some((child, birth));
            }
            made += 1;
        }
        // The youngest child's birth, when recent, closes a recorded pregnancy.
        if let Some((child, birth)) = youngest.filter(|(_, b)| (today - *b).num_days() < 3 * 365) {
            let pid = g.id();
            let edd = birth + Days::new(g.rng.u64(0..14));
            let registered = edd - Days::new(g.rng.u64(150..240));
            let skilled = g.rng.u8(0..20) < 19;
            rows.pregnancies.push(pregnancy_row(pid, mother, unit, edd, registered, Some((birth, skilled)), now));
            rows.births.push(pregnancy_child::ActiveModel { pregnancy_id: Set(pid), child_id: Set(child) });
            for k in 0..g.rng.u64(2..=6) {
                let date = registered + Days::new(k * 35);
                if date < birth {
                    let rid = g.record(&mut rows, "ANC_CONTACT", Some(mother), None, unit, date);
                    link_pregnancy(&mut rows, rid, pid);
                }
            }
            if g.rng.u8(0..10) < 8 {
                let checked_on = birth + Days::new(g.rng.u64(0..3));
                g.record(&mut rows, "PNC_NEWBORN", Some(child), None, unit, checked_on);
            }
            // Seven mothers in ten checked within 3 days, chosen and dated from the pregnancy's id.
            let b = pid.as_bytes();
            if b[15] % 10 < 7 {
                let id = Uuid::new_v5(&pid, b"PNC_MOTHER");
                let checked_on = birth + Days::new(u64::from(b[14] % 3));
                g.record_as(&mut rows, id, "PNC_MOTHER", Some(mother), None, unit, checked_on);
            }
            summary.pregnancies += 1;
        } else if g.rng.u8(0..10) < 2 && (today - mother_birth).num_days() < 45 * 365 {
            // An open pregnancy: the PREGNANCY stage and antenatal care in progress.
            let pid = g.id();
            let registered = g.days_ago(10, 200);
            let edd = registered + Days::new(g.rng.u64(60..250));
            rows.pregnancies.push(pregnancy_row(pid, mother, unit, edd, registered, None, now));
            for k in 0..g.rng.u64(1..=4) {
                let date = registered + Days::new(k * 30);
                if date <= today {
                    let rid = g.record(&mut rows, "ANC_CONTACT", Some(mother), None, unit, date);
                    link_pregnancy(&mut rows, rid, pid);
                }
            }
            summary.pregnancies += 1;
        }
        if g.rng.u8(0..4) == 0 {
            let date = g.days_ago(0, 365);
            g.record(&mut rows, "HOUSEHOLD_WATER", None, Some(hid), unit, date);
        }
        if rows.people.len() >= CHUNK_PEOPLE {
            summary.people += rows.people.len();
            summary.service_records += rows.records.len();
            // Write this chunk on another pool connection while the next one is generated.
            if let Some(previous) = writing.take() {
                previous.await??;
            }
            let chunk = std::mem::replace(&mut rows, empty_rows());
            let db = db.clone();
            writing = Some(tokio::spawn(async move { flush(&db, chunk).await }));
        }
    }
    if let Some(previous) = writing.take() {
        previous.await??;
    }
    summary.people += rows.people.len();
    summary.service_records += rows.records.len();
    flush(db, rows).await?;
    (summary.family_assessments, summary.community_projects) = demo_family(db, ngo, &mut g.rng).await?;
    summary.referrals = demo_referrals(db, ngo).await?;
    summary.protection_cases = demo_cases(db).await?;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Fresh statistics (the planner otherwise guesses from an empty database) and a fresh
        // visibility map (index-only scans otherwise visit the table): coverage queries took
        // 2-3x longer before autovacuum caught up.
        db.execute_unprepared("VACUUM (ANALYZE)").await?;
    }
    Ok(summary)
}

fn link_pregnancy(rows: &mut Rows, record: Uuid, pregnancy: Uuid) {
    if let Some(r) = rows.records.iter_mut().rev().find(|r| r.id.as_ref() == &record) {
        r.pregnancy_id = Set(Some(pregnancy));
    }
}

fn pregnancy_row(
    id: Uuid,
    mother: Uuid,
    unit: Uuid,
    edd: NaiveDate,
    registered: NaiveDate,
    birth: Option<(NaiveDate, bool)>,
    now: chrono::DateTime<Utc>,
) -> pregnancy::ActiveModel {
    pregnancy::ActiveModel {
        id: Set(id),
        mother_id: Set(mother),
        org_unit_id: Set(unit),
        last_menstrual_period: Set(Some(edd - Days::new(280))),
        expected_delivery_date: Set(edd),
        registered_on: Set(registered),
        outcome: Set(birth.map(|_| "LIVE_BIRTH".into())),
        outcome_date: Set(birth.map(|(d, _)| d)),
        delivery_place: Set(birth.map(|(_, skilled)| if skilled { "FACILITY" } else { "HOME" }.into())),
        attendant: Set(birth.map(|(_, skilled)| if skilled { "NURSE_MIDWIFE" } else { "OTHER" }.into())),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        change_seq: Set(0),
    }
}

fn empty_rows() -> Rows {
    Rows {
        households: Vec::new(),
        consents: Vec::new(),
        people: Vec::new(),
        pregnancies: Vec::new(),
        births: Vec::new(),
        records: Vec::new(),
        growth: Vec::new(),
        immunisations: Vec::new(),
        enrolments: Vec::new(),
        hiv_knowledge: Vec::new(),
    }
}

/// Writes one chunk in foreign-key order, in one transaction.
async fn flush(db: &DatabaseConnection, rows: Rows) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    insert_all(&txn, rows.households).await?;
    insert_all(&txn, rows.consents).await?;
    insert_all(&txn, rows.people).await?;
    insert_all(&txn, rows.pregnancies).await?;
    insert_all(&txn, rows.births).await?;
    insert_all(&txn, rows.records).await?;
    insert_all(&txn, rows.growth).await?;
    insert_all(&txn, rows.immunisations).await?;
    insert_all(&txn, rows.enrolments).await?;
    insert_all(&txn, rows.hiv_knowledge).await?;
    txn.commit().await?;
    Ok(())
}
