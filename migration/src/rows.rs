//! Helpers the reference-data migrations share: inserting reference rows with
//! their audit columns, and adding columns one statement at a time (SQLite alters one at a time).

use sea_orm_migration::prelude::*;

/// The audit columns of a reference row inserted now.
fn stamp() -> [SimpleExpr; 3] {
    let now = chrono::Utc::now();
    [now.into(), now.into(), 1.into()]
}

/// Inserts reference rows: `id`, then `cols`, then the audit columns.
pub async fn insert(
    manager: &SchemaManager<'_>,
    table: &'static str,
    cols: &[&'static str],
    rows: Vec<Vec<SimpleExpr>>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut stmt = Query::insert();
    let mut all: Vec<&'static str> = vec!["id"];
    all.extend_from_slice(cols);
    all.extend_from_slice(&["created_at", "updated_at", "version"]);
    stmt.into_table(table).columns(all);
    for row in rows {
        stmt.values(row.into_iter().chain(stamp())).map_err(|e| DbErr::Migration(format!("{table}: {e}")))?;
    }
    manager.exec_stmt(stmt.to_owned()).await
}

/// Adds each column with its own ALTER TABLE.
pub async fn add_columns(manager: &SchemaManager<'_>, table: &'static str, cols: Vec<ColumnDef>) -> Result<(), DbErr> {
    for mut col in cols {
        manager.alter_table(Table::alter().table(table).add_column(&mut col).to_owned()).await?;
    }
    Ok(())
}

/// Drops each column with its own ALTER TABLE.
pub async fn drop_columns(
    manager: &SchemaManager<'_>,
    table: &'static str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    for col in cols {
        manager.alter_table(Table::alter().table(table).drop_column(*col).to_owned()).await?;
    }
    Ok(())
}
