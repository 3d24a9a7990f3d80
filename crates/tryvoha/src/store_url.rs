//! Which store the server and the offline commands open, named by one URL: the setting `store`
//! (`--store`, `TRYVOHA_STORE`, `store` in the config file).
//!
//! - `sqlite:DIR` (or `sqlite://DIR`): the embedded database, the file `tryvoha.db` in `DIR`.
//!   The default is `sqlite:` and the data directory (`--data`, `./tryvoha-data`), so a server
//!   started with `--data` alone keeps its database where it always was.
//! - `postgres://…` (or `postgresql://…`): a PostgreSQL database (tryvoha-postgres), the store
//!   in the schema named by the cluster name (`--cluster-name`, default `tryvoha`), so that
//!   several clusters can share one database.
//!
//! The data directory stays the server's own place whatever the store: its lock file and its
//! signing key live there. [`open_store`] is the one factory that `serve`, `token reset-admin` and
//! `import history` share.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use tryvoha_postgres::{PostgresStore, SchemaName};
use tryvoha_sqlite::SqliteStore;
use tryvoha_store::{Store, StoreError};

use crate::data_lock::DataDirLock;

/// The name of the embedded database's file in its directory.
pub const SQLITE_FILE: &str = "tryvoha.db";

/// What every parse error ends with: the setting and the forms it takes.
const SUPPORTED: &str = "the setting `store` (--store, TRYVOHA_STORE) takes sqlite:DIR (the embedded database in \
                         DIR; the default is sqlite: and the data directory) or postgres://USER@HOST/DATABASE";

/// A parsed `store` setting.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// The embedded database in this directory ([`SQLITE_FILE`] in it).
    Sqlite { directory: PathBuf },
    /// A PostgreSQL database, as given (shown without its password), and the schema the store
    /// is kept in there: the cluster's name.
    Postgres { url: String, schema: SchemaName },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreUrlError {
    #[error("the store URL is empty; {SUPPORTED}")]
    Empty,
    #[error("the store {given:?} names no kind of store; {SUPPORTED} (did you mean sqlite:{given}?)")]
    NoScheme { given: String },
    #[error("the store kind {scheme:?} is not known; {SUPPORTED}")]
    UnknownScheme { scheme: String },
    #[error("the store sqlite: names no directory; {SUPPORTED}")]
    SqliteWithoutDirectory,
    #[error("the PostgreSQL store names no host; {SUPPORTED}")]
    PostgresWithoutHost,
}

