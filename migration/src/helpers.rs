//! Table-building helpers shared by the migrations. Their output must never change: released
//! migrations depend on them, so a new need gets a new helper.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// id, created_at, updated_at and version: the columns every mutable record carries
/// (offline sync and conflict detection build on `version`).
pub fn mutable(table: &'static str) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(pk_uuid("id"))
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .col(integer("version").default(1))
        .to_owned()
}

/// A foreign key named `fk_<table>_<col>` that refuses deleting the referenced row.
pub fn fk(table: &'static str, col: &'static str, to: &'static str, to_col: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(table, col)
        .to(to, to_col)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

fn index_name(table: &str, cols: &[&str]) -> String {
    format!("idx_{table}_{}", cols.join("_"))
}

/// An index named `idx_<table>_<cols>`.
pub fn index(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(index_name(table, cols)).table(table);
    for c in cols {
        stmt.col(*c);
    }
    stmt.to_owned()
}

/// Drops the index `index(table, cols)` made.
pub fn drop_index(table: &'static str, cols: &[&'static str]) -> IndexDropStatement {
    Index::drop().name(index_name(table, cols)).table(table).to_owned()
}
