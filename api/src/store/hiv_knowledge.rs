//! HIV knowledge assessments: MICS's five prompted questions asked of a person, recorded as
//! an HIV_KNOWLEDGE_ASSESSMENT service record with its answers.

use super::Store;
use super::services::NewServiceRecord;
use super::write::NewRow;
use crate::domain::hiv_knowledge::{self, Answers};
use crate::domain::vocab::{DetailKind, KnowledgeAnswer};
use crate::error::ApiResult;
use async_graphql::InputObject;
use chrono::NaiveDate;
use entity::{hiv_knowledge as row, service_record};
use sea_orm::{Set, TryIntoModel};
use uuid::Uuid;

/// The service type of the assessment.
pub const SERVICE_TYPE: &str = "HIV_KNOWLEDGE_ASSESSMENT";

/// An HIV knowledge assessment: the person's answer to each of MICS's five prompted questions.
#[derive(InputObject, Clone)]
#[graphql(name = "RecordHivKnowledgeInput")]
pub struct NewHivKnowledge {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// The person asked (HIV_KNOWLEDGE_ASSESSMENT is for 120-599 months).
    pub person_id: Uuid,
    /// The day of the assessment: not in the future.
    pub date: NaiveDate,
    /// Where it was delivered; defaults to the person's unit.
    pub org_unit_id: Option<Uuid>,
    /// Who asked (a facility or a worker), at most 200 characters.
    pub provider: Option<String>,
    /// A free-text note, at most 2,000 characters.
    pub note: Option<String>,
    /// Can people reduce their chance of getting HIV by having just one uninfected sex partner who
    /// has no other sex partners?
    pub one_faithful_partner: KnowledgeAnswer,
    /// Can people reduce their chance of getting HIV by using a condom every time they have sex?
    pub condom_every_time: KnowledgeAnswer,
    /// Is it possible for a healthy-looking person to have HIV?
    pub healthy_looking_person: KnowledgeAnswer,
    /// Can people get HIV from mosquito bites?
    pub mosquito_bites: KnowledgeAnswer,
    /// Can people get HIV by sharing food with a person who has HIV?
    pub sharing_food: KnowledgeAnswer,
}

impl NewHivKnowledge {
    /// Its service record, as `recordHivKnowledge` writes it (and sync compares it).
    pub(super) fn record(&self) -> NewServiceRecord {
        let s = self;
        NewServiceRecord::for_person(s.id, SERVICE_TYPE, s.person_id, s.date, s.org_unit_id, &s.provider, &s.note)
    }

    /// The answers in the order of `hiv_knowledge::QUESTIONS`.
    pub(super) fn answers(&self) -> Answers {
        [
            self.one_faithful_partner,
            self.condom_every_time,
            self.healthy_looking_person,
            self.mosquito_bites,
            self.sharing_food,
        ]
    }
}

/// A stored assessment's answers in the order of `hiv_knowledge::QUESTIONS`.
pub(super) fn stored_answers(r: &row::Model) -> ApiResult<Answers> {
    Ok([
        KnowledgeAnswer::from_db(&r.one_faithful_partner)?,
        KnowledgeAnswer::from_db(&r.condom_every_time)?,
        KnowledgeAnswer::from_db(&r.healthy_looking_person)?,
        KnowledgeAnswer::from_db(&r.mosquito_bites)?,
        KnowledgeAnswer::from_db(&r.sharing_food)?,
    ])
}

impl Store {
    /// Records an HIV knowledge assessment: its service record and answers, with whether they
    /// make comprehensive knowledge.
    pub async fn record_hiv_knowledge(&self, input: NewHivKnowledge) -> ApiResult<service_record::Model> {
        let answers = input.answers();
        let checked = self.check_record(input.record(), DetailKind::HivKnowledge).await?;
        let row = row::ActiveModel {
            service_record_id: Set(checked.id),
            person_id: Set(input.person_id),
            assessed_on: Set(input.date),
            one_faithful_partner: Set(input.one_faithful_partner.as_str().into()),
            condom_every_time: Set(input.condom_every_time.as_str().into()),
            healthy_looking_person: Set(input.healthy_looking_person.as_str().into()),
            mosquito_bites: Set(input.mosquito_bites.as_str().into()),
            sharing_food: Set(input.sharing_food.as_str().into()),
            comprehensive: Set(hiv_knowledge::comprehensive(&answers)),
        };
        let detail = serde_json::to_string(&row.clone().try_into_model()?).ok();
        self.insert_record(checked, vec![NewRow::HivKnowledge(row)], detail).await
    }
}
