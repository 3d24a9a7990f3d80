//! The store contract, against the real PostgreSQL (`TRYVOHA_TEST_POSTGRES_URL`), each check in
//! a schema of its own.

mod support;

tryvoha_store::store_contract_tests!(
    #[cfg_attr(not(postgres_tests), ignore = "needs PostgreSQL: set TRYVOHA_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test)")]
    run: support::with_fresh_store,
    reopen: support::reopenable()
);
