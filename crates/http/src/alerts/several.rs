//! A declaration for several regions at once (`region_ids`): which regions, the declarations
//! made of the body, how a refusal names its region, and the answer, one entry per region.

use axum::http::StatusCode;
use serde::Serialize;
use tryvoha_core::{Alert, AlertError, Declaration, RegionId};
use tryvoha_engine::{EngineError, Outcome};

use super::{AlertWithChanges, DeclareBody};
use crate::openapi;
use crate::problem::ApiError;

/// The most regions one declaration may name (as many as a stream filter takes).
pub(super) const MAX_REGIONS: usize = 512;

pub(crate) enum Targets {
    One(RegionId),
    Several(Vec<RegionId>),
}

/// `region_id` or `region_ids`, exactly one of them; a list is non-empty, bounded and names
/// each region once.
pub(crate) fn declared_regions(body: &DeclareBody) -> Result<Targets, ApiError> {
    match (body.region_id, &body.region_ids) {
        (Some(region), None) => Ok(Targets::One(region)),
        (None, None) => {
            Err(ApiError::invalid_field("region_id", "give the region: region_id, or region_ids for several"))
        }
        (Some(_), Some(_)) => Err(ApiError::invalid_field("region_ids", "give region_id or region_ids, not both")),
        (None, Some(regions)) if regions.is_empty() => {
            Err(ApiError::invalid_field("region_ids", "region_ids names no region"))
        }
        (None, Some(regions)) if regions.len() > MAX_REGIONS => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "list-too-long",
            format!("region_ids names {} regions; at most {MAX_REGIONS} are taken", regions.len()),
        )
        .with_field("region_ids")),
        (None, Some(regions)) => {
            for (index, region) in regions.iter().enumerate() {
                if regions[..index].contains(region) {
                    return Err(ApiError::invalid_field(
                        format!("region_ids[{index}]"),
                        format!("region {} is named twice", region.0),
                    ));
                }
            }
            Ok(Targets::Several(regions.clone()))
        }
    }
}

pub(super) fn declaration(body: &DeclareBody, region_id: RegionId) -> Declaration {
    Declaration {
        region_id,
        kind: body.kind,
        level: body.level,
        status: body.status,
        threats: body.threats.clone(),
        message: body.message.clone(),
        instruction: body.instruction.clone(),
        expires_at: body.expires_at,
    }
}

/// A refusal about one region of several names it by its place in `region_ids`.
pub(super) fn blame_region(error: EngineError, regions: &[RegionId]) -> ApiError {
    let region = match &error {
        EngineError::OutOfScope { region } => Some(*region),
        EngineError::Alert(AlertError::UnknownRegion { id }) => Some(*id),
        _ => None,
    };
    let index = region.and_then(|region| regions.iter().position(|r| *r == region));
    let api = ApiError::from(error);
    match index {
        Some(index) => api.with_field(format!("region_ids[{index}]")),
        None => api,
    }
}

/// The answer to a declaration for several regions: one entry per region, in the order given.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct DeclaredAlerts {
    pub(super) alerts: Vec<DeclaredAlert>,
}

/// An alert a declaration for several regions created (`created`) or met already active, with
/// what it changed in that one (`changed`, `[]` for a new alert).
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct DeclaredAlert {
    #[serde(flatten)]
    alert: Alert,
    created: bool,
    #[schema(value_type = Vec<openapi::ChangedField>)]
    changed: Vec<&'static str>,
}

/// What a declaration that created an alert answers: for one region the alert, for several one
/// entry per region.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // only described; the handlers build the shapes themselves
pub(super) enum Declared {
    One(Box<Alert>),
    Several(DeclaredAlerts),
}

/// What a declaration that met active alerts answers: for one region the alert with what changed,
/// for several one entry per region.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // only described; the handlers build the shapes themselves
pub(super) enum Escalated {
    One(Box<AlertWithChanges>),
    Several(DeclaredAlerts),
}

impl From<Outcome> for DeclaredAlert {
    fn from(outcome: Outcome) -> DeclaredAlert {
        DeclaredAlert {
            created: outcome.created,
            changed: outcome.changed.iter().map(|field| field.as_str()).collect(),
            alert: outcome.alert,
        }
    }
}
