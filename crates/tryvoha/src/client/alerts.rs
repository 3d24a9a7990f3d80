//! `tryvoha alert declare|update|cancel|reinstate` and `tryvoha alerts`.

use anyhow::bail;
use clap::{Args, Subcommand};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Connection, call, print_json, text};
use crate::region_names::RegionNames;
use crate::say;

#[derive(Subcommand)]
pub enum AlertCommand {
    /// Declare an alert for a region, or for several at once (all or none).
    Declare {
        #[command(flatten)]
        connection: Connection,
        /// Region: id (14), KATOTTG code or name in Ukrainian or English ("Київська область").
        /// Several, comma-separated or repeated (`--region 31,14`), are declared together: all
        /// or none.
        #[arg(long, required = true, value_delimiter = ',')]
        region: Vec<String>,
        /// air_raid, artillery_shelling, urban_fights, chemical or nuclear.
        #[arg(long, default_value = "air_raid")]
        kind: String,
        /// actual, exercise or test.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        fields: AlertFields,
    },
    /// Change an active alert's level, threats, texts or expiry.
    Update {
        #[command(flatten)]
        connection: Connection,
        id: u64,
        #[command(flatten)]
        fields: AlertFields,
    },
    /// Give the all-clear for an alert.
    Cancel {
        #[command(flatten)]
        connection: Connection,
        id: u64,
    },
    /// Take back an all-clear sent in error: declare the cancelled alert again, as a new alert.
    Reinstate {
        #[command(flatten)]
        connection: Connection,
        /// The cancelled alert.
        id: u64,
    },
}

/// What a declaration sets and an update may change.
#[derive(Args)]
pub struct AlertFields {
    /// red or yellow.
    #[arg(long)]
    level: Option<String>,
    /// A threat (drones, ballistic_missiles, ...); repeat for several (an update replaces the list).
    #[arg(long = "threat")]
    threats: Vec<String>,
    #[arg(long)]
    message_uk: Option<String>,
    #[arg(long)]
    message_en: Option<String>,
    /// RFC 3339 time after which the alert ends by itself.
    #[arg(long)]
    expires_at: Option<String>,
}

impl AlertFields {
    /// Adds the fields given to a request body; those not given are left out. A time that is
    /// not RFC 3339 is refused here, in words, before anything is sent.
    fn fill(self, body: &mut Value) -> anyhow::Result<()> {
        if let Some(at) = &self.expires_at
            && OffsetDateTime::parse(at, &Rfc3339).is_err()
        {
            bail!(
                "--expires-at {at:?} is not a time with a zone, such as 2026-03-01T18:00:00Z or 2026-03-01T20:00:00+02:00"
            );
        }
        for (key, value) in [("level", self.level), ("expires_at", self.expires_at)] {
            if let Some(value) = value {
                body[key] = json!(value);
            }
        }
        if !self.threats.is_empty() {
            body["threats"] = json!(self.threats);
        }
        // Only the languages given: `null` for the other would be a wrong type to the server.
        let mut message = serde_json::Map::new();
        for (language, text) in [("uk", self.message_uk), ("en", self.message_en)] {
            if let Some(text) = text {
                message.insert(language.to_owned(), json!(text));
            }
        }
        if !message.is_empty() {
            body["message"] = Value::Object(message);
        }
        Ok(())
    }
}

pub async fn alert(command: AlertCommand) -> anyhow::Result<()> {
    match command {
        AlertCommand::Declare { connection, region, kind, status, fields } => {
            let names = RegionNames::to_resolve(&connection, &region).await?;
            let ids = region.iter().map(|said| names.resolve(said)).collect::<anyhow::Result<Vec<_>>>()?;
            let mut body = match ids.as_slice() {
                [one] => json!({ "region_id": one, "kind": kind }),
                several => json!({ "region_ids": several, "kind": kind }),
            };
            if let Some(status) = status {
                body["status"] = json!(status);
            }
            fields.fill(&mut body)?;
            let (status, answer) = call(&connection, Method::POST, "/api/v1/alerts", Some(body)).await?;
            if connection.json {
                return print_json(&answer);
            }
            if ids.len() == 1 {
                say!("{}", declared(status == StatusCode::CREATED, &answer, &names));
                return Ok(());
            }
            for alert in answer["alerts"].as_array().map(Vec::as_slice).unwrap_or_default() {
                say!("{}", declared(alert["created"].as_bool().unwrap_or(false), alert, &names));
            }
            Ok(())
        }
        AlertCommand::Update { connection, id, fields } => {
            let mut body = json!({});
            fields.fill(&mut body)?;
            let (_, alert) = call(&connection, Method::PATCH, &format!("/api/v1/alerts/{id}"), Some(body)).await?;
            if connection.json {
                return print_json(&alert);
            }
            say!("{}", updated(&alert, &RegionNames::fetch_or_empty(&connection).await));
            Ok(())
        }
        AlertCommand::Cancel { connection, id } => {
            let (_, alert) =
                call(&connection, Method::POST, &format!("/api/v1/alerts/{id}/cancel"), Some(json!({}))).await?;
            if connection.json {
                return print_json(&alert);
            }
            say!("cancelled: {}", alert_line(&alert, &RegionNames::fetch_or_empty(&connection).await));
            Ok(())
        }
        AlertCommand::Reinstate { connection, id } => {
            let path = format!("/api/v1/alerts/{id}/reinstate");
            let (status, alert) = call(&connection, Method::POST, &path, Some(json!({}))).await?;
            if connection.json {
                return print_json(&alert);
            }
            say!(
                "{}",
                reinstated(id, status == StatusCode::CREATED, &alert, &RegionNames::fetch_or_empty(&connection).await)
            );
            Ok(())
        }
    }
}

