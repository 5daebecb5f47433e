//! The one pagination helper: keyset pages ordered by id (or by a computed key, then id), with opaque cursors.

use crate::access::{subtree_bounds, units_under};
use crate::auth::Keys;
use crate::error::{ApiError, ApiResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::org_unit;
use entity::read::{FromPgRow, Read};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use uuid::Uuid;

pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

#[derive(Clone, Debug)]
pub struct PageRequest {
    pub first: usize,
    pub after: Option<Uuid>,
}

impl PageRequest {
    /// Validates `first` (0..=MAX_PAGE_SIZE) and opens the `after` cursor.
    pub fn new(first: Option<i32>, after: Option<String>, keys: &Keys) -> ApiResult<Self> {
        let first = page_size(first)?;
        let after = after.map(|c| decode_cursor(keys, &c)).transpose()?;
        Ok(Self { first, after })
    }
}

/// Validates `first`: 0..=MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE when absent.
fn page_size(first: Option<i32>) -> ApiResult<usize> {
    match first {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if (0..=MAX_PAGE_SIZE as i32).contains(&n) => Ok(n as usize),
        Some(_) => Err(ApiError::invalid("first", format!("must be between 0 and {MAX_PAGE_SIZE}"))),
    }
}

/// A page of a list sorted by a computed key (such as urgency) and then id, computed in full
/// before it is paged; the cursor carries the key and the id.
#[derive(Clone, Debug)]
pub struct SortedPageRequest {
    pub first: usize,
    pub after: Option<(String, Uuid)>,
}

impl SortedPageRequest {
    pub fn new(first: Option<i32>, after: Option<String>, keys: &Keys) -> ApiResult<Self> {
        let first = page_size(first)?;
        let after = after.map(|c| decode_sorted_cursor(keys, &c)).transpose()?;
        Ok(Self { first, after })
    }
}

/// The sort key in clear (it is the caller's own data, e.g. an urgency) and the id sealed, as
/// in every other cursor.
pub fn encode_sorted_cursor(keys: &Keys, key: &str, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{key}|{}", encode_cursor(keys, id)))
}

fn decode_sorted_cursor(keys: &Keys, cursor: &str) -> ApiResult<(String, Uuid)> {
    let invalid = || ApiError::invalid("after", "is not a cursor this service gave out");
    let text = URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(invalid)?;
    let (key, id) = text.rsplit_once('|').ok_or_else(invalid)?;
    Ok((key.to_string(), decode_cursor(keys, id)?))
}

/// One page of `items`, which are sorted by `key` (a (key, id) pair, ascending).
pub fn slice<T>(items: Vec<T>, key: impl Fn(&T) -> (String, Uuid), req: &SortedPageRequest) -> Page<T> {
    let total = items.len() as u64;
    let mut rest: Vec<T> = match &req.after {
        Some(after) => items.into_iter().filter(|t| key(t) > *after).collect(),
        None => items,
    };
    let has_next = rest.len() > req.first;
    rest.truncate(req.first);
    Page { items: rest, has_previous: req.after.is_some(), has_next, total: TotalCount::known(total) }
}

/// Cursors are the row id encrypted with the service's key: opaque, and no id leaks through them.
pub fn encode_cursor(keys: &Keys, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(keys.seal(id))
}

pub fn decode_cursor(keys: &Keys, cursor: &str) -> ApiResult<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
        .map(|b| keys.open(b))
        .ok_or_else(|| ApiError::invalid("after", "is not a cursor this service gave out"))
}

type CountFuture = Pin<Box<dyn Future<Output = ApiResult<Option<u64>>> + Send>>;

/// Counts every row matching the page's filter; run only when a client asks for totalCount.
/// `None`: a protected count of 0 to 4, suppressed (`domain::cell_key`).
#[derive(Clone)]
pub struct TotalCount(Arc<dyn Fn() -> CountFuture + Send + Sync>);

impl TotalCount {
    pub async fn get(&self) -> ApiResult<Option<u64>> {
        (self.0)().await
    }

    /// A count already known (a list computed in full).
    pub fn known(n: u64) -> Self {
        TotalCount(Arc::new(move || Box::pin(async move { Ok(Some(n)) })))
    }

