//! The followers' cursors. Each move is a compare-and-set in one statement (an `UPDATE … WHERE
//! seq = expected`, or for a consumer never seen an insert that a concurrent first move makes
//! do nothing), so two writers of one cursor, on one node or two, never both win; a batch is
//! one transaction. The head a move is checked against only grows, so reading it in the same
//! transaction is enough: no append can make a checked move pass it.

use tryvoha_core::Seq;
use tryvoha_store::{CursorMove, CursorStore, StoreError, StoreResult};

use crate::PostgresStore;
use crate::columns::{bigint, get_u64};
use crate::connection::Connection;
use crate::log::last_seq;

impl CursorStore for PostgresStore {
    fn stored_cursor(&self, consumer: &str) -> StoreResult<Option<Seq>> {
        self.lookups.run(async |connection| stored(connection, consumer).await)
    }

    fn set_cursor(&self, consumer: &str, expected: Seq, to: Seq) -> StoreResult<()> {
        self.set_cursors(&[CursorMove { consumer: consumer.to_owned(), expected, to }])
    }

    fn set_cursors(&self, moves: &[CursorMove]) -> StoreResult<()> {
        if moves.is_empty() {
            return Ok(());
        }
        self.lookups.run(async |connection| {
            connection
                .transaction(async {
                    let head = last_seq(connection).await?;
                    for each in moves {
                        set(connection, each, head).await?;
                    }
                    Ok(())
                })
                .await
        })
    }

    fn remove_cursor(&self, consumer: &str) -> StoreResult<()> {
        self.lookups.run(async |connection| {
            connection.execute("DELETE FROM cursors WHERE consumer = $1", &[&consumer]).await?;
            Ok(())
        })
    }
}

/// One move, refused as SQLite refuses it: a cursor that stands elsewhere first, then one that
/// would pass the head.
async fn set(
    connection: &Connection,
    CursorMove { consumer, expected, to }: &CursorMove,
    head: Seq,
) -> StoreResult<()> {
    let moved = |actual| StoreError::CursorMoved { consumer: consumer.clone(), expected: *expected, actual };
    if *to > head {
        let actual = stored(connection, consumer).await?.unwrap_or(0);
        return Err(if actual != *expected {
            moved(actual)
        } else {
            StoreError::CursorBeyondHead { consumer: consumer.clone(), to: *to, head }
        });
    }
    let (from, to) = (bigint(*expected)?, bigint(*to)?);
    let updated = connection
        .execute("UPDATE cursors SET seq = $3 WHERE consumer = $1 AND seq = $2", &[consumer, &from, &to])
        .await?;
    if updated == 1 {
        return Ok(());
    }
    // Never seen counts as standing at 0.
    if *expected == 0 {
        let inserted = connection
            .execute(
                "INSERT INTO cursors (consumer, seq) VALUES ($1, $2) ON CONFLICT (consumer) DO NOTHING",
                &[consumer, &to],
            )
            .await?;
        if inserted == 1 {
            return Ok(());
        }
    }
    Err(moved(stored(connection, consumer).await?.unwrap_or(0)))
}

pub(crate) async fn stored(connection: &Connection, consumer: &str) -> StoreResult<Option<Seq>> {
    let row = connection.query_opt("SELECT seq FROM cursors WHERE consumer = $1", &[&consumer]).await?;
    row.map(|row| get_u64(&row, 0)).transpose()
}
