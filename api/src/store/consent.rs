//! Consent and other legal bases for processing a household's personal data. Writing personal
//! data of a household without one in force is refused with CONSENT_REQUIRED.

use super::{Store, today};
use crate::access::Action;
use crate::domain::validate::{self, Kind};
use crate::domain::vocab::LegalBasis;
use crate::error::{ApiError, ApiResult, Problems};
use async_graphql::InputObject;
use chrono::NaiveDate;
use entity::consent;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

/// A consent (or another legal basis) for a household's personal data.
#[derive(InputObject, Clone)]
#[graphql(name = "ConsentInput")]
pub struct NewConsent {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// The household it covers; left out when given with `createHousehold`.
    pub household_id: Option<Uuid>,
    /// Who gave it, as they stated their name, at most 200 characters.
    pub given_by: String,
    /// When a representative consents for one child: that child.
    pub representative_for: Option<Uuid>,
    /// What the data is processed for, at most 500 characters.
    pub purpose: String,
    /// The ground of the processing; default CONSENT.
    #[graphql(default_with = "LegalBasis::Consent")]
    pub legal_basis: LegalBasis,
    /// The day it was given: not in the future; defaults to today.
    pub given_on: Option<NaiveDate>,
}

impl NewConsent {
    /// The row for `household`, after validation.
    pub(crate) fn row(
        &self,
        household: Uuid,
        recorded_by: Option<Uuid>,
        path: &str,
    ) -> ApiResult<consent::ActiveModel> {
        let mut p = Problems::default();
        let given_by = validate::name(&mut p, &format!("{path}.givenBy"), &self.given_by, 200);
        let purpose = validate::text(&mut p, &format!("{path}.purpose"), &self.purpose, 500);
        let given_on = self.given_on.unwrap_or_else(today);
        validate::past_date(&mut p, &format!("{path}.givenOn"), given_on, today());
        p.into_result()?;
        let now = super::now();
        Ok(consent::ActiveModel {
            id: Set(self.id.unwrap_or_else(Uuid::now_v7)),
            household_id: Set(household),
            given_by: Set(given_by),
            representative_for: Set(self.representative_for),
            purpose: Set(purpose),
            legal_basis: Set(self.legal_basis.as_str().into()),
            given_on: Set(given_on),
            withdrawn_on: Set(None),
            recorded_by: Set(recorded_by),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            change_seq: Set(0),
        })
    }

    /// Whether `stored`, a consent of `household`, is this one as `row` records it (a retry).
    pub(crate) fn matches(&self, stored: &consent::Model, household: Uuid) -> bool {
        self.id.is_none_or(|id| id == stored.id)
            && self.household_id.unwrap_or(household) == stored.household_id
            && stored.household_id == household
            && validate::normalised(&self.given_by, Kind::Name) == stored.given_by
            && self.representative_for == stored.representative_for
            && validate::normalised(&self.purpose, Kind::Line) == stored.purpose
            && self.legal_basis.as_str() == stored.legal_basis
            && self.given_on.is_none_or(|d| d == stored.given_on)
    }
}

impl Store {
    /// Before writing a person's data: their household's lock and consent (`require_consent`);
    /// a person without a household has a lock of their own, so that two writes about them (two
    /// doses, two pregnancies) still take turns.
    pub(crate) async fn require_consent_of(&self, person: Uuid, household: Option<Uuid>) -> ApiResult<()> {
        match household {
            Some(h) => self.require_consent(self.db(), h).await,
            None => self.lock_records([person]).await,
        }
    }

