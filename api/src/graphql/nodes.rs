//! Relay's global object identification: the `Node` interface of the types clients refetch, and
//! `node(id)` / `nodes(ids)`. An id is the record's own UUID, the same every other field and
//! argument uses; `Store::node` reads it under the caller's scope and de-identification.

use super::cases::ProtectionCase;
use super::data;
use super::family::{CommunityProject, FamilyAssessment};
use super::org_units::OrgUnit;
use super::people::{Household, Person, Pregnancy};
use super::referrals::Referral;
use super::services::ServiceRecord;
use crate::error::ApiError;
use crate::store::NodeRow;
use async_graphql::{Context, ID, Interface, Object, Result};
use uuid::Uuid;

/// The most ids one `nodes` call takes.
pub const MAX_NODES: usize = 100;

/// A record that can be fetched again by its id alone, with `node(id:)`.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "The record's id: a UUID, the same that every argument naming this record takes (a pseudonym for callers who see data de-identified)."
))]
pub enum Node {
    OrgUnit(OrgUnit),
    Person(Person),
    Household(Household),
    Pregnancy(Pregnancy),
    ServiceRecord(ServiceRecord),
    FamilyAssessment(FamilyAssessment),
    CommunityProject(CommunityProject),
    Referral(Referral),
    ProtectionCase(ProtectionCase),
}

impl From<NodeRow> for Node {
    fn from(row: NodeRow) -> Self {
        match row {
            NodeRow::OrgUnit(m) => Self::OrgUnit(OrgUnit(m)),
            NodeRow::Person(m) => Self::Person(Person(m)),
            NodeRow::Household(m) => Self::Household(Household(m)),
            NodeRow::Pregnancy(m) => Self::Pregnancy(Pregnancy(m)),
            NodeRow::ServiceRecord(m) => Self::ServiceRecord(m.into()),
            NodeRow::FamilyAssessment(m) => Self::FamilyAssessment(FamilyAssessment(m)),
            NodeRow::CommunityProject(m) => Self::CommunityProject(CommunityProject(m)),
            NodeRow::Referral(m) => Self::Referral(Referral(m)),
            NodeRow::ProtectionCase(m) => Self::ProtectionCase(ProtectionCase(m)),
        }
    }
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The record with this id (an org unit, person, household, pregnancy, service record, family
    /// assessment, community project, referral or protection case), as the by-id field of its
    /// type would answer it (a case's read audited): null
    /// when unknown, not a UUID, or outside your view scope. Callers who see data de-identified
    /// (ANALYST, RESEARCHER) get org units only: the pseudonymous ids they are shown resolve to nothing.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record's id (a UUID).")] id: ID,
    ) -> Result<Option<Node>> {
        let store = &data(ctx)?.store;
        let Ok(id) = Uuid::parse_str(&id) else { return Ok(None) };
        Ok(store.node(id).await?.map(Node::from))
    }

    /// `node` for each id, in the order given (null where `node` would answer null); at most 100
    /// ids, more is VALIDATION.
    #[graphql(complexity = "ids.len() * child_complexity")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The records' ids (UUIDs), at most 100.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(ApiError::invalid("ids", format!("at most {MAX_NODES} ids")).into());
        }
        let store = &data(ctx)?.store;
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            found.push(match Uuid::parse_str(&id) {
                Ok(id) => store.node(id).await?.map(Node::from),
                Err(_) => None,
            });
        }
        Ok(found)
    }
}
