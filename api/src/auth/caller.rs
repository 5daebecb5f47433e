//! The caller of a request: the principal of a verified access token, built from the user, its
//! session's state, roles and scopes (and cached a few seconds: `principals`).

use super::{Keys, PrincipalCache};
use crate::access::Principal;
use crate::domain::vocab::{Role, ScopeKind};
use crate::error::{ApiError, ApiResult};
use entity::{app_user, org_unit, partner_assignment, user_role, user_scope, user_session};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

/// The principal of a verified access token and the token's session, or UNAUTHENTICATED for a
/// stale token: a deactivated user, a raised token version, an ended session (logout, a reused
/// refresh token, a password change or reset, a change of the user's rights).
///
/// A principal built in the last few seconds for the same user, token version and session is
/// reused (`auth::principals`), with no statement at all; otherwise the user is read together
/// with its session's state, in one statement of two primary-key lookups, before the rights.
pub async fn caller_for_token(
    db: &DatabaseConnection,
    keys: &Keys,
    cache: &PrincipalCache,
    token: &str,
) -> ApiResult<(Principal, Uuid)> {
    let claims = cache.tokens.verify(keys, token)?;
    if let Some(p) = cache.get(claims.sub, claims.ver, claims.sid) {
        return Ok((p, claims.sid));
    }
    let live_session = Query::select()
        .column(user_session::Column::UserId)
        .from(user_session::Entity)
        .and_where(user_session::Column::Id.eq(claims.sid))
        .and_where(user_session::Column::EndedAt.is_null())
        .to_owned();
    let user = app_user::Entity::find_by_id(claims.sub)
        .filter(app_user::Column::Id.in_subquery(live_session))
        .one(db)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    if !user.active || user.token_version != claims.ver {
        return Err(ApiError::Unauthenticated);
    }
    let p = principal_of(db, &user).await?;
    cache.put(claims.sub, claims.ver, claims.sid, p.clone());
    Ok((p, claims.sid))
}

pub(crate) async fn principal_of<C: ConnectionTrait>(db: &C, user: &app_user::Model) -> ApiResult<Principal> {
    let roles = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(user.id))
        .all(db)
        .await?
        .iter()
        .map(|r| Role::from_db(&r.role))
        .collect::<ApiResult<Vec<_>>>()?;
    let scopes = user_scope::Entity::find().filter(user_scope::Column::UserId.eq(user.id)).all(db).await?;
    let mut unit_ids: Vec<Uuid> = scopes.iter().map(|s| s.org_unit_id).collect();
    let assigned: Vec<Uuid> = match user.partner_id {
        Some(p) => partner_assignment::Entity::find()
            .filter(partner_assignment::Column::PartnerId.eq(p))
            .all(db)
            .await?
            .into_iter()
            .map(|a| a.org_unit_id)
            .collect(),
        None => vec![],
    };
    unit_ids.extend(assigned.iter().copied());
    let units = org_unit::Entity::find().filter(org_unit::Column::Id.is_in(unit_ids)).all(db).await?;
    let path = |id: &Uuid| units.iter().find(|u| u.id == *id).map(|u| u.path.clone());
    let of_kind =
        |k: ScopeKind| scopes.iter().filter(|s| s.kind == k.as_str()).filter_map(|s| path(&s.org_unit_id)).collect();
    Ok(Principal::for_user(
        user.id,
        roles,
        of_kind(ScopeKind::Capture),
        of_kind(ScopeKind::View),
        assigned.iter().filter_map(path).collect(),
    )
    .with_partner(user.partner_id))
}
