//! Login throttling: growing waits after repeated failures, per account-and-address and per
//! address. Keyed on the client address too, so an attacker elsewhere cannot lock a user out.
//! Kept in the database (`login_throttle`), so that every instance of the service counts the
//! same failures: an attacker gains nothing by spreading guesses over instances.

use chrono::{DateTime, Utc};
use entity::login_throttle::{self, Column};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use std::net::IpAddr;
use std::time::Duration;

/// Failures allowed before waits start: per account and address, and per address.
const FREE_PER_ACCOUNT: u32 = 5;
const FREE_PER_ADDRESS: u32 = 20;
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// A key without a failure for this long starts counting again (and its row may go).
const FORGET_AFTER: chrono::TimeDelta = chrono::TimeDelta::days(1);

fn keys(email: &str, ip: Option<IpAddr>) -> [(String, u32); 2] {
    let ip = ip.map(|i| i.to_string()).unwrap_or_else(|| "unknown".into());
    [(format!("account:{email}|{ip}"), FREE_PER_ACCOUNT), (format!("address:{ip}"), FREE_PER_ADDRESS)]
}

/// 1 s after the first failure past the free ones, doubling each time, up to 15 minutes.
fn wait_after(failures: u32, free: u32) -> Option<Duration> {
    let over = failures.checked_sub(free + 1)?;
    Some(Duration::from_secs(1u64 << Ord::min(over, 20)).min(MAX_WAIT))
}

/// How long the caller must wait before another attempt, if at all.
pub async fn retry_after<C: ConnectionTrait>(
    db: &C,
    email: &str,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<Option<Duration>, DbErr> {
    let blocked = login_throttle::Entity::find()
        .filter(Column::Key.is_in(keys(email, ip).map(|(k, _)| k)))
        .filter(Column::BlockedUntil.gt(now))
        .all(db)
        .await?;
    Ok(blocked.iter().filter_map(|r| (r.blocked_until? - now).to_std().ok()).max())
}

/// Counts a failure under both keys: one statement each, so failures on several instances at
/// once all count.
pub async fn failed<C: ConnectionTrait>(
    db: &C,
    email: &str,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let stale = now - FORGET_AFTER;
    for (key, free) in keys(email, ip) {
        let existing = |c: Column| Expr::col((login_throttle::Entity, c));
        let count = Query::insert()
            .into_table(login_throttle::Entity)
            .columns([Column::Key, Column::Failures, Column::LastFailureAt])
            .values_panic([key.clone().into(), 1.into(), now.into()])
            .on_conflict(
                OnConflict::column(Column::Key)
                    .value(
                        Column::Failures,
                        Expr::case(existing(Column::LastFailureAt).lt(stale), 1)
                            .finally(existing(Column::Failures).add(1)),
                    )
                    .value(Column::LastFailureAt, now)
                    .to_owned(),
            )
            .returning_col(Column::Failures)
            .to_owned();
        let failures: i32 = match db.query_one_raw(backend.build(&count)).await? {
            Some(row) => row.try_get_by_index(0)?,
            None => 1,
        };
        let until = wait_after(Ord::max(failures, 0) as u32, free).map(|w| now + w);
        login_throttle::Entity::update_many()
            .col_expr(Column::BlockedUntil, Expr::val(until))
            .filter(Column::Key.eq(key))
            .exec(db)
            .await?;
    }
    login_throttle::Entity::delete_many()
        .filter(Column::LastFailureAt.lt(stale))
        .filter(Column::BlockedUntil.is_null().or(Column::BlockedUntil.lt(now)))
        .exec(db)
        .await?;
    Ok(())
}

/// A success clears the account's count from that address (the address keeps its own).
pub async fn succeeded<C: ConnectionTrait>(db: &C, email: &str, ip: Option<IpAddr>) -> Result<(), DbErr> {
    let [(account, _), _] = keys(email, ip);
    login_throttle::Entity::delete_many().filter(Column::Key.eq(account)).exec(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_free_attempts_and_grow() {
        assert_eq!(wait_after(5, FREE_PER_ACCOUNT), None);
        assert_eq!(wait_after(6, FREE_PER_ACCOUNT), Some(Duration::from_secs(1)));
        assert_eq!(wait_after(8, FREE_PER_ACCOUNT), Some(Duration::from_secs(4)));
        assert_eq!(wait_after(60, FREE_PER_ACCOUNT), Some(MAX_WAIT));
    }

    #[test]
    fn an_account_is_counted_per_address_and_an_address_on_its_own() {
        let attacker: IpAddr = "10.0.0.9".parse().unwrap();
        let [(account, _), (address, _)] = keys("nurse@demo.mn", Some(attacker));
        assert_eq!(account, "account:nurse@demo.mn|10.0.0.9");
        assert_eq!(address, "address:10.0.0.9");
        assert_ne!(keys("nurse@demo.mn", Some("10.0.0.1".parse().unwrap()))[0].0, account);
    }
}
