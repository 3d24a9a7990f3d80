//! The IoT strings, the same three paths under `/v1` and `/v2`, which differ in how a region
//! under a partial alert is shown. Each version has its own handlers so that each path has its
//! own description in the OpenAPI document.

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;

use super::{Reader, by_oblast, every_uid, one_uid};
use crate::AppState;
use crate::compat::air_raid::IotVersion;

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

async fn by_oblast_v1(reader: Reader) -> Response {
    by_oblast(reader, IotVersion::V1).await
}

async fn every_uid_v1(reader: Reader) -> Response {
    every_uid(reader, IotVersion::V1).await
}

async fn one_uid_v1(reader: Reader, uid: Path<String>) -> Response {
    one_uid(reader, uid, IotVersion::V1).await
}

async fn by_oblast_v2(reader: Reader) -> Response {
    by_oblast(reader, IotVersion::V2).await
}

async fn every_uid_v2(reader: Reader) -> Response {
    every_uid(reader, IotVersion::V2).await
}

async fn one_uid_v2(reader: Reader, uid: Path<String>) -> Response {
    one_uid(reader, uid, IotVersion::V2).await
}
