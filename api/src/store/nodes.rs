//! Any record by its id alone, for Relay's `node` / `nodes` (clients refetching what they hold).
//! Each type is read by its own by-id read, so scope, de-identification and the audit of reads
//! are the ones `person(id)`, `household(id)`, … apply: nothing here decides access anew.

use super::Store;
use crate::access::Action;
use crate::error::{ApiResult, found};
use entity::{
    community_project, family_assessment, household, org_unit, person, pregnancy, protection_case, referral,
    service_record,
};
use uuid::Uuid;

/// A record found by `Store::node`.
pub enum NodeRow {
    OrgUnit(org_unit::Model),
    Person(person::Model),
    Household(household::Model),
    Pregnancy(pregnancy::Model),
    ServiceRecord(service_record::Model),
    FamilyAssessment(family_assessment::Model),
    CommunityProject(community_project::Model),
    Referral(referral::Model),
    ProtectionCase(protection_case::Model),
}

impl Store {
    /// The record with this id that the caller may see, tried type by type (org unit, person,
    /// household, pregnancy, service record, family assessment, community project, referral,
    /// protection case — the last for those who work cases only: ids are UUIDs,
    /// unique across tables unless a client reused one, when the first type in this order wins).
    /// Callers who see data de-identified resolve org units only: the ids they are shown are
    /// pseudonyms that no table holds, and a real id must not be probed through here.
    pub async fn node(&self, id: Uuid) -> ApiResult<Option<NodeRow>> {
        if let Some(unit) = self.org_unit(id).await? {
            return Ok(Some(NodeRow::OrgUnit(unit)));
        }
        if !self.identified() {
            return Ok(None);
        }
        if let Some(p) = found(self.read_person(id).await)? {
            return Ok(Some(NodeRow::Person(p)));
        }
        if let Some(h) = found(self.read_household(id).await)? {
            return Ok(Some(NodeRow::Household(h)));
        }
        if let Some(p) = found(self.pregnancy(id).await)? {
            return Ok(Some(NodeRow::Pregnancy(p)));
        }
        if let Some(r) = found(self.service_record(id).await)? {
            return Ok(Some(NodeRow::ServiceRecord(r)));
        }
        if let Some(a) = found(self.family_assessment(id).await)? {
            return Ok(Some(NodeRow::FamilyAssessment(a)));
        }
        if let Some(p) = found(self.community_project(id).await)? {
            return Ok(Some(NodeRow::CommunityProject(p)));
        }
        if let Some(r) = found(self.referral(id).await)? {
            return Ok(Some(NodeRow::Referral(r)));
        }
        if !self.principal().may(Action::ManageCases) {
            return Ok(None);
        }
        Ok(found(self.protection_case(id).await)?.map(NodeRow::ProtectionCase))
    }
}