impl StoreUrl {
    pub fn parse(text: &str) -> Result<StoreUrl, StoreUrlError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(StoreUrlError::Empty);
        }
        let Some((scheme, rest)) = text.split_once(':') else {
            return Err(StoreUrlError::NoScheme { given: text.to_owned() });
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                // `sqlite://DIR` as other tools write it: `sqlite:///srv/x` is `/srv/x`.
                let directory = rest.strip_prefix("//").unwrap_or(rest);
                if directory.is_empty() {
                    return Err(StoreUrlError::SqliteWithoutDirectory);
                }
                Ok(StoreUrl::Sqlite { directory: directory.into() })
            }
            "postgres" | "postgresql" => {
                let authority = rest.strip_prefix("//").unwrap_or_default();
                let host = authority.split(['/', '?']).next().unwrap_or_default();
                let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
                if host.is_empty() {
                    return Err(StoreUrlError::PostgresWithoutHost);
                }
                Ok(StoreUrl::Postgres { url: text.to_owned(), schema: SchemaName::default() })
            }
            // A one-letter "scheme" is a Windows drive: a bare path, not an unknown store.
            _ if scheme.len() <= 1 => Err(StoreUrlError::NoScheme { given: text.to_owned() }),
            _ => Err(StoreUrlError::UnknownScheme { scheme: scheme.to_owned() }),
        }
    }

    /// The default: the embedded database in the data directory.
    pub fn in_data_directory(data: &Path) -> StoreUrl {
        StoreUrl::Sqlite { directory: data.to_owned() }
    }

    /// The same store for the cluster `name`: a PostgreSQL store is kept in the schema of that
    /// name; an embedded database, the server's alone, has no use for it.
    pub fn in_cluster(self, name: &SchemaName) -> StoreUrl {
        match self {
            StoreUrl::Postgres { url, .. } => StoreUrl::Postgres { url, schema: name.clone() },
            sqlite @ StoreUrl::Sqlite { .. } => sqlite,
        }
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreUrl::Sqlite { directory } => write!(f, "sqlite:{}", directory.display()),
            StoreUrl::Postgres { url, .. } => f.write_str(&without_password(url)),
        }
    }
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`: logs and errors show
/// which server, never the password.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{path}")
        }
        _ => url.to_owned(),
    }
}

/// Whether [`open_store`] may make a new, empty store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfMissing {
    /// `serve` and imports: a new store is an empty one.
    Create,
    /// `token reset-admin`: no store means a wrong setting, not a new server.
    Refuse,
}

/// Opens the store `url` names: the one factory every command shares.
pub fn open_store(url: &StoreUrl, if_missing: IfMissing) -> anyhow::Result<Arc<dyn Store>> {
    match url {
        StoreUrl::Sqlite { directory } => {
            let database = directory.join(SQLITE_FILE);
            match if_missing {
                IfMissing::Create => std::fs::create_dir_all(directory)
                    .with_context(|| format!("cannot create the store's directory {}", directory.display()))?,
                IfMissing::Refuse if !database.exists() => {
                    bail!("{} holds no tryvoha database; is --data (or --store) right?", directory.display())
                }
                IfMissing::Refuse => {}
            }
            let store = SqliteStore::open(&database).with_context(|| format!("cannot open {}", database.display()))?;
            Ok(Arc::new(store))
        }
        StoreUrl::Postgres { url: given, schema } => {
            let opened = match if_missing {
                IfMissing::Create => PostgresStore::open(given, schema),
                IfMissing::Refuse => PostgresStore::open_existing(given, schema),
            };
            match opened {
                Ok(store) => Ok(Arc::new(store)),
                Err(StoreError::NotFound) => {
                    bail!("{url} holds no tryvoha store in the schema {schema}; are --store and --cluster-name right?")
                }
                Err(error) => Err(error).with_context(|| format!("cannot open the store {url} (schema {schema})")),
            }
        }
    }
}

/// The locks held while a server or `token reset-admin` uses a store, released on drop.
#[derive(Debug)]
pub struct StoreLocks {
    _held: Vec<DataDirLock>,
}

/// Locks the data directory (which must exist) and, for an embedded database in another
/// directory, that directory too: two servers never share one database, whatever their `--data`.
/// With [`IfMissing::Create`] the database's directory is made first; with `Refuse` a missing
/// one is left for [`open_store`] to refuse. A PostgreSQL store is shared by the nodes of a
/// cluster: what must run once there runs under a lease (tryvoha-cluster).
pub fn lock_store(data: &Path, url: &StoreUrl, if_missing: IfMissing) -> anyhow::Result<StoreLocks> {
    let mut held = vec![DataDirLock::acquire(data)?];
    if let StoreUrl::Sqlite { directory } = url {
        if if_missing == IfMissing::Create {
            std::fs::create_dir_all(directory)
                .with_context(|| format!("cannot create the store's directory {}", directory.display()))?;
        }
        if directory.exists() && !same_directory(directory, data)? {
            held.push(DataDirLock::acquire(directory).with_context(|| format!("the store {url} is taken"))?);
        }
    }
    Ok(StoreLocks { _held: held })
}

fn same_directory(a: &Path, b: &Path) -> anyhow::Result<bool> {
    let canonical = |path: &Path| path.canonicalize().with_context(|| format!("cannot resolve {}", path.display()));
    Ok(canonical(a)? == canonical(b)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_the_database_directory() {
        for (text, directory) in [
            ("sqlite:./tryvoha-data", "./tryvoha-data"),
            ("sqlite:/srv/tryvoha", "/srv/tryvoha"),
            ("sqlite:///srv/tryvoha", "/srv/tryvoha"),
            ("sqlite://relative/dir", "relative/dir"),
            (" SQLite:data ", "data"),
        ] {
            assert_eq!(StoreUrl::parse(text).unwrap(), StoreUrl::Sqlite { directory: directory.into() }, "{text}");
        }
        let url = StoreUrl::in_data_directory(Path::new("./tryvoha-data"));
        assert_eq!(url.to_string(), "sqlite:./tryvoha-data");
        assert_eq!(StoreUrl::parse(&url.to_string()).unwrap(), url, "the default reads back as itself");
    }

    #[test]
    fn postgres_urls_parse_and_never_show_their_password() {
        let url = StoreUrl::parse("postgres://tryvoha:s3cret@db.example.org:5432/alerts?sslmode=require").unwrap();
        assert_eq!(url.to_string(), "postgres://tryvoha:***@db.example.org:5432/alerts?sslmode=require");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(StoreUrl::parse("postgresql://db/alerts").is_ok());
        assert_eq!(
            StoreUrl::parse("postgres://tryvoha@db/alerts").unwrap().to_string(),
            "postgres://tryvoha@db/alerts"
        );
    }

    #[test]
    fn bad_urls_name_the_setting_and_the_forms_it_takes() {
        for (text, names) in [
            ("", "empty"),
            ("./tryvoha-data", "sqlite:./tryvoha-data"),
            ("C:\\tryvoha", "names no kind"),
            ("mysql://db/alerts", "\"mysql\""),
            ("sqlite:", "no directory"),
            ("sqlite://", "no directory"),
            ("postgres://", "no host"),
            ("postgres:alerts", "no host"),
            ("postgres://user:pw@/alerts", "no host"),
        ] {
            let error = StoreUrl::parse(text).unwrap_err().to_string();
            assert!(error.contains(names), "{text:?}: {error}");
            assert!(error.contains("`store` (--store, TRYVOHA_STORE)"), "{text:?}: {error}");
            assert!(error.contains("sqlite:DIR") && error.contains("postgres://"), "{text:?}: {error}");
            assert!(!error.contains("pw@"), "{error}");
        }
    }

    #[test]
    fn a_postgres_store_is_kept_in_the_schema_of_its_cluster() {
        let url = StoreUrl::parse("postgres://tryvoha@db/alerts").unwrap();
        let StoreUrl::Postgres { schema, .. } = &url else { panic!("{url:?}") };
        assert_eq!(schema.as_str(), "tryvoha", "the default cluster name");
        let east = SchemaName::parse("east").unwrap();
        let StoreUrl::Postgres { schema, .. } = url.in_cluster(&east) else { panic!() };
        assert_eq!(schema, east);
        let sqlite = StoreUrl::in_data_directory(Path::new("data"));
        assert_eq!(sqlite.clone().in_cluster(&east), sqlite, "an embedded database is the server's alone");
    }

    #[test]
    fn a_postgres_store_that_cannot_be_opened_is_named_without_its_password() {
        // Nothing listens on port 1: refused at once, no server needed.
        let url = StoreUrl::parse("postgres://tryvoha:s3cret@127.0.0.1:1/alerts?connect_timeout=2").unwrap();
        let error = format!("{:#}", open_store(&url, IfMissing::Create).err().unwrap());
        assert!(error.contains("cannot open the store postgres://tryvoha:***@127.0.0.1:1/alerts"), "{error}");
        assert!(error.contains("(schema tryvoha)"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
    }

    #[test]
    fn a_missing_database_is_created_or_refused_as_asked() {
        let dir = tempfile::tempdir().unwrap();
        let url = StoreUrl::in_data_directory(&dir.path().join("new"));
        let error = open_store(&url, IfMissing::Refuse).err().unwrap().to_string();
        assert!(error.contains("holds no tryvoha database"), "{error}");
        assert!(!dir.path().join("new").exists(), "a refusal creates nothing");
        let store = open_store(&url, IfMissing::Create).unwrap();
        assert_eq!(store.last_seq().unwrap(), 0);
        drop(store);
        assert!(open_store(&url, IfMissing::Refuse).is_ok(), "once made, it opens");
    }

    #[test]
    fn a_database_outside_the_data_directory_is_locked_too() {
        let (data, elsewhere, other_data) =
            (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let url = StoreUrl::Sqlite { directory: elsewhere.path().join("db") };
        let held = lock_store(data.path(), &url, IfMissing::Create).unwrap();
        let error = lock_store(other_data.path(), &url, IfMissing::Create).unwrap_err();
        assert!(format!("{error:#}").contains("is in use by another tryvoha"), "{error:#}");
        drop(held);
        assert!(lock_store(other_data.path(), &url, IfMissing::Create).is_ok(), "released on drop");
        let inside = StoreUrl::in_data_directory(data.path());
        assert!(lock_store(data.path(), &inside, IfMissing::Create).is_ok(), "the default takes one lock, not two");
    }
}
