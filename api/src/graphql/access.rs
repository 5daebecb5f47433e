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

/// One of a user's scopes: a unit with its whole subtree.
#[derive(SimpleObject)]
pub struct UserScope {
    /// The unit; the scope covers its whole subtree.
    pub org_unit: OrgUnit,
    /// CAPTURE (where the user may write) or VIEW (where they may read).
    pub kind: ScopeKind,
}

/// A user of the service: who they are and what they may do. Every signed-in user reads their own
/// (`me`); administrators read all (`users`).
#[Object]
impl User {
    /// The user's id.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// The sign-in email, in lower case.
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// The name shown for the user.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// False: the user cannot sign in, and their sessions have ended.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// The partner organisation the user works for (PARTNER users); null otherwise.
    async fn partner_id(&self) -> Option<Uuid> {
        self.0.partner_id
    }
    /// The user's roles.
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

pub struct Session(StoreSession);

/// A new session: a short-lived access token and a refresh token that rotates on every use.
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
    /// The signed-in user.
    async fn user(&self) -> User {
        User(self.0.user.clone())
    }
}

pub struct Partner(pub partner::Model);

/// A partner organisation (NGO, government body or agency). Its staff (PARTNER users) read the
/// units it is assigned to and the community projects it funds or implements.
#[Object]
impl Partner {
    /// The organisation's id.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Its name (unique).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What kind of organisation it is.
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

/// A consent (or another legal basis) under which a household's personal data is recorded. Writing
/// personal data of a household (people, pregnancies, services, assessments) needs one in force.
#[Object]
impl Consent {
    /// The consent's id.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// The household it covers (a pseudonym for callers who see data de-identified).
    async fn household_id(&self) -> Result<Uuid> {
        Ok(self.0.household_id)
    }
    /// The row's version, raised by one on every change (a withdrawal).
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Who gave it, as they stated their name; null for callers who see data de-identified.
    async fn given_by(&self) -> Option<&str> {
        Some(self.0.given_by.as_str())
    }
    /// The child a representative consented for; null when it covers the household (or the child is
    /// outside your view scope).
    async fn representative_for(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let Some(p) = self.0.representative_for else { return Ok(None) };
        Ok(one(&data(ctx)?.loaders.person, p).await?.map(Person))
    }
    /// What the data is processed for, as stated.
    async fn purpose(&self) -> &str {
        &self.0.purpose
    }
    /// The ground of the processing.
    async fn legal_basis(&self) -> Result<LegalBasis> {
        Ok(LegalBasis::from_db(&self.0.legal_basis)?)
    }
    /// The day it was given (or the basis began): in force from that day.
    async fn given_on(&self) -> NaiveDate {
        self.0.given_on
    }
    /// The day it was withdrawn, from which it is no longer in force; null while it is.
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

/// One entry of the append-only audit log: a write (with the fields it changed), a read of an
/// identifiable person, a login. For administrators.
#[Object]
impl AuditEntry {
    /// The entry's id (time-ordered).
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// When it happened (UTC).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The user who acted; null for the service itself (command line, seeding) and failed logins.
    async fn user_id(&self) -> Option<Uuid> {
        self.0.user_id
    }
    /// The roles the user acted in, comma-separated.
    async fn roles(&self) -> Option<&str> {
        self.0.role.as_deref()
    }
    /// What was done: CREATE, UPDATE, READ, ERASE, TRANSITION, LINK_REACH, LOGIN, LOGIN_FAILED,
    /// LOGOUT, REFRESH_REUSED, PASSWORD_CHANGED, PASSWORD_RESET or RIGHTS.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// The kind of record, as its table is named: household, person, consent, service_record,
    /// user...
    async fn entity(&self) -> &str {
        &self.0.entity
    }
    /// The record's id (real, not a pseudonym); null when there is none (a failed login).
    async fn entity_id(&self) -> Option<Uuid> {
        self.0.entity_id
    }
    /// JSON: `{ field: [before, after] }` for the fields the write changed.
    async fn changes(&self) -> Option<&str> {
        self.0.changes.as_deref()
    }
    /// Free text: an erasure's reason, a transition's note, a sync item and its device time, a
    /// login's address...
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

    /// Every user, by email (ADMIN; others are FORBIDDEN).
    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        Ok(data(ctx)?.store.users().await?.into_iter().map(User).collect())
    }

    /// Partner organisations with their units, by name: every one for ADMIN, its own for a
    /// PARTNER's staff; FORBIDDEN to other roles.
    async fn partners(&self, ctx: &Context<'_>) -> Result<Vec<Partner>> {
        Ok(data(ctx)?.store.partners().await?.into_iter().map(Partner).collect())
    }

