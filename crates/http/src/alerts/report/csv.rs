//! The report as CSV: one row per alert event, incident, full shelter and delivery channel,
//! under one header, so that a spreadsheet sorts the night by time.

use std::fmt::Write;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Report;

const HEADER: &str = "section,at,type,id,region_id,status,detail\r\n";

pub(super) fn render(report: &Report) -> String {
    let mut out = String::from(HEADER);
    for event in &report.events {
        let alert = &event.alert;
        let detail = format!("{} {}", alert.kind.as_str(), alert.level.as_str());
        row(
            &mut out,
            [
                "event",
                &time(event.at),
                event.kind.as_str(),
                &event.seq.to_string(),
                &alert.region_id.0.to_string(),
                alert.status.as_str(),
                &detail,
            ],
        );
    }
    for incident in &report.incidents {
        let text = incident.description.uk.as_deref().or(incident.description.en.as_deref()).unwrap_or_default();
        let id = incident.id.0.to_string();
        let region = incident.region_id.0.to_string();
        let at = time(incident.reported_at);
        row(&mut out, ["incident", &at, incident.kind.as_str(), &id, &region, incident.status.as_str(), text]);
    }
    for shelter in &report.shelters_filled {
        let name = shelter.name_uk.as_deref().unwrap_or_default();
        row(
            &mut out,
            ["shelter_full", &time(shelter.at), "shelter_status", &shelter.shelter_id.0.to_string(), "", "full", name],
        );
    }
    if let Some(deliveries) = &report.deliveries {
        for (channel, tally) in &deliveries.channels {
            let name =
                serde_json::to_value(channel).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            let detail = format!(
                "attempted={} delivered={} failed={} pruned={} expired={}",
                tally.attempted, tally.delivered, tally.failed, tally.pruned, tally.expired
            );
            row(&mut out, ["delivery", "", &name, &report.alert.id.0.to_string(), "", "", &detail]);
        }
    }
    out
}

fn time(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn row(out: &mut String, fields: [&str; 7]) {
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let _ = write!(out, "{}", cell(field));
    }
    out.push_str("\r\n");
}

/// RFC 4180 quoting; a cell a spreadsheet would take for a formula starts with `'`.
fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_never_read_as_formulas() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(cell("-1,2"), "\"'-1,2\"");
    }
}
