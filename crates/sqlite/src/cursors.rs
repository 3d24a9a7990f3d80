//! The followers' cursors in SQLite. A move is one immediate transaction on the writer's
//! connection: the compare, the head check and the write see the same database, and no append
//! can land between them.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tryvoha_core::Seq;
use tryvoha_store::{CursorMove, CursorStore, StoreError, StoreResult};

use crate::{SqliteStore, last_seq, unavailable};

impl CursorStore for SqliteStore {
    fn stored_cursor(&self, consumer: &str) -> StoreResult<Option<Seq>> {
        stored(&self.reader(), consumer)
    }

    fn set_cursor(&self, consumer: &str, expected: Seq, to: Seq) -> StoreResult<()> {
        self.set_cursors(&[CursorMove { consumer: consumer.to_owned(), expected, to }])
    }

    fn set_cursors(&self, moves: &[CursorMove]) -> StoreResult<()> {
        if moves.is_empty() {
            return Ok(());
        }
        let mut connection = self.writer();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(unavailable)?;
        let head = last_seq(&transaction)?;
        for CursorMove { consumer, expected, to } in moves {
            let actual = stored(&transaction, consumer)?.unwrap_or(0);
            if actual != *expected {
                return Err(StoreError::CursorMoved { consumer: consumer.clone(), expected: *expected, actual });
            }
            if *to > head {
                return Err(StoreError::CursorBeyondHead { consumer: consumer.clone(), to: *to, head });
            }
            transaction
                .execute(
                    "INSERT INTO cursors (consumer, seq) VALUES (?1, ?2) \
                     ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq",
                    params![consumer, to],
                )
                .map_err(unavailable)?;
        }
        // An early return above drops the transaction, which rolls every move back.
        transaction.commit().map_err(unavailable)
    }

    fn remove_cursor(&self, consumer: &str) -> StoreResult<()> {
        let connection = self.writer();
        connection.execute("DELETE FROM cursors WHERE consumer = ?1", [consumer]).map_err(unavailable)?;
        Ok(())
    }
}

fn stored(connection: &Connection, consumer: &str) -> StoreResult<Option<Seq>> {
    connection
        .query_row("SELECT seq FROM cursors WHERE consumer = ?1", [consumer], |row| row.get(0))
        .optional()
        .map_err(unavailable)
}
