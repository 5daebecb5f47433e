//! GraphQL of access control: sessions (login, refresh, logout, passwords), users, partners,
//! consent, erasure and the audit log. Rules live in the store; this only maps.

use super::loaders::one;
use super::org_units::OrgUnit;
use super::people::Person;
use super::{data, public};
use crate::domain::vocab::{LegalBasis, PartnerKind, Role, ScopeKind};
use crate::error::ApiError;
use crate::store::{AuditFilter, NewConsent, NewUser, Session as StoreSession, UserChanges};
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{app_user, audit_log, consent, partner};
use uuid::Uuid;

pub struct User(pub app_user::Model);

#[derive(SimpleObject)]
pub struct UserScope {
    pub org_unit: OrgUnit,
    pub kind: ScopeKind,
}

#[Object]
impl User {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn partner_id(&self) -> Option<Uuid> {
        self.0.partner_id
    }
    async fn roles(&self, ctx: &Context<'_>) -> Result<Vec<Role>> {
        let rows = public(ctx).store.roles_of(&[self.0.id]).await?;
        Ok(rows.iter().map(|r| Role::from_db(&r.role)).collect::<Result<_, ApiError>>()?)
    }
    /// The units (with their subtrees) where the user may write (CAPTURE) or read (VIEW).
    async fn scopes(&self, ctx: &Context<'_>) -> Result<Vec<UserScope>> {
        let d = public(ctx);
        let rows = d.store.scopes_of(&[self.0.id]).await?;
        let mut out = Vec::new();
        for s in rows {
            if let Some(u) = one(&d.loaders.org_unit, s.org_unit_id).await? {
                out.push(UserScope { org_unit: OrgUnit(u), kind: ScopeKind::from_db(&s.kind)? });
            }
        }
        Ok(out)
    }
}

/// A new session: a short-lived access token and a refresh token that rotates on every use.
pub struct Session(StoreSession);

#[Object]
impl Session {
    /// Send as `Authorization: Bearer <accessToken>`.
    async fn access_token(&self) -> &str {
        &self.0.access_token
    }
    /// Exchange with `refreshToken` for a new session; it works once.
    async fn refresh_token(&self) -> &str {
        &self.0.refresh_token
    }
    /// Seconds until the access token expires.
    async fn expires_in(&self) -> i64 {
        self.0.expires_in
    }
    async fn user(&self) -> User {
        User(self.0.user.clone())
    }
}

pub struct Partner(pub partner::Model);

#[Object]
impl Partner {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> Result<PartnerKind> {
        Ok(PartnerKind::from_db(&self.0.kind)?)
    }
    /// The units (with their subtrees) the partner serves.
    async fn units(&self, ctx: &Context<'_>) -> Result<Vec<OrgUnit>> {
        let d = data(ctx)?;
        let ids: Vec<Uuid> = d.store.partner_units(&[self.0.id]).await?.into_iter().map(|a| a.org_unit_id).collect();
        Ok(d.store.org_units_by_ids(&ids).await?.into_iter().map(OrgUnit).collect())
    }
}

pub struct Consent(pub consent::Model);

#[Object]
impl Consent {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// The household it covers (a pseudonym for callers who see data de-identified).
    async fn household_id(&self, ctx: &Context<'_>) -> Result<Uuid> {
        super::shown_id(ctx, self.0.household_id)
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Null for callers who see data de-identified.
    async fn given_by(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(data(ctx)?.store.identified().then_some(self.0.given_by.as_str()))
    }
    async fn representative_for(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let Some(p) = self.0.representative_for else { return Ok(None) };
        Ok(one(&data(ctx)?.loaders.person, p).await?.map(Person))
    }
    async fn purpose(&self) -> &str {
        &self.0.purpose
    }
    async fn legal_basis(&self) -> Result<LegalBasis> {
        Ok(LegalBasis::from_db(&self.0.legal_basis)?)
    }
    async fn given_on(&self) -> NaiveDate {
        self.0.given_on
    }
    async fn withdrawn_on(&self) -> Option<NaiveDate> {
        self.0.withdrawn_on
    }
    /// In force today.
    async fn valid(&self) -> bool {
        let today = crate::store::today();
        self.0.given_on <= today && self.0.withdrawn_on.is_none_or(|w| w > today)
    }
}

pub struct AuditEntry(pub audit_log::Model);

#[Object]
impl AuditEntry {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    async fn user_id(&self) -> Option<Uuid> {
        self.0.user_id
    }
    /// The roles the user acted in, comma-separated.
    async fn roles(&self) -> Option<&str> {
        self.0.role.as_deref()
    }
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn entity(&self) -> &str {
        &self.0.entity
    }
    async fn entity_id(&self) -> Option<Uuid> {
        self.0.entity_id
    }
    /// JSON: `{ field: [before, after] }` for the fields the write changed.
    async fn changes(&self) -> Option<&str> {
        self.0.changes.as_deref()
    }
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
}

#[derive(Default)]
pub struct AccessQuery;

#[Object]
impl AccessQuery {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        Ok(User(data(ctx)?.store.me().await?))
    }

