//! The data directory's lock: one server (or offline admin command) per data directory.
//!
//! Two servers on one directory would both open the database; the second could never write
//! (the first holds the log's head) yet would report healthy. So whoever opens the directory
//! first takes an exclusive lock on `tryvoha.lock` in it, and writes its pid and start time
//! there so that the next one can say who holds it. The operating system releases the lock
//! when the holder exits, however it exits, so a stale file never blocks a restart.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The lock file's name inside the data directory.
pub const LOCK_FILE: &str = "tryvoha.lock";

/// Held while the directory is in use; dropping it releases the lock.
#[derive(Debug)]
pub struct DataDirLock {
    // Never read: holding the open file is what holds the lock.
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum DataDirLockError {
    #[error("the data directory {} is in use by another tryvoha ({holder}); stop it first or choose another --data", directory.display())]
    Held { directory: PathBuf, holder: String },
    #[error("cannot lock the data directory {}", directory.display())]
    Io {
        directory: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl DataDirLock {
    /// Takes the lock on `directory` (which must exist), or says who holds it.
    pub fn acquire(directory: &Path) -> Result<DataDirLock, DataDirLockError> {
        let io = |source| DataDirLockError::Io { directory: directory.to_owned(), source };
        let path = directory.join(LOCK_FILE);
        // Not truncated on open: the holder's pid and start time must stay readable to the loser.
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = describe_holder(holder.trim());
                return Err(DataDirLockError::Held { directory: directory.to_owned(), holder });
            }
            Err(TryLockError::Error(source)) => return Err(io(source)),
        }
        let started = OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default();
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "pid {} started {started}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(DataDirLock { _file: file })
    }
}

fn describe_holder(written: &str) -> String {
    if written.is_empty() { "a process that has not yet said which".to_owned() } else { written.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_names_the_first_holder() {
        let directory = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(directory.path()).unwrap();
        let error = DataDirLock::acquire(directory.path()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(&directory.path().display().to_string()), "{message}");
        assert!(message.contains(&format!("pid {}", std::process::id())), "{message}");
        assert!(message.contains("started 20"), "{message}");
        drop(first);
        DataDirLock::acquire(directory.path()).expect("released when the holder lets go");
    }
}
