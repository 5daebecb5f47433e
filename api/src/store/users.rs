//! Users, partners and sessions: login with throttling, refresh-token rotation with reuse
//! detection, logout, password changes, and the administration of users' roles and scopes.

use super::Store;
use crate::access::{Action, Principal};
use crate::auth::throttle;
use crate::auth::{password, tokens};
use crate::domain::validate;
use crate::domain::vocab::{PartnerKind, Role, ScopeKind};
use crate::error::{ApiError, ApiResult, Problems, Unique};
use async_graphql::InputObject;
use chrono::{Duration, Utc};
use entity::{app_user, partner, partner_assignment, refresh_token, user_role, user_scope, user_session};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use std::net::IpAddr;
use uuid::Uuid;

pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub user: app_user::Model,
}

/// A new user.
#[derive(InputObject)]
#[graphql(name = "CreateUserInput")]
pub struct NewUser {
    /// The sign-in email (unique, kept in lower case).
    pub email: String,
    /// The name shown for the user, at most 200 characters.
    pub display_name: String,
    /// The first password: 12 to 256 characters.
    pub password: String,
    /// At least one role.
    pub roles: Vec<Role>,
    /// Units (with their subtrees) where the user may write.
    #[graphql(default)]
    pub capture_unit_ids: Vec<Uuid>,
    /// Units (with their subtrees) where the user may read, besides the capture units.
    #[graphql(default)]
    pub view_unit_ids: Vec<Uuid>,
    /// The partner organisation a PARTNER user works for.
    pub partner_id: Option<Uuid>,
}

/// Changes to a user: fields left out are kept; a list given replaces the stored one.
#[derive(InputObject)]
#[graphql(name = "UpdateUserInput")]
pub struct UserChanges {
    /// The user's id.
    pub id: Uuid,
    /// The name shown for the user.
    pub display_name: Option<String>,
    /// The roles, at least one (ends the user's sessions).
    pub roles: Option<Vec<Role>>,
    /// Units (with their subtrees) where the user may write (ends the user's sessions).
    pub capture_unit_ids: Option<Vec<Uuid>>,
    /// Units (with their subtrees) where the user may read (ends the user's sessions).
    pub view_unit_ids: Option<Vec<Uuid>>,
    /// False deactivates the user (ends their sessions); true lets them sign in again.
    pub active: Option<bool>,
}

pub fn normalise_email(email: &str) -> String {
    validate::normalised(email, validate::Kind::Line).to_lowercase()
}

impl Store {
    /// What another user may do (None for an unknown or inactive user): to check that a user
    /// named by a write holds the role and scope the write needs.
    pub(crate) async fn principal_of_user(&self, id: Uuid) -> ApiResult<Option<Principal>> {
        match app_user::Entity::find_by_id(id).one(self.db()).await? {
            Some(user) if user.active => Ok(Some(crate::auth::caller::principal_of(self.db(), &user).await?)),
            _ => Ok(None),
        }
    }

    /// Opens a session. Unknown email and wrong password answer alike and take as long.
    pub async fn login(&self, email: &str, pw: String, ip: Option<IpAddr>) -> ApiResult<Session> {
        let email = normalise_email(email);
        let mut p = Problems::default();
        validate::clean(&mut p, "email", &email, validate::Kind::Line);
        p.into_result()?;
        if let Some(wait) = throttle::retry_after(self.db(), &email, ip, Utc::now()).await? {
            tracing::warn!(account = %self.keys.account_tag(&email), ?ip, "login throttled");
            metrics::counter!("cbss_logins_total", "outcome" => "throttled").increment(1);
            return Err(ApiError::TooManyAttempts { retry_after_secs: Ord::max(wait.as_secs(), 1) });
        }
        let user = app_user::Entity::find().filter(app_user::Column::Email.eq(&email)).one(self.db()).await?;
        let ok = password::verify(pw, user.as_ref().map(|u| u.password_hash.clone())).await;
        let audit = self.auditor();
        match user.filter(|u| ok && u.active) {
            Some(user) => {
                tracing::info!(user = %user.id, ?ip, "login");
                metrics::counter!("cbss_logins_total", "outcome" => "success").increment(1);
                {
                    let _turn = self.write_turn().await;
                    throttle::succeeded(self.db(), &email, ip).await?;
                    audit.note(self.db(), "LOGIN", "user", Some(user.id), None, ip.map(|i| i.to_string())).await?;
                }
                self.open_session(user).await
            }
            None => {
                tracing::warn!(account = %self.keys.account_tag(&email), ?ip, "login failed");
                metrics::counter!("cbss_logins_total", "outcome" => "failure").increment(1);
                let _turn = self.write_turn().await;
                throttle::failed(self.db(), &email, ip, Utc::now()).await?;
                audit.note(self.db(), "LOGIN_FAILED", "user", None, None, Some(format!("{email} from {ip:?}"))).await?;
                Err(ApiError::Unauthenticated)
            }
        }
    }

