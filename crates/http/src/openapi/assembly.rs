//! The document assembled: its description, tags, every operation, the shared components and
//! the one security scheme.

use utoipa::Modify;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr};

use super::*;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "tryvoha",
        description = include_str!("description.md"),
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "alerts", description = "Declare, update, cancel, reinstate and read alerts."),
        (name = "regions", description = "The region registry with each region's live state."),
        (name = "events", description = "The raw event log (admin)."),
        (name = "tokens", description = "API tokens (admin)."),
        (name = "webhooks", description = "Signed webhooks from the durable log (admin)."),
        (name = "push", description = "Web Push and UnifiedPush subscriptions (anonymous)."),
        (name = "service", description = "Health and this description."),
        (name = "streams", description = "Live delivery: SSE, WebSocket, signing keys."),
        (name = "places", description = "Location lookup, map layers and shelters."),
        (name = "incidents", description = "Incidents reported by responders, linked to the alerts."),
        (name = "history", description = "Statistics and history export."),
        (name = "compatible", description = "alerts.in.ua and ukrainealarm compatible APIs."),
        (name = "cap", description = "OASIS CAP 1.2 out and in."),
        (name = "pages", description = "The web pages (HTML) and their assets."),
    ),
    paths(
        crate::health::health, crate::health::ready, super::document, crate::alerts::declare,
        crate::alerts::read::active, crate::alerts::read::one, crate::alerts::update, crate::alerts::cancel,
        crate::alerts::reinstate::reinstate, crate::alerts::deliveries::deliveries,
        crate::webhooks::create, crate::webhooks::list, crate::webhooks::one, crate::webhooks::change,
        crate::webhooks::remove, crate::webhooks::test, crate::webhooks::deliveries,
        crate::push::vapid_key, crate::push::subscribe, crate::push::unsubscribe,
        crate::regions::list, crate::regions::one, crate::regions::shelter_time::change, crate::events::page, crate::tokens::list,
        crate::tokens::create, crate::tokens::own, crate::tokens::revoke, crate::transport::sse::handler, crate::stream::websocket::websocket,
        crate::stream::keys, crate::stream::metrics, crate::places::locate, crate::places::boundaries,
        crate::places::shelters::list_shelters, crate::places::shelters::add_shelter,
        crate::places::shelters::import_shelters, crate::places::nearest::nearest,
        crate::places::shelter_status::change, crate::incidents::write::report, crate::incidents::write::change,
        crate::incidents::read::list, crate::incidents::read::one, crate::alerts::report::report, crate::alerts::report::report_csv,
        crate::places::shelters::one_shelter, crate::places::shelters::update_shelter,
        crate::places::shelters::remove_shelter, crate::history::region, crate::history::summary,
        crate::history::history_json, crate::history::history_csv, crate::compat::alerts_in_ua::active,
        crate::compat::alerts_in_ua::history, crate::compat::alerts_in_ua::iot::by_oblast_v1,
        crate::compat::alerts_in_ua::iot::every_uid_v1, crate::compat::alerts_in_ua::iot::one_uid_v1,
        crate::compat::alerts_in_ua::iot::by_oblast_v2, crate::compat::alerts_in_ua::iot::every_uid_v2,
        crate::compat::alerts_in_ua::iot::one_uid_v2, crate::compat::ukrainealarm::regions,
        crate::compat::ukrainealarm::all_alerts, crate::compat::ukrainealarm::status,
        crate::compat::ukrainealarm::region_history, crate::compat::ukrainealarm::region_alerts,
        crate::compat::ukrainealarm_webhook::subscribe, crate::compat::ukrainealarm_webhook::change,
        crate::compat::ukrainealarm_webhook::unsubscribe,
        crate::cap::ingest::receive, crate::cap::publish::feed, crate::problem_pages::page,
        crate::pages::views::map, crate::pages::views::region, crate::pages::views::shelters,
        crate::pages::views::console, crate::pages::report::page, crate::pages::assets::asset, crate::pages::app::manifest,
        crate::pages::app::service_worker
    ),
    components(
        schemas(StreamState, StreamEvent, crate::places::Detail, HistoryPage),
        responses(
            NotFound, MethodNotAllowed, RateLimited, AdminOnly, AlertFinished, AlertNotFound,
            BodyTooLarge, BodyUnreadable, CompatAnswer, CompatKeyMissing, CompatNotModified,
            CompatRateLimited, CompatTokenRefused, CompatUnavailable, CompatUnknownLocation,
            HistoryQueryInvalid, NotAdmin, OutOfScope, OutsideRegions, PlaceQueryInvalid,
            ShelterBodyUnreadable, ShelterNotFound, WebhookNotFound, StatsQueryInvalid, StorageUnavailable,
            StreamQueryInvalid, StreamRateLimited, TokenRefused, TokenRequired, TokenStoreUnavailable,
            UnsupportedMediaType, RegionNotFound, ShelterFieldInvalid, PageQueryInvalid, NotResponder
        ),
    ),
    modifiers(&BearerAuth, &FrameSchemas),
)]
pub(super) struct ApiDoc;

/// `bearerAuth`, the scheme the operations that need a token name.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(
            "`Authorization: Bearer <token>`: a token created with POST /api/v1/tokens (`tv_…`) or the admin token \
             given in the server's configuration. Roles: admin, operator, responder, reader.",
        ));
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearerAuth", SecurityScheme::Http(scheme.build()));
    }
}

/// The schema of each frame's `data` on the event stream, by event name (`x-frame-schemas`):
/// OpenAPI 3.1 has no keyword for the frames of `text/event-stream`.
struct FrameSchemas;

impl Modify for FrameSchemas {
    fn modify(&self, openapi: &mut OpenApi) {
        let Some(stream) = openapi.paths.paths.get_mut("/api/v1/stream") else { return };
        let Some(operation) = stream.get.as_mut() else { return };
        let Some(RefOr::T(answer)) = operation.responses.responses.get_mut("200") else { return };
        let Some(RefOr::T(content)) = answer.content.get_mut("text/event-stream") else { return };
        let frames = serde_json::json!({
            "snapshot": { "$ref": "#/components/schemas/StreamState" },
            "declared": { "$ref": "#/components/schemas/StreamEvent" },
            "updated": { "$ref": "#/components/schemas/StreamEvent" },
            "cancelled": { "$ref": "#/components/schemas/StreamEvent" },
            "expired": { "$ref": "#/components/schemas/StreamEvent" },
            "incident_reported": { "$ref": "#/components/schemas/StreamEvent" },
            "incident_updated": { "$ref": "#/components/schemas/StreamEvent" },
            "incident_closed": { "$ref": "#/components/schemas/StreamEvent" },
            "shelter_status": { "$ref": "#/components/schemas/StreamEvent" },
        });
        let extensions = ExtensionsBuilder::new().add("x-frame-schemas", frames).build();
        content.extensions.get_or_insert_with(Default::default).merge(extensions);
    }
}
