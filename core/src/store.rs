//! SQLite plumbing shared by the wallet, the verifier and the authority: open with WAL and full
//! sync (a committed write survives a crash or power loss), then apply numbered migrations.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// Whether opening may create the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Create {
    IfMissing,
    Never,
}

/// Opens the database at `path` and brings its schema up to date.
/// `migrations[i]` moves the schema from version `i` to `i + 1`; each runs in its own transaction.
pub(crate) fn open(path: &Path, create: Create, migrations: &[&str]) -> Result<Connection> {
    let flags = match create {
        Create::IfMissing => OpenFlags::default(),
        Create::Never => OpenFlags::default() - OpenFlags::SQLITE_OPEN_CREATE,
    };
    let mut conn = Connection::open_with_flags(path, flags).map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::CannotOpen && create == Create::Never =>
        {
            Error::NotFound("database file")
        }
        e => e.into(),
    })?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
        return Err(Error::InvalidArgument(
            "the database does not support WAL mode".into(),
        ));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrate(&mut conn, migrations)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let supported = migrations.len() as i64;
    if current > supported {
        return Err(Error::SchemaTooNew {
            found: current,
            supported,
        });
    }
    for (index, sql) in migrations.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_in_order_and_newer_schemas_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let v1 = ["CREATE TABLE a (x INTEGER);"];
        let v2 = [
            "CREATE TABLE a (x INTEGER);",
            "ALTER TABLE a ADD COLUMN y INTEGER;",
        ];
        open(&path, Create::IfMissing, &v1)
            .unwrap()
            .execute("INSERT INTO a (x) VALUES (1)", [])
            .unwrap();
        let conn = open(&path, Create::IfMissing, &v2).unwrap();
        let row: (i64, Option<i64>) = conn
            .query_row("SELECT x, y FROM a", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!(row, (1, None));
        drop(conn);
        assert!(
            open(&path, Create::IfMissing, &v2).is_ok(),
            "re-opening must not re-run migrations"
        );
        assert!(matches!(
            open(&path, Create::IfMissing, &v1),
            Err(Error::SchemaTooNew {
                found: 2,
                supported: 1
            })
        ));
    }

    #[test]
    fn never_create_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.sqlite");
        assert!(matches!(
            open(&path, Create::Never, &[]),
            Err(Error::NotFound(_))
        ));
        assert!(!path.exists());
    }

    #[test]
    fn a_failed_migration_leaves_the_previous_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        open(&path, Create::IfMissing, &["CREATE TABLE a (x INTEGER);"]).unwrap();
        assert!(open(
            &path,
            Create::IfMissing,
            &[
                "CREATE TABLE a (x INTEGER);",
                "CREATE TABLE b (x); SYNTAX ERROR;"
            ]
        )
        .is_err());
        let conn = open(&path, Create::IfMissing, &["CREATE TABLE a (x INTEGER);"]).unwrap();
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'b'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
    }
}