    /// The count of `select`'s rows protected by the cell-key method, each row's record key
    /// read from its id column `id` (SQL, e.g. `person.id`); run only when asked for.
    pub fn protected<E>(db: &DatabaseConnection, select: &Select<E>, id: &'static str) -> Self
    where
        E: EntityTrait,
    {
        use sea_orm::sea_query::{Expr, Func};
        let (select, db) = (select.clone(), db.clone());
        TotalCount(Arc::new(move || {
            let (s, db) = (select.clone(), db.clone());
            Box::pin(async move {
                let key = super::dimensions::record_key(db.get_database_backend(), id);
                let (n, keys): (i64, Option<i64>) = s
                    .select_only()
                    .expr_as(Expr::cust("COUNT(*)"), "n")
                    .expr_as(Func::cast_as(Func::sum(key), sea_orm::sea_query::Alias::new("BIGINT")), "k")
                    .into_tuple()
                    .one(&db)
                    .await?
                    .unwrap_or((0, None));
                Ok(crate::domain::cell_key::protect(n, keys.unwrap_or(0)).value().map(|n| n as u64))
            })
        }))
    }
}

pub struct Page<T> {
    pub items: Vec<T>,
    pub has_previous: bool,
    pub has_next: bool,
    pub total: TotalCount,
}

impl<T> Page<T> {
    /// The page of `first` from `items`, fetched one longer to learn whether more follow.
    fn of(mut items: Vec<T>, first: usize, has_previous: bool, total: TotalCount) -> Self {
        let has_next = items.len() > first;
        items.truncate(first);
        Page { items, has_previous, has_next, total }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_previous: self.has_previous,
            has_next: self.has_next,
            total: self.total,
        }
    }
}

/// The count of `select`'s rows, run only when asked for.
fn lazy_count<E>(db: &DatabaseConnection, select: &Select<E>) -> TotalCount
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    let (select, db) = (select.clone(), db.clone());
    TotalCount(Arc::new(move || {
        let (s, db) = (select.clone(), db.clone());
        Box::pin(async move { Ok(Some(s.count(&db).await?)) })
    }))
}

/// `select` in id order from just after the request's cursor.
fn after_cursor<E: EntityTrait>(select: Select<E>, id: E::Column, req: &PageRequest) -> Select<E> {
    let q = select.order_by_asc(id);
    match req.after {
        Some(after) => q.filter(id.gt(after)),
        None => q,
    }
}

/// One page of `select` (already filtered and scoped), ordered by `id`.
pub async fn fetch<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    id: E::Column,
    req: &PageRequest,
) -> ApiResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: FromPgRow + Send + Sync,
{
    let total = lazy_count(db, &select);
    let items = super::read_all(after_cursor(select, id, req).limit(req.first as u64 + 1), db).await?;
    Ok(Page::of(items, req.first, req.after.is_some(), total))
}

/// `select` restricted to the rows whose `unit` is in the subtree of the unit at `path`.
pub fn in_subtree<E: EntityTrait>(select: Select<E>, unit: E::Column, path: &str) -> Select<E> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    select.filter(Expr::col(unit).in_subquery(units_under(path)))
}

/// One page of `select` (filtered and scoped) restricted to the subtree of the unit at `path`
/// by `unit`, ordered by `id`. On PostgreSQL each unit of the subtree gives at most a page of
/// its rows from the (unit, id) index, in a LATERAL join, and the page is the first of those:
/// the plan of the plain `unit IN (subtree)` form walks the primary key until a page of the
/// subtree's rows has turned up, reading ~page ÷ the subtree's share of the table (4× the
/// database's time for a soum of 32,000 in 1 M people, and worse as units get smaller).
/// SQLite has no LATERAL: it gets the plain form, as does the count.
pub async fn fetch_in_subtree<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    unit: E::Column,
    path: &str,
    id: E::Column,
    req: &PageRequest,
) -> ApiResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: FromPgRow + Send + Sync,
{
    use sea_orm::{DbBackend, IdenStatic};
    let whole = in_subtree(select.clone(), unit, path);
    if db.get_database_backend() != DbBackend::Postgres {
        return fetch(db, whole, id, req).await;
    }
    let total = lazy_count(db, &whole);
    let per_unit = after_cursor(select.filter(in_subtree_unit(unit)), id, req);
    let items = unit_by_unit(db, per_unit, path, &[(id.as_str(), "ASC")], req.first + 1).await?;
    Ok(Page::of(items, req.first, req.after.is_some(), total))
}

/// `fetch_ordered` restricted to the subtree of the unit at `path`, unit by unit on PostgreSQL
/// as `fetch_in_subtree` is (each unit's first rows in the order, from its (unit, key, id)
/// index): the plain form scanned and sorted every person for a soum's page by family name
/// (330 ms in 1 M people).
pub async fn fetch_ordered_in_subtree<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    unit: E::Column,
    path: &str,
    order: &Order<E>,
    id: E::Column,
    req: &SortedPageRequest,
) -> ApiResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: FromPgRow + Send + Sync,
{
    use sea_orm::{DbBackend, IdenStatic};
    let whole = in_subtree(select.clone(), unit, path);
    if db.get_database_backend() != DbBackend::Postgres {
        return fetch_ordered(db, whole, order, id, req).await;
    }
    let total = lazy_count(db, &whole);
    let per_unit = ordered_after(select.filter(in_subtree_unit(unit)), order, id, req)?;
    let dir = if order.desc { "DESC" } else { "ASC" };
    let items =
        unit_by_unit(db, per_unit, path, &[(order.key.as_str(), dir), (id.as_str(), "ASC")], req.first + 1).await?;
    Ok(Page::of(items, req.first, req.after.is_some(), total))
}

