//! `tryvoha token reset-admin --data DIR`: a new admin token, made offline, for when the last
//! one is lost. It works on the store directly. On the embedded store the server must be
//! stopped: it takes the locks a server takes (`store_url::lock_store`), and refuses (naming
//! the server) while one holds them. A PostgreSQL store's nodes look tokens up in the store on
//! every request, so a token made there works on every node at once.

use anyhow::Context;
use clap::Args;

use crate::cli::StoreArgs;
use crate::store_url::{IfMissing, lock_store, open_store};

#[derive(Args)]
pub struct ResetAdminArgs {
    #[command(flatten)]
    store: StoreArgs,
}

pub fn run(args: ResetAdminArgs) -> anyhow::Result<()> {
    let settings = args.store.load()?;
    if !settings.data.is_dir() {
        anyhow::bail!("{} is no tryvoha data directory; is --data right?", settings.data.display());
    }
    let _locks = lock_store(&settings.data, &settings.store, IfMissing::Refuse)?;
    let store = open_store(&settings.store, IfMissing::Refuse)?;
    let (record, secret) = tryvoha_engine::reset_admin(store.as_ref(), time::OffsetDateTime::now_utc())
        .context("cannot create the admin token")?;
    println!("admin token {} created; its secret is shown only now:\n\n    {secret}\n", record.id);
    Ok(())
}