    /// Refuses a write of a household's personal data when no consent or other basis is in force.
    pub(crate) async fn require_consent<C: ConnectionTrait>(&self, conn: &C, household: Uuid) -> ApiResult<()> {
        // Held until the write ends: a withdrawal waits for it, or it sees the withdrawal.
        self.lock_records([household]).await?;
        if self.cached(|c| c.consented.contains(&household)) == Some(true) {
            return Ok(());
        }
        let on = today();
        let valid = consent::Entity::find()
            .filter(consent::Column::HouseholdId.eq(household))
            .filter(consent::Column::GivenOn.lte(on))
            .filter(
                Condition::any().add(consent::Column::WithdrawnOn.is_null()).add(consent::Column::WithdrawnOn.gt(on)),
            )
            .one(conn)
            .await?;
        if valid.is_none() {
            return Err(ApiError::ConsentRequired);
        }
        self.cached(|c| c.consented.insert(household));
        Ok(())
    }

    pub async fn consents_of(&self, households: &[Uuid]) -> ApiResult<Vec<consent::Model>> {
        Ok(consent::Entity::find()
            .filter(consent::Column::HouseholdId.is_in(households.iter().copied()))
            .order_by_asc(consent::Column::GivenOn)
            .all(self.db())
            .await?)
    }

    pub async fn record_consent(&self, input: NewConsent) -> ApiResult<consent::Model> {
        self.authorize(Action::RegisterPeople)?;
        let household_id = input.household_id.ok_or_else(|| ApiError::invalid("input.householdId", "is required"))?;
        let household = self
            .household(household_id)
            .await
            .map_err(|_| ApiError::invalid("input.householdId", "unknown household"))?;
        self.check_capture(&self.known_unit(household.org_unit_id, "input.householdId").await?)?;
        if let Some(child) = input.representative_for {
            let member = self.person(child).await.ok().filter(|p| p.household_id == Some(household_id));
            if member.is_none() {
                return Err(ApiError::invalid("input.representativeFor", "is not a member of the household"));
            }
        }
        let mut row = input.row(household_id, self.principal().user_id, "input")?;
        if self.id_taken::<consent::Entity>("consent", *row.id.as_ref()).await? {
            return Err(ApiError::conflict("a consent with this id exists"));
        }
        self.write(move |txn, w| {
            Box::pin(async move {
                row.change_seq = Set(w.seq);
                let saved = row.insert(txn).await?;
                w.record("CREATE", "consent", saved.id, None, Some(&saved));
                Ok(saved)
            })
        })
        .await
    }

    pub async fn withdraw_consent(&self, id: Uuid, on: Option<NaiveDate>) -> ApiResult<consent::Model> {
        self.authorize(Action::RegisterPeople)?;
        let current = consent::Entity::find_by_id(id).one(self.db()).await?.ok_or(ApiError::not_found("consent"))?;
        let household = self.household(current.household_id).await.map_err(|_| ApiError::not_found("consent"))?;
        self.check_capture(&self.known_unit(household.org_unit_id, "id").await?)?;
        // A write of the household's data under way ends first (it checked the consent).
        self.lock_records([household.id]).await?;
        let current = consent::Entity::find_by_id(id).one(self.db()).await?.ok_or(ApiError::not_found("consent"))?;
        if current.withdrawn_on.is_some() {
            return Err(ApiError::conflict("the consent is already withdrawn"));
        }
        let on = on.unwrap_or_else(today);
        let mut p = Problems::default();
        validate::past_date(&mut p, "withdrawnOn", on, today());
        p.check(on >= current.given_on, "withdrawnOn", "must not be before the consent was given");
        p.into_result()?;
        let mut row: consent::ActiveModel = current.clone().into();
        row.withdrawn_on = Set(Some(on));
        row.version = Set(current.version + 1);
        row.updated_at = Set(super::now());
        let saved = self
            .write(move |txn, w| {
                Box::pin(async move {
                    row.change_seq = Set(w.seq);
                    let saved = row.update(txn).await?;
                    w.record("UPDATE", "consent", saved.id, Some(&current), Some(&saved));
                    Ok(saved)
                })
            })
            .await?;
        self.cached(|c| c.consented.remove(&saved.household_id));
        Ok(saved)
    }
}