/// The condition that ties a row to the unit of the subtree the LATERAL join is at.
fn in_subtree_unit<C: sea_orm::sea_query::IntoIden>(unit: C) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait};
    Expr::col(unit).equals((Alias::new("subtree_unit"), org_unit::Column::Id))
}

/// The first `limit` rows, in `order` (columns of the entity's table and their directions), of
/// `per_unit` (already ordered the same way and tied to `subtree_unit`) taken at most `limit`
/// from each unit of the subtree at `path`. PostgreSQL only.
async fn unit_by_unit<E>(
    db: &DatabaseConnection,
    per_unit: Select<E>,
    path: &str,
    order: &[(&str, &str)],
    limit: usize,
) -> ApiResult<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: FromPgRow + Send + Sync,
{
    use sea_orm::{DbBackend, IdenStatic, Iterable, QueryTrait, Statement};
    let per_unit = per_unit.build(DbBackend::Postgres);
    let mut values = per_unit.values.map(|v| v.0).unwrap_or_default();
    let (start, end) = subtree_bounds(path);
    values.extend([start.into(), end.into()]);
    let (table, n) = (E::default().table_name(), values.len());
    // The page size is written into the statement, not bound: with a bound LIMIT, PostgreSQL's
    // generic plan guesses a tenth of each unit's rows, looks dearer than it is, and the
    // statement is planned again at every run (pgbench: 4,194 tps against 7,622). The rows keep
    // the entity's table name, so their columns read back as the entity's own.
    let order: Vec<String> = order.iter().map(|(column, dir)| format!(r#""{table}"."{column}" {dir}"#)).collect();
    let order = order.join(", ");
    // The entity's columns in its own order (not `*`, the table's order), so they are read by
    // position (`entity::read`).
    let columns: Vec<String> = E::Column::iter().map(|c| format!(r#""{table}"."{}""#, c.as_str())).collect();
    let columns = columns.join(", ");
    let sql = format!(
        r#"SELECT {columns} FROM "org_unit" AS "subtree_unit" JOIN LATERAL ({inner} LIMIT {limit}) AS "{table}" ON TRUE WHERE "subtree_unit"."path" >= ${lo} AND "subtree_unit"."path" < ${hi} ORDER BY {order} LIMIT {limit}"#,
        inner = per_unit.sql,
        lo = n - 1,
        hi = n,
    );
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    Ok(Read::models(E::find().from_raw_sql(statement).into_model().all(db).await?))
}

/// A list ordered by a column, then id: the column, its direction, and how its value is written
/// into a cursor and read back as a typed value (so the keyset comparison is typed too).
pub struct Order<E: EntityTrait> {
    pub key: E::Column,
    pub desc: bool,
    pub key_of: fn(&E::Model) -> String,
    pub parse: fn(&str) -> Option<sea_orm::Value>,
}

/// One page of `select` ordered by `order` then `id` (ascending): keyset over (key, id), so a
/// page is one indexed range whatever its depth.
pub async fn fetch_ordered<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    order: &Order<E>,
    id: E::Column,
    req: &SortedPageRequest,
) -> ApiResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: FromPgRow + Send + Sync,
{
    let total = lazy_count(db, &select);
    let items = super::read_all(ordered_after(select, order, id, req)?.limit(req.first as u64 + 1), db).await?;
    Ok(Page::of(items, req.first, req.after.is_some(), total))
}

/// `select` in `order` then id, from just after the request's cursor.
fn ordered_after<E: EntityTrait>(
    select: Select<E>,
    order: &Order<E>,
    id: E::Column,
    req: &SortedPageRequest,
) -> ApiResult<Select<E>> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{Condition, Order as SqlOrder};
    let dir = if order.desc { SqlOrder::Desc } else { SqlOrder::Asc };
    let mut q = select.order_by(order.key, dir).order_by_asc(id);
    if let Some((key, after)) = &req.after {
        let key = (order.parse)(key).ok_or_else(|| ApiError::invalid("after", "is not a cursor of this order"))?;
        let col = Expr::col(order.key);
        let beyond = if order.desc { col.clone().lt(key.clone()) } else { col.clone().gt(key.clone()) };
        q = q.filter(Condition::any().add(beyond).add(col.eq(key).and(Expr::col(id).gt(*after))));
    }
    Ok(q)
}