    /// The audit log, oldest first (ADMIN; others are FORBIDDEN).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which entries; default all.")] filter: Option<AuditFilter>,
        #[graphql(desc = "How many items to return: 0 to 100 (default 20); more is VALIDATION.")] first: Option<i32>,
        #[graphql(
            desc = "The `endCursor` of the previous page (or an edge's `cursor`); leave out for the first page."
        )]
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
    /// password; repeated failures answer TOO_MANY_ATTEMPTS with `extensions.retryAfter`. Needs
    /// no token.
    /// Errors: UNAUTHENTICATED (a deactivated user too), TOO_MANY_ATTEMPTS.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's email, in any case.")] email: String,
        #[graphql(desc = "The user's password.")] password: String,
    ) -> Result<Session> {
        let d = public(ctx);
        Ok(Session(d.store.login(&email, password, d.client_ip).await?))
    }

    /// Exchanges a refresh token for new tokens of the same session; the presented token dies,
    /// and presenting it again ends the session (its access tokens too). Needs no token.
    /// Errors: UNAUTHENTICATED (an unknown, expired (30 days), spent or revoked token, or a
    /// deactivated user).
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `refreshToken` of the session to renew.")] refresh_token: String,
    ) -> Result<Session> {
        Ok(Session(public(ctx).store.refresh(&refresh_token).await?))
    }

    /// Ends a session (one login): the session of `refreshToken`, or, when it is left out, the
    /// session of the access token sent. Its refresh tokens and its access tokens are refused
    /// from then on (UNAUTHENTICATED): at once on the server that answered, within 10 seconds on
    /// the others. The caller's other sessions (other devices) go on. Answers true.
    /// Errors: UNAUTHENTICATED, VALIDATION (`refreshToken` is not one of your sessions).
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The refresh token of the session to end; leave out to end the session of this access token."
        )]
        refresh_token: Option<String>,
    ) -> Result<bool> {
        Ok(data(ctx)?.store.logout(refresh_token).await?)
    }

    /// Changes the caller's password; every session ends, this one too (log in again). Answers
    /// true.
    /// Errors: UNAUTHENTICATED, VALIDATION (`newPassword` shorter than 12 or longer than 256
    /// characters, or `currentPassword` wrong).
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The caller's password now.")] current_password: String,
        #[graphql(desc = "The new password: 12 to 256 characters.")] new_password: String,
    ) -> Result<bool> {
        Ok(data(ctx)?.store.change_password(current_password, new_password).await?)
    }

    /// Creates a user with roles and scopes (ADMIN).
    /// Errors: FORBIDDEN, VALIDATION (a malformed email, a blank or over-long name, a password not
    /// of 12 to 256 characters, no role, a PARTNER without a partner, an unknown unit or partner),
    /// CONFLICT (the email is taken).
    async fn create_user(&self, ctx: &Context<'_>, #[graphql(desc = "The user.")] input: NewUser) -> Result<User> {
        Ok(User(data(ctx)?.store.create_user(input).await?))
    }

    /// Changes a user's roles, scopes, name or active flag (ADMIN); the user's sessions end when
    /// rights change (roles, scopes, or deactivation).
    /// Errors: FORBIDDEN, NOT_FOUND (unknown user), VALIDATION (a blank or over-long name, no role,
    /// an unknown unit).
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id and what to change; fields left out are kept.")] input: UserChanges,
    ) -> Result<User> {
        Ok(User(data(ctx)?.store.update_user(input).await?))
    }

    /// Sets a new password for a user (ADMIN); every session of theirs ends. Answers true.
    /// Errors: FORBIDDEN, VALIDATION (shorter than 12 or longer than 256 characters), NOT_FOUND
    /// (unknown user).
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id.")] user_id: Uuid,
        #[graphql(desc = "The new password: 12 to 256 characters.")] new_password: String,
    ) -> Result<bool> {
        Ok(data(ctx)?.store.reset_password(user_id, new_password).await?)
    }

    /// Creates a partner organisation and assigns it to units (ADMIN).
    /// Errors: FORBIDDEN, VALIDATION (a blank name or one over 200 characters, an unknown unit),
    /// CONFLICT (the name is taken).
    async fn create_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organisation's name, unique.")] name: String,
        #[graphql(desc = "What kind of organisation it is.")] kind: PartnerKind,
        #[graphql(desc = "The units (with their subtrees) it serves: its staff read there.")] unit_ids: Vec<Uuid>,
    ) -> Result<Partner> {
        Ok(Partner(data(ctx)?.store.create_partner(name, kind, unit_ids).await?))
    }

    /// Records consent (or another legal basis) for a household in your capture scope (ADMIN,
    /// FIELD_WORKER, PARTNER). Retry-safe with a client `id`: sent again with the same content it
    /// answers the stored record; with other content it is a CONFLICT that shows the stored one in
    /// `extensions.current`.
    /// Errors: VALIDATION (no or an unknown household, a representative for someone not in it, a
    /// field), FORBIDDEN (your role, or outside your capture scope), CONFLICT (the id is taken).
    async fn record_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The consent, with its `householdId`.")] input: NewConsent,
    ) -> Result<Consent> {
        super::mutation::created(ctx, input).await
    }

    /// Withdraws a consent of a household in your capture scope (ADMIN, FIELD_WORKER, PARTNER):
    /// from
    /// `withdrawnOn` on, the household's personal data cannot be written unless another consent is
    /// in force.
    /// Errors: NOT_FOUND (unknown, or its household outside your view scope), FORBIDDEN (your role,
    /// or outside your capture scope), CONFLICT (already withdrawn), VALIDATION (`withdrawnOn` in
    /// the future or before the consent was given).
    async fn withdraw_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The consent's id.")] id: Uuid,
        #[graphql(desc = "The first day it is no longer in force; default today.")] withdrawn_on: Option<NaiveDate>,
    ) -> Result<Consent> {
        Ok(Consent(data(ctx)?.store.atomic(|s| Box::pin(s.withdraw_consent(id, withdrawn_on))).await?))
    }

    /// Pseudonymises a person irreversibly, keeping their service records countable (ADMIN): names
    /// become `[erased]`, registry number, phone, disability and relation are removed, the birth
    /// date moves to the first of its month; devices get a tombstone in `changes`.
    /// Errors: FORBIDDEN, NOT_FOUND (unknown person), VALIDATION (a blank reason), CONFLICT (the
    /// person changed meanwhile).
    async fn erase_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's id.")] id: Uuid,
        #[graphql(desc = "Why (kept in the audit log), at most 500 characters.")] reason: String,
    ) -> Result<Person> {
        Ok(Person(data(ctx)?.store.atomic(|s| Box::pin(s.erase_person(id, reason))).await?))
    }
}
