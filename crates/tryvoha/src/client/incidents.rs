//! `tryvoha incident report|update|list` and `tryvoha shelters status`: the responder's side,
//! through the same API as everyone else.

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::{Connection, call, print_json, text};
use crate::say;

#[derive(Subcommand)]
pub enum IncidentCommand {
    /// Report an incident (responder, operator, admin): where, what, how bad.
    Report {
        #[command(flatten)]
        connection: Connection,
        /// fire, explosion, building_damage, casualties, evacuation, debris, power_outage,
        /// water_outage, road_closed or other.
        #[arg(long)]
        kind: String,
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        /// Published to everyone (streams, lists, report); otherwise kept for responders,
        /// operators and admins.
        #[arg(long)]
        public: bool,
        /// The region, when the point alone would not say.
        #[arg(long)]
        region_id: Option<u32>,
        /// The alert it belongs to (default: the air-raid alert covering the place).
        #[arg(long)]
        alert_id: Option<u64>,
        #[command(flatten)]
        fields: IncidentFields,
    },
    /// Change an incident: its status (active → contained → closed), figures or texts.
    Update {
        #[command(flatten)]
        connection: Connection,
        id: u64,
        /// active, contained or closed.
        #[arg(long)]
        status: Option<String>,
        /// Publish it (a published incident is never made private again).
        #[arg(long)]
        publish: bool,
        /// Remove the address and casualty details (which a public incident may not hold).
        #[arg(long)]
        clear_private: bool,
        #[command(flatten)]
        fields: IncidentFields,
    },
    /// List incidents, newest first (private ones too, with a responder's, operator's or admin's token).
    List {
        #[command(flatten)]
        connection: Connection,
        /// In this region or below it.
        #[arg(long)]
        region_id: Option<u32>,
        #[arg(long)]
        alert_id: Option<u64>,
        /// active, contained or closed; comma-separated for several.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

/// What a report sets and an update may change.
#[derive(Args)]
pub struct IncidentFields {
    /// The description in Ukrainian.
    #[arg(long)]
    uk: Option<String>,
    /// The description in English.
    #[arg(long)]
    en: Option<String>,
    /// minor, moderate, severe, extreme or unknown.
    #[arg(long)]
    severity: Option<String>,
    #[arg(long)]
    people_affected: Option<u32>,
    /// Where people were taken.
    #[arg(long)]
    evacuated_to: Option<String>,
    /// The exact address (private incidents only).
    #[arg(long)]
    address: Option<String>,
    /// Casualty details (private incidents only).
    #[arg(long)]
    casualty_details: Option<String>,
}

impl IncidentFields {
    /// The members given, and only those: the server tells a missing member from a null one.
    fn fill(self, body: &mut Map<String, Value>) {
        let mut description = Map::new();
        for (language, text) in [("uk", self.uk), ("en", self.en)] {
            if let Some(text) = text {
                description.insert(language.to_owned(), json!(text));
            }
        }
        if !description.is_empty() {
            body.insert("description".into(), Value::Object(description));
        }
        let texts = [
            ("severity", self.severity),
            ("evacuated_to", self.evacuated_to),
            ("address", self.address),
            ("casualty_details", self.casualty_details),
        ];
        for (key, value) in texts {
            if let Some(value) = value {
                body.insert(key.into(), json!(value));
            }
        }
        if let Some(people) = self.people_affected {
            body.insert("people_affected".into(), json!(people));
        }
    }
}

pub async fn incident(command: IncidentCommand) -> anyhow::Result<()> {
    match command {
        IncidentCommand::Report { connection, kind, lat, lon, public, region_id, alert_id, fields } => {
            let mut body = Map::new();
            body.insert("kind".into(), json!(kind));
            body.insert("lat".into(), json!(lat));
            body.insert("lon".into(), json!(lon));
            body.insert("public".into(), json!(public));
            if let Some(region) = region_id {
                body.insert("region_id".into(), json!(region));
            }
            if let Some(alert) = alert_id {
                body.insert("alert_id".into(), json!(alert));
            }
            fields.fill(&mut body);
            let (_, incident) = call(&connection, Method::POST, "/api/v1/incidents", Some(Value::Object(body))).await?;
            if connection.json {
                return print_json(&incident);
            }
            say!("reported: {}", incident_line(&incident));
            Ok(())
        }
        IncidentCommand::Update { connection, id, status, publish, clear_private, fields } => {
            let mut body = Map::new();
            if clear_private {
                body.insert("address".into(), Value::Null);
                body.insert("casualty_details".into(), Value::Null);
            }
            if let Some(status) = status {
                body.insert("status".into(), json!(status));
            }
            if publish {
                body.insert("public".into(), json!(true));
            }
            fields.fill(&mut body);
            let path = format!("/api/v1/incidents/{id}");
            let (_, incident) = call(&connection, Method::PATCH, &path, Some(Value::Object(body))).await?;
            if connection.json {
                return print_json(&incident);
            }
            say!("updated: {}", incident_line(&incident));
            Ok(())
        }
        IncidentCommand::List { connection, region_id, alert_id, status, limit } => {
            let mut query = vec![format!("limit={limit}")];
            query.extend(region_id.map(|r| format!("region_id={r}")));
            query.extend(alert_id.map(|a| format!("alert_id={a}")));
            query.extend(status.map(|s| format!("status={s}")));
            let path = format!("/api/v1/incidents?{}", query.join("&"));
            let (_, answer) = call(&connection, Method::GET, &path, None).await?;
            if connection.json {
                return print_json(&answer);
            }
            let incidents = answer["incidents"].as_array().map(Vec::as_slice).unwrap_or_default();
            if incidents.is_empty() {
                say!("no incidents");
            }
            for incident in incidents {
                say!("{}", incident_line(incident));
            }
            Ok(())
        }
    }
}

/// `#3 fire (severe) active in region 31, alert #1, public: Пожежа …`
fn incident_line(incident: &Value) -> String {
    let alert = incident["alert_id"].as_u64().map(|id| format!(", alert #{id}")).unwrap_or_default();
    let visibility = if incident["public"].as_bool() == Some(true) { "public" } else { "private" };
    let description = incident["description"]["uk"].as_str().or(incident["description"]["en"].as_str()).unwrap_or("");
    format!(
        "#{} {} ({}) {} in region {}{alert}, {visibility}: {description}",
        incident["id"],
        text(&incident["kind"]),
        text(&incident["severity"]),
        text(&incident["status"]),
        incident["region_id"],
    )
}

#[derive(Args)]
pub struct StatusArgs {
    #[command(flatten)]
    connection: Connection,
    /// The shelter's id.
    id: u64,
    /// open, full or closed.
    #[arg(long)]
    status: String,
    /// People inside now.
    #[arg(long)]
    occupancy: Option<u32>,
    /// How many it holds tonight.
    #[arg(long)]
    capacity: Option<u32>,
    /// Whether it is step-free tonight (true or false).
    #[arg(long)]
    accessible: Option<bool>,
    #[arg(long)]
    notes: Option<String>,
}

/// `tryvoha shelters status ID --status full`: reports a shelter's status.
pub async fn shelter_status(args: StatusArgs) -> anyhow::Result<()> {
    let mut body = json!({ "status": args.status });
    if let Some(occupancy) = args.occupancy {
        body["occupancy"] = json!(occupancy);
    }
    if let Some(capacity) = args.capacity {
        body["capacity"] = json!(capacity);
    }
    if let Some(accessible) = args.accessible {
        body["accessible"] = json!(accessible);
    }
    if let Some(notes) = args.notes {
        body["notes"] = json!(notes);
    }
    let path = format!("/api/v1/shelters/{}/status", args.id);
    let (_, status) = call(&args.connection, Method::PATCH, &path, Some(body)).await?;
    if args.connection.json {
        return print_json(&status);
    }
    let occupancy = status["occupancy"].as_u64().map(|n| format!(", {n} inside")).unwrap_or_default();
    say!("shelter {} is {}{occupancy}", status["shelter_id"], text(&status["status"]));
    Ok(())
}