    /// Every user (ADMIN).
    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        Ok(data(ctx)?.store.users().await?.into_iter().map(User).collect())
    }

    async fn partners(&self, ctx: &Context<'_>) -> Result<Vec<Partner>> {
        Ok(data(ctx)?.store.partners().await?.into_iter().map(Partner).collect())
    }

    /// The audit log, oldest first (ADMIN).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<super::connection::Conn<AuditEntry>> {
        let store = &data(ctx)?.store;
        let req = store.page_request(first, after)?;
        let page = store.audit_log(filter.unwrap_or_default(), &req).await?;
        Ok(super::connection::connection(store, page, |m| m.id, AuditEntry))
    }
}

#[derive(Default)]
pub struct AccessMutation;

#[Object]
impl AccessMutation {
    /// Opens a session. Answers UNAUTHENTICATED alike for an unknown email and a wrong
    /// password; repeated failures answer TOO_MANY_ATTEMPTS with `extensions.retryAfter`.
    async fn login(&self, ctx: &Context<'_>, email: String, password: String) -> Result<Session> {
        let d = public(ctx);
        Ok(Session(d.store.login(&email, password, d.client_ip, &d.throttle).await?))
    }

    /// Exchanges a refresh token for a new session; the presented token dies, and presenting
    /// it again ends every session of that login.
    async fn refresh_token(&self, ctx: &Context<'_>, refresh_token: String) -> Result<Session> {
        Ok(Session(public(ctx).store.refresh(&refresh_token).await?))
    }

    /// Ends the session of `refreshToken`, or all of the caller's sessions when it is left out.
    async fn logout(&self, ctx: &Context<'_>, refresh_token: Option<String>) -> Result<bool> {
        Ok(data(ctx)?.store.logout(refresh_token).await?)
    }

    /// Changes the caller's password; every session ends (log in again).
    async fn change_password(&self, ctx: &Context<'_>, current_password: String, new_password: String) -> Result<bool> {
        Ok(data(ctx)?.store.change_password(current_password, new_password).await?)
    }

    async fn create_user(&self, ctx: &Context<'_>, input: NewUser) -> Result<User> {
        Ok(User(data(ctx)?.store.create_user(input).await?))
    }

    /// Roles, scopes, name or active flag; the user's sessions end when rights change.
    async fn update_user(&self, ctx: &Context<'_>, input: UserChanges) -> Result<User> {
        Ok(User(data(ctx)?.store.update_user(input).await?))
    }

    async fn reset_password(&self, ctx: &Context<'_>, user_id: Uuid, new_password: String) -> Result<bool> {
        Ok(data(ctx)?.store.reset_password(user_id, new_password).await?)
    }

    async fn create_partner(
        &self,
        ctx: &Context<'_>,
        name: String,
        kind: PartnerKind,
        unit_ids: Vec<Uuid>,
    ) -> Result<Partner> {
        Ok(Partner(data(ctx)?.store.create_partner(name, kind, unit_ids).await?))
    }

    /// Records consent (or another legal basis) for a household.
    async fn record_consent(&self, ctx: &Context<'_>, input: NewConsent) -> Result<Consent> {
        Ok(Consent(data(ctx)?.store.record_consent(input).await?))
    }

    async fn withdraw_consent(&self, ctx: &Context<'_>, id: Uuid, withdrawn_on: Option<NaiveDate>) -> Result<Consent> {
        Ok(Consent(data(ctx)?.store.withdraw_consent(id, withdrawn_on).await?))
    }

    /// Pseudonymises a person irreversibly, keeping their service records countable (ADMIN).
    async fn erase_person(&self, ctx: &Context<'_>, id: Uuid, reason: String) -> Result<Person> {
        Ok(Person(data(ctx)?.store.erase_person(id, reason).await?))
    }
}
