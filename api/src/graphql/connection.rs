//! Relay connections built from store pages, with a totalCount counted only when asked for.

use crate::store::{Page, Store};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Object, OutputType};
use uuid::Uuid;

pub struct Total(crate::store::TotalCount);

#[Object]
impl Total {
    /// Every item matching the filter, across all pages.
    async fn total_count(&self) -> async_graphql::Result<i64> {
        Ok(self.count().await?)
    }
}

impl Total {
    /// The count `totalCount` answers (also read by a planned page of people).
    pub async fn count(&self) -> crate::error::ApiResult<i64> {
        Ok(self.0.get().await? as i64)
    }
}

pub type Conn<T> = Connection<String, T, Total>;

pub fn connection<M, T: OutputType>(
    store: &Store,
    page: Page<M>,
    id: impl Fn(&M) -> Uuid,
    wrap: impl Fn(M) -> T,
) -> Conn<T> {
    connection_by(page, |m| store.cursor(id(m)), wrap)
}

/// A connection whose cursors the page's items make themselves (lists sorted by a computed key).
pub fn connection_by<M, T: OutputType>(page: Page<M>, cursor: impl Fn(&M) -> String, wrap: impl Fn(M) -> T) -> Conn<T> {
    let mut c = Connection::with_additional_fields(page.has_previous, page.has_next, Total(page.total));
    c.edges.extend(page.items.into_iter().map(|m| Edge::new(cursor(&m), wrap(m))));
    c
}
