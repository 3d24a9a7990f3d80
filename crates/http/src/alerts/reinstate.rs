//! `POST /alerts/{id}/reinstate`: one action takes back an all-clear that was sent in error.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;
use tryvoha_core::{AlertId, Command};

use super::{AlertWithChanges, IDEMPOTENCY_KEY, alert_id, declaration_answer, execute, idempotency_key};
use crate::AppState;
use crate::auth::{Authorized, Writers};
use crate::openapi;
use crate::problem::ApiError;

/// What an `Idempotency-Key` of a reinstatement is bound to: the alert it names (it has no body).
#[derive(Serialize)]
struct Reinstatement {
    reinstate: AlertId,
}

#[utoipa::path(
    post, path = "/api/v1/alerts/{id}/reinstate", operation_id = "reinstateAlert", tag = "alerts",
    summary = "Reinstate a cancelled alert (its all-clear was sent in error)",
    description = "Role: operator or admin. An operator may reinstate only alerts in regions inside its subtrees.\n\n\
        A mistaken all-clear is as dangerous as a false alert: this takes it back in one step. The cancelled alert is \
        declared again as a new alert (a new id) with its region, kind, level, status, threats, message and \
        instruction, its `expires_at` if that is still in the future (otherwise none), and `reinstates`: the id of \
        the cancelled alert. It is written as an ordinary `declared` event, so every stream, compatible API, CAP \
        message and feed shows it as a live alert; its CAP message says, in both languages, that the all-clear was \
        sent in error. A drill (`exercise`) or `test` alert is reinstated as one. Any request body is ignored.\n\n\
        The declaration rule holds: when an active alert with the same region, kind and status already exists, it \
        is escalated where the reinstated alert adds something (a higher level, threats, texts, expiry; one \
        `updated` event) and answered with 200; no new alert is made. When an active alert already reinstates this \
        one, nothing is written and the answer is 200 with that alert: a repeated request never declares twice.\n\n\
        With an `Idempotency-Key`, a retried request replays the first answer: 201 if the first request created the \
        alert, 200 otherwise, with the alert as it now stands.",
    params(
        ("id" = tryvoha_core::AlertId, Path,
            description = "The cancelled alert's id. A value that is not a non-negative integer is answered with 404 \
                `alert-not-found` naming `id`."),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255,
            description = IDEMPOTENCY_KEY),
    ),
    security(("bearerAuth" = [])),
    responses(
        (status = 200,
            description = "Nothing new was declared: an active alert already reinstates this one (nothing was written, \
                `changed` is `[]`), or an active alert with the same region, kind and status existed and the \
                reinstatement escalated it as a declaration would (`changed` names what changed, `[]` when nothing \
                did and nothing was written); or this replays such a request.",
            body = AlertWithChanges, content_type = "application/json"),
        (status = 201,
            description = "The alert was declared again: the new alert, with `reinstates` (or this replays the request \
                that declared it).",
            body = tryvoha_core::Alert, content_type = "application/json"),
        (status = 400,
            description = "The `Idempotency-Key` header is empty, longer than 255 characters or not visible ASCII \
                (`field`: `Idempotency-Key`). Problem code: `invalid-header`.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 401, response = openapi::TokenRequired),
        (status = 403, response = openapi::OutOfScope),
        (status = 404, response = openapi::AlertNotFound),
        (status = 409,
            description = "The alert is still active (`alert-active`), or it ended at its expiry time rather than by an \
                all-clear (`not-cancelled`). Nothing is written. Problem codes: `alert-active`, `not-cancelled`.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 422,
            description = "The `Idempotency-Key` was used before with a different request. Problem code: \
                `idempotency-key-reused`.",
            body = openapi::Problem, content_type = "application/problem+json"),
        (status = 429, response = openapi::RateLimited),
        (status = 503, response = openapi::StorageUnavailable),
    )
)]
pub(crate) async fn reinstate(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<Writers>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = alert_id(&id)?;
    let idempotency = idempotency_key(&headers, &principal.owner, &Reinstatement { reinstate: id })?;
    let outcome = execute(&state, &principal, Command::Reinstate { id }, idempotency).await?;
    Ok(declaration_answer(outcome))
}
