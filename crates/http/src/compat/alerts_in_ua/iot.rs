//! The IoT strings, the same three paths under `/v1` and `/v2`, which differ in how a region
//! under a partial alert is shown. Each version has its own handlers so that each path has its
//! own description in the OpenAPI document.

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;

use super::{Reader, by_oblast, every_uid, one_uid};
use crate::AppState;
use crate::compat::DESCRIPTION;
use crate::openapi;
use tryvoha_compat::IotVersion;

pub(super) fn router(version: IotVersion) -> Router<AppState> {
    match version {
        IotVersion::V1 => Router::new()
            .route("/iot/active_air_raid_alerts_by_oblast.json", get(by_oblast_v1))
            .route("/iot/active_air_raid_alerts.json", get(every_uid_v1))
            .route("/iot/active_air_raid_alerts/{uid}", get(one_uid_v1)),
        IotVersion::V2 => Router::new()
            .route("/iot/active_air_raid_alerts_by_oblast.json", get(by_oblast_v2))
            .route("/iot/active_air_raid_alerts.json", get(every_uid_v2))
            .route("/iot/active_air_raid_alerts/{uid}", get(one_uid_v2)),
    }
}

/// The three handlers of one version, each with its own path in the OpenAPI document.
// rustfmt indents the attributes' bodies further on every run.
#[rustfmt::skip]
macro_rules! iot_handlers {
    ($version:expr, $id:literal, $summary:literal, $by_oblast:ident = $by_oblast_path:literal,
     $every_uid:ident = $every_uid_path:literal, $one_uid:ident = $one_uid_path:literal) => {
        #[utoipa::path(
            get, path = $by_oblast_path, tag = "compatible",
            operation_id = concat!("compat_", $id, "_iot_active_air_raid_alerts_by_oblast_json"),
            summary = concat!($summary, ": 27 letters, one per oblast in a fixed order"),
            description = DESCRIPTION,
            responses(openapi::CompatAnswers)
        )]
        async fn $by_oblast(reader: Reader) -> Response {
            by_oblast(reader, $version).await
        }

        #[utoipa::path(
            get, path = $every_uid_path, tag = "compatible",
            operation_id = concat!("compat_", $id, "_iot_active_air_raid_alerts_json"),
            summary = concat!($summary, ": one letter per uid"),
            description = DESCRIPTION,
            responses(openapi::CompatAnswers)
        )]
        async fn $every_uid(reader: Reader) -> Response {
            every_uid(reader, $version).await
        }

        #[utoipa::path(
            get, path = $one_uid_path, tag = "compatible",
            operation_id = concat!("compat_", $id, "_iot_active_air_raid_alerts_uid"),
            summary = concat!($summary, ": one letter ({uid}.json)"),
            description = DESCRIPTION,
            params(("uid" = String, Path)),
            responses(openapi::CompatAnswers, (status = 404, response = openapi::CompatUnknownLocation))
        )]
        async fn $one_uid(reader: Reader, uid: Path<String>) -> Response {
            one_uid(reader, uid, $version).await
        }
    };
}

iot_handlers!(
    IotVersion::V1,
    "v1",
    "alerts.in.ua IoT",
    by_oblast_v1 = "/v1/iot/active_air_raid_alerts_by_oblast.json",
    every_uid_v1 = "/v1/iot/active_air_raid_alerts.json",
    one_uid_v1 = "/v1/iot/active_air_raid_alerts/{uid}"
);

iot_handlers!(
    IotVersion::V2,
    "v2",
    "alerts.in.ua IoT v2 (R/Y)",
    by_oblast_v2 = "/v2/iot/active_air_raid_alerts_by_oblast.json",
    every_uid_v2 = "/v2/iot/active_air_raid_alerts.json",
    one_uid_v2 = "/v2/iot/active_air_raid_alerts/{uid}"
);
