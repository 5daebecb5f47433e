//! DataLoaders for every nested relation, made per request (they batch and cache within one
//! request, under that caller's scope). Each batches keys into one scoped store query.

use crate::error::ApiResult;
use crate::store::{ReferredSubject, Store};
use async_graphql::dataloader::{DataLoader, Loader};
use entity::{
    antigen, antigen_dose, assessment_action, assessment_answer, assessment_indicator, attendance, consent, enrolment,
    family_assessment, growth_measurement, hiv_knowledge, household, immunisation, milestone, milestone_check,
    org_unit, partner, person, pregnancy, project_budget_line, project_indicator, project_partner, project_reach,
    project_report, project_transition, protection_case, protection_case_action, protection_case_step, referral_step,
    service_record,
};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use uuid::Uuid;

type Fetch<V> =
    Arc<dyn Fn(Store, Vec<Uuid>) -> Pin<Box<dyn Future<Output = ApiResult<Vec<(Uuid, V)>>> + Send>> + Send + Sync>;

/// Loads the values of many keys in one store call, grouped by key.
pub struct Batch<V> {
    store: Store,
    fetch: Fetch<V>,
}

// The loader clones each value into its cache and into every answer: behind an Arc those
// clones are a count, not a copy of every row (~5% of the server CPU of a page of 50 people).
impl<V: Clone + Send + Sync + 'static> Loader<Uuid> for Batch<V> {
    type Value = Arc<Vec<V>>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Arc<Vec<V>>>, Self::Error> {
        let rows = (self.fetch)(self.store.clone(), keys.to_vec()).await?;
        let mut grouped: HashMap<Uuid, Vec<V>> = HashMap::new();
        for (k, v) in rows {
            grouped.entry(k).or_default().push(v);
        }
        Ok(grouped.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

fn loader<V, F, Fut>(store: &Store, f: F) -> DataLoader<Batch<V>>
where
    V: Clone + Send + Sync + 'static,
    F: Fn(Store, Vec<Uuid>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ApiResult<Vec<(Uuid, V)>>> + Send + 'static,
{
    let fetch: Fetch<V> = Arc::new(move |s, k| Box::pin(f(s, k)));
    DataLoader::new(Batch { store: store.clone(), fetch }, |work| tokio::spawn(crate::telemetry::carry(work)))
}

/// Keys rows by one of their columns.
fn by<M>(rows: Vec<M>, key: impl Fn(&M) -> Uuid) -> Vec<(Uuid, M)> {
    rows.into_iter().map(|m| (key(&m), m)).collect()
}

pub struct Loaders {
    pub org_unit: DataLoader<Batch<org_unit::Model>>,
    pub org_unit_children: DataLoader<Batch<org_unit::Model>>,
    pub household: DataLoader<Batch<household::Model>>,
    pub person: DataLoader<Batch<person::Model>>,
    pub members: DataLoader<Batch<person::Model>>,
    pub pregnancy: DataLoader<Batch<pregnancy::Model>>,
    pub pregnancies_of_mother: DataLoader<Batch<pregnancy::Model>>,
    pub children_of_pregnancy: DataLoader<Batch<Uuid>>,
    pub records_of_person: DataLoader<Batch<service_record::Model>>,
    pub records_of_household: DataLoader<Batch<service_record::Model>>,
    pub record: DataLoader<Batch<service_record::Model>>,
    pub growth_of_person: DataLoader<Batch<growth_measurement::Model>>,
    pub growth_of_record: DataLoader<Batch<growth_measurement::Model>>,
    pub immunisations_of_person: DataLoader<Batch<immunisation::Model>>,
    pub immunisation_of_record: DataLoader<Batch<immunisation::Model>>,
    pub enrolment_of_record: DataLoader<Batch<enrolment::Model>>,
    pub hiv_knowledge_of_record: DataLoader<Batch<hiv_knowledge::Model>>,
    pub attendance_of_record: DataLoader<Batch<attendance::Model>>,
    pub attendance_of_enrolment: DataLoader<Batch<attendance::Model>>,
    pub antigen: DataLoader<Batch<antigen::Model>>,
    pub consents_of_household: DataLoader<Batch<consent::Model>>,
    pub doses_of_antigen: DataLoader<Batch<antigen_dose::Model>>,
    pub milestone: DataLoader<Batch<milestone::Model>>,
    pub milestone_checks_of_person: DataLoader<Batch<milestone_check::Model>>,
    pub milestone_checks_of_record: DataLoader<Batch<milestone_check::Model>>,
    pub assessments_of_household: DataLoader<Batch<family_assessment::Model>>,
    pub open_actions_of_household: DataLoader<Batch<assessment_action::Model>>,
    pub answers_of_assessment: DataLoader<Batch<assessment_answer::Model>>,
    pub actions_of_assessment: DataLoader<Batch<assessment_action::Model>>,
    pub assessment_indicator: DataLoader<Batch<assessment_indicator::Model>>,
    pub indicators_of_project: DataLoader<Batch<project_indicator::Model>>,
    pub budget_of_project: DataLoader<Batch<project_budget_line::Model>>,
    pub partners_of_project: DataLoader<Batch<(project_partner::Model, partner::Model)>>,
    pub transitions_of_project: DataLoader<Batch<project_transition::Model>>,
    pub steps_of_referral: DataLoader<Batch<referral_step::Model>>,
    /// A referral's subject as the caller may see it (`Store::referral_subjects`), by referral.
    pub subject_of_referral: DataLoader<Batch<ReferredSubject>>,
    pub partner: DataLoader<Batch<partner::Model>>,
    /// A case's child, by case (`Store::case_children`).
    pub child_of_case: DataLoader<Batch<ReferredSubject>>,
    pub cases_of_person: DataLoader<Batch<protection_case::Model>>,
    pub actions_of_case: DataLoader<Batch<protection_case_action::Model>>,
    pub steps_of_case: DataLoader<Batch<protection_case_step::Model>>,
    pub reports_of_project: DataLoader<Batch<project_report::Model>>,
    pub reach_of_project: DataLoader<Batch<project_reach::Model>>,
}

impl Loaders {
    pub fn new(store: &Store) -> Self {
        Self {
            org_unit: loader(store, |s, k| async move { Ok(by(s.org_units_by_ids(&k).await?, |m| m.id)) }),
            org_unit_children: loader(store, |s, k| async move {
                Ok(s.org_unit_children(&k).await?.into_iter().filter_map(|m| Some((m.parent_id?, m))).collect())
            }),
            household: loader(store, |s, k| async move {
                Ok(by(s.visible_where_in::<household::Entity>(household::Column::Id, &k).await?, |m| m.id))
            }),
            person: loader(store, |s, k| async move {
                Ok(by(s.visible_where_in::<person::Entity>(person::Column::Id, &k).await?, |m| m.id))
            }),
            members: loader(store, |s, k| async move {
                let rows = s.visible_where_in::<person::Entity>(person::Column::HouseholdId, &k).await?;
                Ok(rows.into_iter().filter_map(|m| Some((m.household_id?, m))).collect())
            }),
            pregnancy: loader(store, |s, k| async move {
                Ok(by(s.visible_where_in::<pregnancy::Entity>(pregnancy::Column::Id, &k).await?, |m| m.id))
            }),
            pregnancies_of_mother: loader(store, |s, k| async move {
                Ok(by(s.visible_where_in::<pregnancy::Entity>(pregnancy::Column::MotherId, &k).await?, |m| m.mother_id))
            }),
            children_of_pregnancy: loader(store, |s, k| async move {
                Ok(s.children_of_pregnancies(&k).await?.into_iter().map(|l| (l.pregnancy_id, l.child_id)).collect())
            }),
            records_of_person: loader(store, |s, k| async move {
                let rows = s.service_records_of(service_record::Column::PersonId, &k).await?;
                Ok(rows.into_iter().filter_map(|m| Some((m.person_id?, m))).collect())
            }),
            records_of_household: loader(store, |s, k| async move {
                let rows = s.service_records_of(service_record::Column::HouseholdId, &k).await?;
                Ok(rows.into_iter().filter_map(|m| Some((m.household_id?, m))).collect())
            }),
            record: loader(store, |s, k| async move {
                Ok(by(s.visible_where_in::<service_record::Entity>(service_record::Column::Id, &k).await?, |m| m.id))
            }),
            growth_of_person: loader(store, |s, k| async move {
                let rows =
                    s.visible_where_in::<growth_measurement::Entity>(growth_measurement::Column::PersonId, &k).await?;
                Ok(by(rows, |m| m.person_id))
            }),
            growth_of_record: loader(store, |s, k| async move {
                let rows = s
                    .visible_where_in::<growth_measurement::Entity>(growth_measurement::Column::ServiceRecordId, &k)
                    .await?;
                Ok(by(rows, |m| m.service_record_id))
            }),
            immunisations_of_person: loader(store, |s, k| async move {
                let rows = s.visible_where_in::<immunisation::Entity>(immunisation::Column::PersonId, &k).await?;
                Ok(by(rows, |m| m.person_id))
            }),
            immunisation_of_record: loader(store, |s, k| async move {
                let rows =
                    s.visible_where_in::<immunisation::Entity>(immunisation::Column::ServiceRecordId, &k).await?;
                Ok(by(rows, |m| m.service_record_id))
            }),
            enrolment_of_record: loader(store, |s, k| async move {
                let rows = s.visible_where_in::<enrolment::Entity>(enrolment::Column::ServiceRecordId, &k).await?;
                Ok(by(rows, |m| m.service_record_id))
            }),
            hiv_knowledge_of_record: loader(store, |s, k| async move {
                let rows =
                    s.visible_where_in::<hiv_knowledge::Entity>(hiv_knowledge::Column::ServiceRecordId, &k).await?;
                Ok(by(rows, |m| m.service_record_id))
            }),
            attendance_of_record: loader(store, |s, k| async move {
                let rows = s.visible_where_in::<attendance::Entity>(attendance::Column::ServiceRecordId, &k).await?;
                Ok(by(rows, |m| m.service_record_id))
            }),
            attendance_of_enrolment: loader(store, |s, k| async move {
                let mut rows = s.visible_where_in::<attendance::Entity>(attendance::Column::EnrolmentId, &k).await?;
                rows.sort_by_key(|a| a.period_start);
                Ok(by(rows, |m| m.enrolment_id))
            }),
            antigen: loader(store, |s, k| async move { Ok(by(s.antigens_by_ids(&k).await?, |m| m.id)) }),
            consents_of_household: loader(
                store,
                |s, k| async move { Ok(by(s.consents_of(&k).await?, |m| m.household_id)) },
            ),
            doses_of_antigen: loader(
                store,
                |s, k| async move { Ok(by(s.doses_of_antigens(&k).await?, |m| m.antigen_id)) },
            ),
            milestone: loader(store, |s, k| async move { Ok(by(s.milestones_by_ids(&k).await?, |m| m.id)) }),
            milestone_checks_of_person: loader(store, |s, k| async move {
                let rows = s.visible_where_in::<milestone_check::Entity>(milestone_check::Column::PersonId, &k).await?;
                Ok(by(rows, |m| m.person_id))
            }),
            milestone_checks_of_record: loader(store, |s, k| async move {
                let rows =
                    s.visible_where_in::<milestone_check::Entity>(milestone_check::Column::ServiceRecordId, &k).await?;
                Ok(by(rows, |m| m.service_record_id))
            }),
            assessments_of_household: loader(store, |s, k| async move {
                Ok(by(s.assessments_of(&k).await?, |m| m.household_id))
            }),
            open_actions_of_household: loader(store, |s, k| async move {
                Ok(by(s.open_actions_of(&k).await?, |m| m.household_id))
            }),
            answers_of_assessment: loader(
                store,
                |s, k| async move { Ok(by(s.answers_of(&k).await?, |m| m.assessment_id)) },
            ),
            actions_of_assessment: loader(
                store,
                |s, k| async move { Ok(by(s.actions_of(&k).await?, |m| m.assessment_id)) },
            ),
            assessment_indicator: loader(store, |s, k| async move { Ok(by(s.indicators_by_ids(&k).await?, |m| m.id)) }),
            indicators_of_project: loader(store, |s, k| async move {
                Ok(by(s.project_indicators(&k).await?, |m| m.project_id))
            }),
            budget_of_project: loader(
                store,
                |s, k| async move { Ok(by(s.project_budget(&k).await?, |m| m.project_id)) },
            ),
            partners_of_project: loader(store, |s, k| async move {
                Ok(by(s.project_partners(&k).await?, |(l, _)| l.project_id))
            }),
            transitions_of_project: loader(store, |s, k| async move {
                Ok(by(s.project_transitions(&k).await?, |m| m.project_id))
            }),
            steps_of_referral: loader(
                store,
                |s, k| async move { Ok(by(s.referral_steps(&k).await?, |m| m.referral_id)) },
            ),
            subject_of_referral: loader(store, |s, k| async move { s.referral_subjects(&k).await }),
            partner: loader(store, |s, k| async move { Ok(by(s.partners_by_ids(&k).await?, |m| m.id)) }),
            child_of_case: loader(store, |s, k| async move { s.case_children(&k).await }),
            cases_of_person: loader(store, |s, k| async move { Ok(by(s.cases_of_people(&k).await?, |m| m.person_id)) }),
            actions_of_case: loader(store, |s, k| async move { Ok(by(s.case_actions(&k).await?, |m| m.case_id)) }),
            steps_of_case: loader(store, |s, k| async move { Ok(by(s.case_steps(&k).await?, |m| m.case_id)) }),
            reports_of_project: loader(
                store,
                |s, k| async move { Ok(by(s.project_reports(&k).await?, |m| m.project_id)) },
            ),
            reach_of_project: loader(store, |s, k| async move { Ok(by(s.project_reach(&k).await?, |m| m.project_id)) }),
        }
    }
}

/// The one value of `key`, if the loader found it.
pub async fn one<V: Clone + Send + Sync + 'static>(
    l: &DataLoader<Batch<V>>,
    key: Uuid,
) -> async_graphql::Result<Option<V>> {
    Ok(l.load_one(key).await?.and_then(|v| v.last().cloned()))
}

/// The one value of each of `keys` the loader found, in the order of `keys` (those it did not
/// find, e.g. out of the caller's scope, are left out).
pub async fn ones<V: Clone + Send + Sync + 'static>(
    l: &DataLoader<Batch<V>>,
    keys: &[Uuid],
) -> async_graphql::Result<Vec<V>> {
    let found = l.load_many(keys.iter().copied()).await?;
    Ok(keys.iter().filter_map(|k| found.get(k)?.last().cloned()).collect())
}

/// All values of `key` (empty when none).
pub async fn many<V: Clone + Send + Sync + 'static>(
    l: &DataLoader<Batch<V>>,
    key: Uuid,
) -> async_graphql::Result<Vec<V>> {
    Ok(l.load_one(key).await?.map(|v| v.as_ref().clone()).unwrap_or_default())
}