/// What a reinstatement of alert `id` did: a new alert; the one that already reinstates it; or,
/// as a declaration, the active alert of the same region, kind and status that it met.
fn reinstated(id: u64, created: bool, alert: &Value, names: &RegionNames) -> String {
    if created {
        return format!("reinstated #{id} as {}", alert_line(alert, names));
    }
    if alert["reinstates"].as_u64() == Some(id) {
        return format!("already reinstated: {}", alert_line(alert, names));
    }
    declared(false, alert, names)
}

/// What a declaration did: a new alert, or one already active and what (if anything) it changed.
/// An older server sends no `changed`; then only "already active" can be said.
fn declared(created: bool, alert: &Value, names: &RegionNames) -> String {
    let line = alert_line(alert, names);
    if created {
        return format!("declared: {line}");
    }
    match changed(alert) {
        None => format!("already active: {line}"),
        Some(fields) if fields.is_empty() => format!("already active; nothing changed: {line}"),
        Some(fields) => format!("already active; escalated: {}: {line}", fields.join(", ")),
    }
}

/// What an update changed, when the server says.
fn updated(alert: &Value, names: &RegionNames) -> String {
    let line = alert_line(alert, names);
    match changed(alert) {
        None => format!("updated: {line}"),
        Some(fields) if fields.is_empty() => format!("nothing changed: {line}"),
        Some(fields) => format!("updated: {}: {line}", fields.join(", ")),
    }
}

/// The answer's `changed` member: the names of the fields the request changed.
fn changed(alert: &Value) -> Option<Vec<&str>> {
    alert.get("changed")?.as_array().map(|fields| fields.iter().filter_map(Value::as_str).collect())
}

pub async fn alerts(connection: Connection) -> anyhow::Result<()> {
    let (_, body) = call(&connection, Method::GET, "/api/v1/alerts/active", None).await?;
    if connection.json {
        return print_json(&body);
    }
    let alerts = body["alerts"].as_array().cloned().unwrap_or_default();
    if alerts.is_empty() {
        say!("no active alerts");
        return Ok(());
    }
    let names = RegionNames::fetch_or_empty(&connection).await;
    for alert in alerts {
        say!("{}", alert_line(&alert, &names));
    }
    Ok(())
}

fn alert_line(alert: &Value, names: &RegionNames) -> String {
    let finished = alert["finished_at"].as_str().map(|at| format!(" finished {at}")).unwrap_or_default();
    let region = alert["region_id"].as_u64().map_or_else(|| alert["region_id"].to_string(), |id| names.label(id));
    format!(
        "#{} region {region}: {} {} {} since {}{finished}",
        alert["id"],
        text(&alert["kind"]),
        text(&alert["level"]),
        text(&alert["status"]),
        text(&alert["started_at"])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> RegionNames {
        RegionNames::from_list(&json!({ "regions": [
            { "id": 31, "level": "oblast", "name_uk": "м. Київ", "name_en": "Kyiv City" }
        ] }))
    }

    fn alert(changed: Option<Value>) -> Value {
        let mut alert = json!({ "id": 7, "region_id": 31, "kind": "air_raid", "level": "red", "status": "actual",
            "started_at": "2026-03-01T18:00:00Z", "finished_at": null });
        if let Some(changed) = changed {
            alert["changed"] = changed;
        }
        alert
    }

    #[test]
    fn a_declaration_says_what_it_changed() {
        let names = names();
        let line = "#7 region 31 м. Київ (Kyiv City): air_raid red actual since 2026-03-01T18:00:00Z";
        assert_eq!(declared(true, &alert(None), &names), format!("declared: {line}"));
        assert_eq!(
            declared(false, &alert(Some(json!(["level", "threats"]))), &names),
            format!("already active; escalated: level, threats: {line}")
        );
        assert_eq!(
            declared(false, &alert(Some(json!([]))), &names),
            format!("already active; nothing changed: {line}")
        );
        assert_eq!(declared(false, &alert(None), &names), format!("already active: {line}"), "older server");
    }

    #[test]
    fn an_update_says_what_it_changed() {
        let names = names();
        assert!(updated(&alert(Some(json!(["level"]))), &names).starts_with("updated: level: #7 region 31 м. Київ"));
        assert!(updated(&alert(Some(json!([]))), &names).starts_with("nothing changed: #7"));
        assert!(updated(&alert(None), &names).starts_with("updated: #7"), "older server");
    }

    #[test]
    fn a_reinstatement_says_whether_it_declared_a_new_alert() {
        let names = names();
        let mut again = alert(None);
        again["reinstates"] = json!(3);
        assert!(reinstated(3, true, &again, &names).starts_with("reinstated #3 as #7 region 31 м. Київ"));
        assert!(reinstated(3, false, &again, &names).starts_with("already reinstated: #7"));
        let met = alert(Some(json!(["level"])));
        assert!(reinstated(3, false, &met, &names).starts_with("already active; escalated: level: #7"));
    }

    #[test]
    fn a_bad_expiry_and_the_message_languages_are_handled_before_sending() {
        let fields = |expires_at: &str| AlertFields {
            level: None,
            threats: Vec::new(),
            message_uk: None,
            message_en: Some("Drones".into()),
            expires_at: Some(expires_at.into()),
        };
        let error = fields("tomorrow").fill(&mut json!({})).unwrap_err().to_string();
        assert!(error.starts_with("--expires-at \"tomorrow\" is not a time with a zone"), "{error}");
        let mut body = json!({});
        fields("2026-03-01T20:00:00+02:00").fill(&mut body).unwrap();
        assert_eq!(body["message"], json!({ "en": "Drones" }), "no null for the language not given");
    }
}