    /// Opens a new session (a login): its row, its first refresh token, its first access token.
    async fn open_session(&self, user: app_user::Model) -> ApiResult<Session> {
        let (now, id) = (Utc::now(), Uuid::now_v7());
        let session = user_session::ActiveModel {
            id: Set(id),
            user_id: Set(user.id),
            started_at: Set(now),
            renewed_at: Set(now),
            ended_at: Set(None),
            last_write_lsn: Set(None),
        };
        let (tokens, row) = self.tokens_of(&user, id, now)?;
        let _turn = self.write_turn().await;
        self.db()
            .transaction::<_, (), ApiError>(|txn| {
                Box::pin(async move {
                    session.insert(txn).await?;
                    row.insert(txn).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(tokens.into_session(user))
    }

    /// A session's next pair of tokens, and the row of the refresh token to store.
    fn tokens_of(
        &self,
        user: &app_user::Model,
        session: Uuid,
        now: chrono::DateTime<Utc>,
    ) -> ApiResult<(Issued, refresh_token::ActiveModel)> {
        let access = tokens::issue_access(self.keys(), user.id, user.token_version, session, now.timestamp())?;
        let (refresh, hash) = tokens::new_refresh_token();
        let row = refresh_token::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user.id),
            family_id: Set(session),
            token_hash: Set(hash),
            issued_at: Set(now),
            expires_at: Set(now + Duration::days(tokens::REFRESH_TTL_DAYS)),
            used_at: Set(None),
            revoked_at: Set(None),
        };
        Ok((Issued { access, refresh }, row))
    }

    /// Rotates a refresh token: the presented one dies; presenting a spent one again ends its
    /// session (it was stolen, or the client is confused: either way, log in again).
    pub async fn refresh(&self, token: &str) -> ApiResult<Session> {
        let hash = tokens::hash_refresh_token(token);
        let now = Utc::now();
        let found =
            refresh_token::Entity::find().filter(refresh_token::Column::TokenHash.eq(hash)).one(self.db()).await?;
        let Some(row) = found else { return Err(ApiError::Unauthenticated) };
        if row.used_at.is_some() || row.revoked_at.is_some() {
            tracing::warn!(user = %row.user_id, family = %row.family_id, "refresh token reused: ending its session");
            let audit = self.auditor();
            let _turn = self.write_turn().await;
            self.db()
                .transaction::<_, (), ApiError>(|txn| {
                    Box::pin(async move {
                        end_session(txn, row.family_id).await?;
                        audit.note(txn, "REFRESH_REUSED", "user", Some(row.user_id), None, None).await
                    })
                })
                .await?;
            self.forget_session(row.family_id).await;
            return Err(ApiError::Unauthenticated);
        }
        if row.expires_at <= now {
            return Err(ApiError::Unauthenticated);
        }
        let user = app_user::Entity::find_by_id(row.user_id).one(self.db()).await?.filter(|u| u.active);
        let Some(user) = user else { return Err(ApiError::Unauthenticated) };
        let (tokens, next) = self.tokens_of(&user, row.family_id, now)?;
        let _turn = self.write_turn().await;
        let renewed = self
            .db()
            .transaction::<_, bool, ApiError>(|txn| {
                Box::pin(async move {
                    // The session's row first: it orders a renewal and the session's end (logout,
                    // a password change) on PostgreSQL, so no token is issued into an ended one.
                    let live = user_session::Entity::update_many()
                        .col_expr(user_session::Column::RenewedAt, Expr::value(now))
                        .filter(user_session::Column::Id.eq(row.family_id))
                        .filter(user_session::Column::UserId.eq(row.user_id))
                        .filter(user_session::Column::EndedAt.is_null())
                        .exec(txn)
                        .await?;
                    if live.rows_affected == 0 {
                        return Ok(false);
                    }
                    // Spend it only if nobody spent it in between (two concurrent refreshes: the
                    // loser ends the session).
                    let spent = refresh_token::Entity::update_many()
                        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
                        .filter(refresh_token::Column::Id.eq(row.id))
                        .filter(refresh_token::Column::UsedAt.is_null())
                        .filter(refresh_token::Column::RevokedAt.is_null())
                        .exec(txn)
                        .await?;
                    if spent.rows_affected == 0 {
                        end_session(txn, row.family_id).await?;
                        return Ok(false);
                    }
                    next.insert(txn).await?;
                    Ok(true)
                })
            })
            .await?;
        if !renewed {
            self.forget_session(row.family_id).await;
            return Err(ApiError::Unauthenticated);
        }
        Ok(tokens.into_session(user))
    }

    /// Ends the session of `refresh`, or, without one, the session of the caller's access token:
    /// its refresh tokens and access tokens are refused from then on.
    pub async fn logout(&self, refresh: Option<String>) -> ApiResult<bool> {
        let me = self.principal().user_id.ok_or(ApiError::Unauthenticated)?;
        let session = match refresh {
            Some(t) => {
                let hash = tokens::hash_refresh_token(&t);
                let row = refresh_token::Entity::find()
                    .filter(refresh_token::Column::TokenHash.eq(hash))
                    .one(self.db())
                    .await?;
                match row.filter(|r| r.user_id == me) {
                    Some(r) => r.family_id,
                    None => return Err(ApiError::invalid("refreshToken", "is not one of your sessions")),
                }
            }
            None => self
                .session()
                .ok_or_else(|| ApiError::invalid("refreshToken", "give the refresh token of the session to end"))?,
        };
        let audit = self.auditor();
        let _turn = self.write_turn().await;
        self.db()
            .transaction::<_, (), ApiError>(|txn| {
                Box::pin(async move {
                    end_session(txn, session).await?;
                    audit.note(txn, "LOGOUT", "user", Some(me), None, None).await
                })
            })
            .await?;
        self.forget_session(session).await;
        Ok(true)
    }

    pub async fn me(&self) -> ApiResult<app_user::Model> {
        let me = self.principal().user_id.ok_or(ApiError::Unauthenticated)?;
        app_user::Entity::find_by_id(me).one(self.db()).await?.ok_or(ApiError::Unauthenticated)
    }

    /// Changes the caller's own password; every other session ends.
    pub async fn change_password(&self, current: String, new: String) -> ApiResult<bool> {
        let user = self.me().await?;
        let mut p = Problems::default();
        password::check_strength(&mut p, "newPassword", &new);
        p.into_result()?;
        if !password::verify(current, Some(user.password_hash.clone())).await {
            return Err(ApiError::invalid("currentPassword", "is not your current password"));
        }
        self.set_password(user, new, "PASSWORD_CHANGED").await
    }

    /// An administrator sets a new password for a user; the user's sessions end.
    pub async fn reset_password(&self, user_id: Uuid, new: String) -> ApiResult<bool> {
        self.authorize(Action::Administer)?;
        let mut p = Problems::default();
        password::check_strength(&mut p, "newPassword", &new);
        p.into_result()?;
        let user = app_user::Entity::find_by_id(user_id).one(self.db()).await?.ok_or(ApiError::not_found("user"))?;
        self.set_password(user, new, "PASSWORD_RESET").await
    }

    async fn set_password(&self, user: app_user::Model, new: String, action: &'static str) -> ApiResult<bool> {
        let hash = password::hash(new).await?;
        let mut row: app_user::ActiveModel = user.clone().into();
        row.password_hash = Set(hash);
        row.token_version = Set(user.token_version + 1);
        row.version = Set(user.version + 1);
        row.updated_at = Set(Utc::now());
        let audit = self.auditor();
        let _turn = self.write_turn().await;
        self.db()
            .transaction::<_, (), ApiError>(|txn| {
                Box::pin(async move {
                    row.update(txn).await?;
                    end_sessions_of(txn, user.id).await?;
                    audit.note(txn, action, "user", Some(user.id), None, None).await
                })
            })
            .await?;
        self.forget_principals().await;
        Ok(true)
    }

    pub async fn users(&self) -> ApiResult<Vec<app_user::Model>> {
        self.authorize(Action::Administer)?;
        Ok(app_user::Entity::find().order_by_asc(app_user::Column::Email).all(self.db()).await?)
    }

    /// Roles and scopes of users, for display: (user, roles), (user, unit, kind).
    pub async fn roles_of(&self, users: &[Uuid]) -> ApiResult<Vec<user_role::Model>> {
        Ok(user_role::Entity::find()
            .filter(user_role::Column::UserId.is_in(users.iter().copied()))
            .all(self.db())
            .await?)
    }

    pub async fn scopes_of(&self, users: &[Uuid]) -> ApiResult<Vec<user_scope::Model>> {
        Ok(user_scope::Entity::find()
            .filter(user_scope::Column::UserId.is_in(users.iter().copied()))
            .all(self.db())
            .await?)
    }

    async fn check_units(&self, ids: &[Uuid], path: &str) -> ApiResult<()> {
        let found = self.org_units_by_ids(ids).await?;
        match ids.iter().position(|id| !found.iter().any(|u| u.id == *id)) {
            Some(i) => Err(ApiError::invalid(format!("{path}.{i}"), "unknown org unit")),
            None => Ok(()),
        }
    }

    pub async fn create_user(&self, input: NewUser) -> ApiResult<app_user::Model> {
        self.authorize(Action::Administer)?;
        let email = normalise_email(&input.email);
        let mut p = Problems::default();
        validate::clean(&mut p, "input.email", &email, validate::Kind::Line);
        p.check(
            email.contains('@') && email.len() <= 254 && !email.contains(' '),
            "input.email",
            "is not an email address",
        );
        let display = validate::name(&mut p, "input.displayName", &input.display_name, 200);
        password::check_strength(&mut p, "input.password", &input.password);
        p.check(!input.roles.is_empty(), "input.roles", "give at least one role");
        p.check(
            !input.roles.contains(&Role::Partner) || input.partner_id.is_some(),
            "input.partnerId",
            "a PARTNER user needs a partner",
        );
        p.into_result()?;
        self.check_units(&input.capture_unit_ids, "input.captureUnitIds").await?;
        self.check_units(&input.view_unit_ids, "input.viewUnitIds").await?;
        if let Some(pid) = input.partner_id {
            partner::Entity::find_by_id(pid)
                .one(self.db())
                .await?
                .ok_or_else(|| ApiError::invalid("input.partnerId", "unknown partner"))?;
        }
        if app_user::Entity::find().filter(app_user::Column::Email.eq(&email)).one(self.db()).await?.is_some() {
            return Err(Unique::UserEmail.error());
        }
        let hash = password::hash(input.password).await?;
        let now = Utc::now();
        let row = app_user::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(email),
            display_name: Set(display),
            password_hash: Set(hash),
            active: Set(true),
            token_version: Set(1),
            partner_id: Set(input.partner_id),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        };
        let (roles, capture, view) = (input.roles, input.capture_unit_ids, input.view_unit_ids);
        let audit = self.auditor();
        let _turn = self.write_turn().await;
        Ok(self
            .db()
            .transaction::<_, app_user::Model, ApiError>(|txn| {
                Box::pin(async move {
                    let user = row.insert(txn).await?;
                    write_roles_and_scopes(txn, user.id, Some(&roles), Some(&capture), Some(&view)).await?;
                    let detail = format!("roles {roles:?}, capture {capture:?}, view {view:?}");
                    audit.note(txn, "CREATE", "user", Some(user.id), None, Some(detail)).await?;
                    Ok(user)
                })
            })
            .await?)
    }

    /// Changes roles, scopes or the active flag; the user's tokens are invalidated so the new
    /// rights apply from the next login.
    pub async fn update_user(&self, input: UserChanges) -> ApiResult<app_user::Model> {
        self.authorize(Action::Administer)?;
        let user = app_user::Entity::find_by_id(input.id).one(self.db()).await?.ok_or(ApiError::not_found("user"))?;
        let mut p = Problems::default();
        let display = input.display_name.as_deref().map(|d| validate::name(&mut p, "input.displayName", d, 200));
        if let Some(r) = &input.roles {
            p.check(!r.is_empty(), "input.roles", "give at least one role");
        }
        p.into_result()?;
        if let Some(ids) = &input.capture_unit_ids {
            self.check_units(ids, "input.captureUnitIds").await?;
        }
        if let Some(ids) = &input.view_unit_ids {
            self.check_units(ids, "input.viewUnitIds").await?;
        }
        let rights_changed = input.roles.is_some()
            || input.capture_unit_ids.is_some()
            || input.view_unit_ids.is_some()
            || input.active == Some(false);
        let mut row: app_user::ActiveModel = user.clone().into();
        if let Some(d) = display {
            row.display_name = Set(d);
        }
        if let Some(a) = input.active {
            row.active = Set(a);
        }
        if rights_changed {
            row.token_version = Set(user.token_version + 1);
        }
        row.version = Set(user.version + 1);
        row.updated_at = Set(Utc::now());
        let audit = self.auditor();
        let _turn = self.write_turn().await;
        let saved = self
            .db()
            .transaction::<_, app_user::Model, ApiError>(|txn| {
                Box::pin(async move {
                    let saved = row.update(txn).await?;
                    write_roles_and_scopes(
                        txn,
                        saved.id,
                        input.roles.as_deref(),
                        input.capture_unit_ids.as_deref(),
                        input.view_unit_ids.as_deref(),
                    )
                    .await?;
                    if rights_changed {
                        end_sessions_of(txn, saved.id).await?;
                    }
                    let detail = format!(
                        "roles {:?}, capture {:?}, view {:?}",
                        input.roles, input.capture_unit_ids, input.view_unit_ids
                    );
                    audit.record(txn, "UPDATE", "user", Some(saved.id), Some(&user), Some(&saved)).await?;
                    audit.note(txn, "RIGHTS", "user", Some(saved.id), None, Some(detail)).await?;
                    Ok(saved)
                })
            })
            .await;
        self.forget_principals().await;
        Ok(saved?)
    }

    pub async fn partners(&self) -> ApiResult<Vec<partner::Model>> {
        if !self.principal().is_authenticated() {
            return Err(ApiError::Unauthenticated);
        }
        let query = match self.principal().partners_visible() {
            Some(crate::access::PartnersVisible::All) => partner::Entity::find(),
            Some(crate::access::PartnersVisible::Own(id)) => partner::Entity::find_by_id(id),
            None => return Err(ApiError::Forbidden),
        };
        Ok(query.order_by_asc(partner::Column::Name).all(self.db()).await?)
    }

    pub async fn partner_units(&self, partners: &[Uuid]) -> ApiResult<Vec<partner_assignment::Model>> {
        Ok(partner_assignment::Entity::find()
            .filter(partner_assignment::Column::PartnerId.is_in(partners.iter().copied()))
            .all(self.db())
            .await?)
    }

    pub async fn create_partner(
        &self,
        name: String,
        kind: PartnerKind,
        unit_ids: Vec<Uuid>,
    ) -> ApiResult<partner::Model> {
        self.authorize(Action::Administer)?;
        let mut p = Problems::default();
        let name = validate::name(&mut p, "name", &name, 200);
        for (i, u) in unit_ids.iter().enumerate() {
            if unit_ids[..i].contains(u) {
                p.add(format!("unitIds.{i}"), "is given twice");
            }
        }
        p.into_result()?;
        self.check_units(&unit_ids, "unitIds").await?;
        if partner::Entity::find().filter(partner::Column::Name.eq(&name)).one(self.db()).await?.is_some() {
            return Err(Unique::PartnerName.error());
        }
        let now = Utc::now();
        let row = partner::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(name),
            kind: Set(kind.as_str().into()),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        };
        let audit = self.auditor();
        let _turn = self.write_turn().await;
        Ok(self
            .db()
            .transaction::<_, partner::Model, ApiError>(|txn| {
                Box::pin(async move {
                    let saved = row.insert(txn).await?;
                    for u in unit_ids {
                        partner_assignment::ActiveModel { partner_id: Set(saved.id), org_unit_id: Set(u) }
                            .insert(txn)
                            .await?;
                    }
                    audit.record(txn, "CREATE", "partner", Some(saved.id), None, Some(&saved)).await?;
                    Ok(saved)
                })
            })
            .await?)
    }
}

