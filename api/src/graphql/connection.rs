//! Relay connections built from store pages, with a totalCount counted only when asked for.

use crate::store::{Page, Store};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Object, OutputType, SchemaBuilder};
use uuid::Uuid;

pub struct Total(crate::store::TotalCount);

#[Object]
impl Total {
    /// Every item matching the filter, across all pages. For de-identified callers (ANALYST,
    /// RESEARCHER) a count of people or households is protected by the cell-key method (see the
    /// README): null for 0 to 4, otherwise within ±3 of the truth; null for nobody else.
    async fn total_count(&self) -> async_graphql::Result<Option<i64>> {
        Ok(self.count().await?)
    }
}

impl Total {
    /// The count `totalCount` answers (also read by a planned page of people).
    pub async fn count(&self) -> crate::error::ApiResult<Option<i64>> {
        Ok(self.0.get().await?.map(|n| n as i64))
    }
}

pub type Conn<T> = Connection<String, T, Total>;

/// Describes the types async-graphql makes itself, which take no doc comments: the connections
/// (`…Connection`) and the scalars of the chrono and uuid integrations.
pub(super) fn describe_made_types<Q, M, S>(builder: SchemaBuilder<Q, M, S>) -> SchemaBuilder<Q, M, S> {
    use super::access::AuditEntry;
    use super::family::CommunityProject;
    use super::org_units::OrgUnit;
    use super::people::{Household, Person};
    use super::referrals::Referral;
    use super::schedule::DueListEntry;
    use chrono::{DateTime, NaiveDate, Utc};
    builder
        .override_output_type_description::<Conn<OrgUnit>>("A page of org units (Relay cursor connection).")
        .override_output_type_description::<Conn<Household>>("A page of households (Relay cursor connection).")
        .override_output_type_description::<Conn<Person>>("A page of people (Relay cursor connection).")
        .override_output_type_description::<Conn<DueListEntry>>(
            "A page of the due list, most overdue first (Relay cursor connection).",
        )
        .override_output_type_description::<Conn<AuditEntry>>(
            "A page of the audit log, oldest first (Relay cursor connection).",
        )
        .override_output_type_description::<Conn<CommunityProject>>(
            "A page of community projects (Relay cursor connection).",
        )
        .override_output_type_description::<Conn<Referral>>("A page of referrals (Relay cursor connection).")
        .override_output_type_description::<Conn<super::cases::ProtectionCase>>(
            "A page of child-protection cases (Relay cursor connection).",
        )
        .override_output_type_description::<NaiveDate>(
            "A calendar day, ISO 8601 `YYYY-MM-DD` (e.g. `2026-11-20`). The service's days are Mongolia's \
             (UTC+8): \"today\" is today there.",
        )
        .override_output_type_description::<DateTime<Utc>>(
            "An instant, RFC 3339 in UTC (e.g. `2026-11-20T03:15:00.123456Z`).",
        )
        .override_output_type_description::<Uuid>(
            "A UUID, as a string (e.g. `0193a1c2-0000-7000-8000-000000000001`). The server makes \
             version 7 ids (time-ordered); offline clients may make their own.",
        )
}

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
