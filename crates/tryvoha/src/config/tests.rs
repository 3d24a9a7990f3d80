use super::*;

#[test]
fn defaults_apply_when_nothing_is_said() {
    let settings = Settings::resolve(FlagSettings::default(), FileSettings::default()).unwrap();
    assert_eq!(settings.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(settings.data, PathBuf::from(DEFAULT_DATA));
    assert!(settings.admin_token.is_none());
    assert_eq!(settings.drain_deadline, std::time::Duration::from_secs(DEFAULT_DRAIN_SECS));
    assert_eq!(settings.stream_write_timeout, std::time::Duration::from_secs(DEFAULT_STREAM_WRITE_TIMEOUT_SECS));
}

#[test]
fn the_file_beats_defaults_and_flags_or_env_beat_the_file() {
    let file =
        FileSettings { listen: Some("127.0.0.1:9000".into()), data: Some("/srv/file".into()), ..Default::default() };
    let from_file = Settings::resolve(
        FlagSettings::default(),
        toml::from_str("listen = \"127.0.0.1:9000\"\ndata = \"/srv/file\"").unwrap(),
    )
    .unwrap();
    assert_eq!((from_file.listen.port(), from_file.data.clone()), (9000, PathBuf::from("/srv/file")));
    let flags = FlagSettings { listen: Some("127.0.0.1:9100".into()), ..Default::default() };
    let settings = Settings::resolve(flags, file).unwrap();
    assert_eq!(settings.listen.port(), 9100, "flag (or its env variable) wins over the file");
    assert_eq!(settings.data, PathBuf::from("/srv/file"), "the file still gives what flags leave out");
}

#[test]
fn the_store_is_the_database_in_the_data_directory_unless_said() {
    let default = Settings::resolve(FlagSettings::default(), FileSettings::default()).unwrap();
    assert_eq!(default.store, StoreUrl::in_data_directory(Path::new(DEFAULT_DATA)));
    let moved = FlagSettings { data: Some("/srv/tryvoha".into()), ..Default::default() };
    let settings = Settings::resolve(moved, FileSettings::default()).unwrap();
    assert_eq!(settings.store.to_string(), "sqlite:/srv/tryvoha", "--data alone moves the database with it");
    let file: FileSettings = toml::from_str("store = \"sqlite:/var/lib/tryvoha\"").unwrap();
    let flags = FlagSettings { data: Some("/srv/tryvoha".into()), ..Default::default() };
    let settings = Settings::resolve(flags, file).unwrap();
    assert_eq!(settings.store.to_string(), "sqlite:/var/lib/tryvoha", "a said store wins over the data directory");
    assert_eq!(settings.data, PathBuf::from("/srv/tryvoha"));
    let bad = FlagSettings { store: Some("redis://cache".into()), ..Default::default() };
    let error = Settings::resolve(bad, FileSettings::default()).err().unwrap().to_string();
    assert!(error.contains("redis") && error.contains("--store"), "{error}");
}

#[test]
fn the_cluster_name_names_the_postgres_schema() {
    let default = Settings::resolve(FlagSettings::default(), FileSettings::default()).unwrap();
    assert_eq!(default.cluster_name.as_str(), "tryvoha");
    let file: FileSettings = toml::from_str("cluster_name = \"east\"\nstore = \"postgres://t@db/alerts\"").unwrap();
    let settings = Settings::resolve(FlagSettings::default(), file.clone()).unwrap();
    assert!(
        matches!(&settings.store, StoreUrl::Postgres { schema, .. } if schema.as_str() == "east"),
        "{:?}",
        settings.store
    );
    let flags = FlagSettings { cluster_name: Some("west".into()), ..Default::default() };
    let settings = Settings::resolve(flags, file).unwrap();
    assert!(matches!(&settings.store, StoreUrl::Postgres { schema, .. } if schema.as_str() == "west"), "flag wins");
    assert_eq!(default.signing_key_file, std::path::Path::new("./tryvoha-data/signing-key"), "in the data directory");
    let file: FileSettings = toml::from_str("signing_key_file = \"/etc/tryvoha/cluster-key\"").unwrap();
    let shared = Settings::resolve(FlagSettings::default(), file).unwrap();
    assert_eq!(shared.signing_key_file, std::path::Path::new("/etc/tryvoha/cluster-key"), "one file for every node");
    let bad = FlagSettings { cluster_name: Some("East-1".into()), ..Default::default() };
    let error = format!("{:#}", Settings::resolve(bad, FileSettings::default()).err().unwrap());
    assert!(error.contains("cluster_name (--cluster-name)") && error.contains("\"East-1\""), "{error}");
}

#[test]
fn the_bus_is_a_nats_url_beside_a_postgres_store() {
    let default = Settings::resolve(FlagSettings::default(), FileSettings::default()).unwrap();
    assert_eq!(default.bus, None, "no bus unless one is set");
    let file: FileSettings =
        toml::from_str("store = \"postgres://tryvoha@db/alerts\"\nbus = \"nats://127.0.0.1:4222\"").unwrap();
    let cluster = Settings::resolve(FlagSettings::default(), file).unwrap();
    assert_eq!(cluster.bus.as_deref(), Some("nats://127.0.0.1:4222"));

    let not_nats = FlagSettings {
        store: Some("postgres://tryvoha@db/alerts".into()),
        bus: Some("http://127.0.0.1:4222".into()),
        ..Default::default()
    };
    let error = format!("{:#}", Settings::resolve(not_nats, FileSettings::default()).err().unwrap());
    assert!(error.contains("\"http://127.0.0.1:4222\"") && error.contains("--bus"), "{error}");
    let alone = FlagSettings { bus: Some("nats://127.0.0.1:4222".into()), ..Default::default() };
    let error = format!("{:#}", Settings::resolve(alone, FileSettings::default()).err().unwrap());
    assert!(error.contains("bus (--bus)") && error.contains("PostgreSQL"), "{error}");
}

#[test]
fn the_compiled_in_example_parses_and_unknown_keys_are_refused() {
    let example: FileSettings = toml::from_str(EXAMPLE).unwrap();
    assert_eq!(example, FileSettings::default(), "the example shows every option commented out");
    assert!(toml::from_str::<FileSettings>("lisen = \"x\"").is_err());
    assert!(
        toml::from_str::<FileSettings>("admin_token = \"a-secret-in-a-file\"").is_err(),
        "secrets go in their own file"
    );
}

#[test]
fn the_public_url_and_cap_age_are_checked() {
    let said = |url: &str| FlagSettings { public_url: Some(url.into()), ..Default::default() };
    let settings = Settings::resolve(said("https://alerts.example.org/"), FileSettings::default()).unwrap();
    assert_eq!(settings.public_url.as_deref(), Some("https://alerts.example.org"));
    assert_eq!(settings.cap_max_age, std::time::Duration::from_secs(DEFAULT_CAP_MAX_AGE_SECS));
    for bad in ["alerts.example.org", "ftp://x", "https://", "https://a\"b", "https://a b"] {
        assert!(Settings::resolve(said(bad), FileSettings::default()).is_err(), "{bad}");
    }
    let young = FlagSettings { cap_max_age_secs: Some(5), ..Default::default() };
    assert!(Settings::resolve(young, FileSettings::default()).is_err());
}

#[test]
fn limits_come_from_the_file_and_bad_proxies_or_origins_are_named() {
    let file: FileSettings = toml::from_str(
        "trusted_proxies = [\"127.0.0.1/32\", \"::1\"]\nrate_limit = 0\ncors_origins = [\"https://map.example.org\"]",
    )
    .unwrap();
    let settings = Settings::resolve(FlagSettings::default(), file).unwrap();
    assert_eq!(settings.limits.requests_per_minute, 0);
    assert!(settings.limits.trusted_proxies.contains("::1".parse().unwrap()));
    assert!(settings.cors.read_origin(b"https://other.example.org").is_none());
    let defaults = Settings::resolve(FlagSettings::default(), FileSettings::default()).unwrap();
    assert_eq!(defaults.limits.max_connections_per_client, DEFAULT_MAX_CONNECTIONS_PER_CLIENT);
    assert!(defaults.cors.read_origin(b"https://anyone.example").is_some(), "public reads are open to any page");
    let proxies = FlagSettings { trusted_proxies: Some(vec!["10.0.0.0/99".into()]), ..Default::default() };
    let error = Settings::resolve(proxies, FileSettings::default()).err().unwrap();
    assert!(error.to_string().contains("10.0.0.0/99"), "{error}");
    let origins = FlagSettings { cors_write_origins: Some(vec!["console.example".into()]), ..Default::default() };
    assert!(Settings::resolve(origins, FileSettings::default()).is_err());
}

#[test]
fn the_authority_defaults_to_the_cap_sender() {
    let flags = FlagSettings { cap_sender: Some("dsns.gov.ua".into()), ..Default::default() };
    assert_eq!(Settings::resolve(flags, FileSettings::default()).unwrap().authority, "dsns.gov.ua");
    let flags = FlagSettings { authority: Some(" ДСНС України ".into()), ..Default::default() };
    assert_eq!(Settings::resolve(flags, FileSettings::default()).unwrap().authority, "ДСНС України");
    let blank = FlagSettings { authority: Some("  ".into()), ..Default::default() };
    assert!(Settings::resolve(blank, FileSettings::default()).is_err());
}

#[test]
fn bad_values_get_clear_errors_and_secrets_stay_hidden() {
    let flags = FlagSettings { listen: Some("nowhere".into()), ..Default::default() };
    let error = Settings::resolve(flags, FileSettings::default()).err().unwrap();
    assert!(error.to_string().contains("nowhere"));
    let short = FlagSettings { admin_token: Some("short".into()), ..Default::default() };
    assert!(Settings::resolve(short, FileSettings::default()).is_err());
    assert_eq!(format!("{:?}", Secret("s3cret-value-1234".into())), "<redacted>");
    let nowhere = FlagSettings { shelter_max_distance_m: Some(0), ..Default::default() };
    let error = Settings::resolve(nowhere, FileSettings::default()).err().unwrap();
    assert!(error.to_string().contains("shelter_max_distance_m"), "{error}");
    let no_drain = FlagSettings { drain_secs: Some(0), ..Default::default() };
    let error = Settings::resolve(no_drain, FileSettings::default()).err().unwrap();
    assert!(error.to_string().contains("drain_secs"), "{error}");
    let never_cut = FlagSettings { stream_write_timeout_secs: Some(0), ..Default::default() };
    let error = Settings::resolve(never_cut, FileSettings::default()).err().unwrap();
    assert!(error.to_string().contains("stream_write_timeout_secs"), "{error}");
}

#[test]
fn the_log_format_is_text_or_json() {
    let resolve = |format: &str| {
        let flags = FlagSettings { log_format: Some(format.into()), ..Default::default() };
        Settings::resolve(flags, FileSettings::default()).map(|s| s.log_format)
    };
    assert_eq!(resolve("json").unwrap(), LogFormat::Json);
    assert_eq!(resolve("text").unwrap(), LogFormat::Text);
    let default = Settings::resolve(FlagSettings::default(), FileSettings::default()).unwrap();
    assert_eq!(default.log_format, LogFormat::Text);
    assert!(resolve("xml").unwrap_err().to_string().contains("xml"));
}

#[test]
fn the_channels_are_off_unless_said_and_their_settings_are_checked() {
    let defaults = Settings::resolve(FlagSettings::default(), FileSettings::default()).unwrap();
    assert!(defaults.mqtt.is_none(), "MQTT is off unless a broker is configured");
    assert_eq!(defaults.webhooks.retry_for, std::time::Duration::from_secs(24 * 3600));
    let file: FileSettings = toml::from_str(
        "[mqtt]\nurl = \"mqtt://broker:1883\"\nha_regions = [\"all-oblasts\"]\nsirens = [31]\n\
         [webhooks]\nallow_private = [\"10.0.0.0/8\"]\nretry_secs = 600",
    )
    .unwrap();
    let flags =
        FlagSettings { mqtt: RawMqtt { prefix: Some("city".into()), ..Default::default() }, ..Default::default() };
    let settings = Settings::resolve(flags, file).unwrap();
    let mqtt = settings.mqtt.expect("configured");
    assert_eq!((mqtt.settings.url.as_str(), mqtt.settings.prefix.as_str()), ("mqtt://broker:1883", "city"));
    assert_eq!(mqtt.ha_regions, HaRegions::AllOblasts);
    assert_eq!(mqtt.settings.sirens, vec![tryvoha_core::RegionId(31)]);
    assert_eq!(settings.webhooks.retry_for, std::time::Duration::from_secs(600));
    for (bad, named) in [
        ("[mqtt]\nurl = \"http://broker\"", "mqtt"),
        ("[mqtt]\nurl = \"mqtt://b\"\nprefix = \"a/#\"", "prefix"),
        ("[mqtt]\nurl = \"mqtt://b\"\nha_regions = [\"kyiv\"]", "ha_regions"),
        ("[mqtt]\nurl = \"mqtt://b\"\nsiren_command_ttl_secs = 1", "siren_command_ttl_secs"),
        ("[webhooks]\nallow_private = [\"10.0.0.0/40\"]", "allow_private"),
        ("[webhooks]\nretry_secs = 0", "retry_secs"),
        ("[mqtt]\nurll = \"x\"", "unknown field"),
    ] {
        let error = toml::from_str::<FileSettings>(bad)
            .map_err(anyhow::Error::from)
            .and_then(|file| Settings::resolve(FlagSettings::default(), file))
            .err()
            .unwrap_or_else(|| panic!("{bad} was accepted"));
        assert!(format!("{error:#}").contains(named), "{bad}: {error:#}");
    }
    let password_alone = FlagSettings {
        mqtt: RawMqtt { url: Some("mqtt://b".into()), password: Some("p".into()), ..Default::default() },
        ..Default::default()
    };
    assert!(Settings::resolve(password_alone, FileSettings::default()).is_err(), "a password needs a username");
}
