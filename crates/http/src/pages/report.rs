//! `/alerts/{id}/report`: the record of an alert as a page, read as the public may (public
//! incidents only, the authority as the actor), whoever asks: a page carries no token.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use tryvoha_web::report_page::{FilledShelter, NightRecord, report_page};

use super::language;
use super::views::{PageQuery, answer, in_context, render_failed};
use crate::AppState;
use crate::alerts::alert_id;
use crate::alerts::report::build;
use crate::body::Query;
use crate::incidents::Viewer;
use crate::openapi;
use crate::problem::ApiError;

#[utoipa::path(
    get, path = "/alerts/{id}/report", operation_id = "reportPage", tag = "pages",
    summary = "The record of an alert",
    description = "HTML: the alert, its timeline, its public incidents and the shelters that filled, with links to \
        the same as JSON and CSV.",
    params(("id" = u64, Path, description = "The alert id."), PageQuery),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 404, response = openapi::AlertNotFound),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
pub(crate) async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (lang, chosen) = language(query.lang.as_deref(), &headers);
    let id = alert_id(&id)?;
    let report = build(&state, &Viewer(None), id).await?;
    let book = state.engine.book();
    let render = in_context(&state, lang, format!("/alerts/{id}/report"), move |context| {
        let filled: Vec<FilledShelter> = report
            .shelters_filled
            .iter()
            .map(|s| FilledShelter {
                name: s.name_uk.clone().unwrap_or_else(|| format!("#{}", s.shelter_id.0)),
                at: s.at,
                occupancy: s.occupancy,
            })
            .collect();
        let record =
            NightRecord { alert: &report.alert, events: &report.events, incidents: &report.incidents, filled: &filled };
        report_page(context, &book, &record)
    });
    let page = crate::rendered::off_workers(move || super::cached::encode(render())).await.map_err(render_failed)?;
    Ok(answer(&page, lang, chosen, &headers))
}