/// Tokens just issued for a session.
struct Issued {
    access: String,
    refresh: String,
}

impl Issued {
    fn into_session(self, user: app_user::Model) -> Session {
        Session { access_token: self.access, refresh_token: self.refresh, expires_in: tokens::ACCESS_TTL_SECS, user }
    }
}

/// Ends one session: its row, then its refresh tokens (the row first, as `Store::refresh` takes
/// them). The caller forgets its cached principals after the commit (`Store::forget_session`).
async fn end_session<C: ConnectionTrait>(conn: &C, session: Uuid) -> ApiResult<()> {
    let now = Utc::now();
    user_session::Entity::update_many()
        .col_expr(user_session::Column::EndedAt, Expr::value(now))
        .filter(user_session::Column::Id.eq(session))
        .filter(user_session::Column::EndedAt.is_null())
        .exec(conn)
        .await?;
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::FamilyId.eq(session))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends every session of a user (a password change or reset, deactivation, new rights). The
/// caller clears the principal cache after the commit (`Store::forget_principals`).
async fn end_sessions_of<C: ConnectionTrait>(conn: &C, user: Uuid) -> ApiResult<()> {
    let now = Utc::now();
    user_session::Entity::update_many()
        .col_expr(user_session::Column::EndedAt, Expr::value(now))
        .filter(user_session::Column::UserId.eq(user))
        .filter(user_session::Column::EndedAt.is_null())
        .exec(conn)
        .await?;
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::UserId.eq(user))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Replaces the given sets (None leaves a set as it is).
async fn write_roles_and_scopes<C: ConnectionTrait>(
    txn: &C,
    user: Uuid,
    roles: Option<&[Role]>,
    capture: Option<&[Uuid]>,
    view: Option<&[Uuid]>,
) -> ApiResult<()> {
    if let Some(roles) = roles {
        user_role::Entity::delete_many().filter(user_role::Column::UserId.eq(user)).exec(txn).await?;
        let mut roles = roles.to_vec();
        roles.sort_by_key(|r| r.as_str());
        roles.dedup();
        for r in roles {
            user_role::ActiveModel { user_id: Set(user), role: Set(r.as_str().into()) }.insert(txn).await?;
        }
    }
    for (kind, units) in [(ScopeKind::Capture, capture), (ScopeKind::View, view)] {
        let Some(units) = units else { continue };
        user_scope::Entity::delete_many()
            .filter(user_scope::Column::UserId.eq(user))
            .filter(user_scope::Column::Kind.eq(kind.as_str()))
            .exec(txn)
            .await?;
        let mut units = units.to_vec();
        units.sort();
        units.dedup();
        for u in units {
            user_scope::ActiveModel { user_id: Set(user), org_unit_id: Set(u), kind: Set(kind.as_str().into()) }
                .insert(txn)
                .await?;
        }
    }
    Ok(())
}
