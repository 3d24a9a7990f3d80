//! Incidents as the pages list them: only public ones ever reach a page (the caller reads them
//! as the public may), each with its kind, severity, status, place and description.

use tryvoha_core::{Incident, IncidentKind, IncidentStatus, RegionRegistry, Severity};

use crate::html::{escape, put};
use crate::kyiv::kyiv_day_time;
use crate::lang::Lang;

pub fn kind_name(lang: Lang, kind: IncidentKind) -> &'static str {
    let (uk, en) = match kind {
        IncidentKind::Fire => ("Пожежа", "Fire"),
        IncidentKind::Explosion => ("Вибух", "Explosion"),
        IncidentKind::BuildingDamage => ("Пошкодження будівлі", "Building damage"),
        IncidentKind::Casualties => ("Постраждалі", "Casualties"),
        IncidentKind::Evacuation => ("Евакуація", "Evacuation"),
        IncidentKind::Debris => ("Уламки", "Debris"),
        IncidentKind::PowerOutage => ("Знеструмлення", "Power outage"),
        IncidentKind::WaterOutage => ("Немає води", "Water outage"),
        IncidentKind::RoadClosed => ("Дорогу перекрито", "Road closed"),
        IncidentKind::Other => ("Інше", "Other"),
    };
    pick(lang, uk, en)
}

fn status_name(lang: Lang, status: IncidentStatus) -> &'static str {
    match status {
        IncidentStatus::Active => pick(lang, "триває", "active"),
        IncidentStatus::Contained => pick(lang, "локалізовано", "contained"),
        IncidentStatus::Closed => pick(lang, "завершено", "closed"),
    }
}

fn severity_name(lang: Lang, severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Minor => Some(pick(lang, "незначна", "minor")),
        Severity::Moderate => Some(pick(lang, "помірна", "moderate")),
        Severity::Severe => Some(pick(lang, "серйозна", "severe")),
        Severity::Extreme => Some(pick(lang, "надзвичайна", "extreme")),
        Severity::Unknown => None,
    }
}

pub(crate) fn pick(lang: Lang, uk: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Uk => uk,
        Lang::En => en,
    }
}

/// `<ol class="incidents">`: newest first, as given. Nothing at all for no incidents.
pub fn incident_list(out: &mut String, incidents: &[Incident], registry: &RegionRegistry, lang: Lang) {
    if incidents.is_empty() {
        return;
    }
    out.push_str("<ol class=\"incidents\">");
    for incident in incidents.iter().filter(|incident| incident.public) {
        let region = registry
            .get(incident.region_id)
            .map_or_else(|| incident.region_id.to_string(), |r| lang.region_name(r).to_owned());
        let description = match lang {
            Lang::Uk => incident.description.uk.as_deref().or(incident.description.en.as_deref()),
            Lang::En => incident.description.en.as_deref().or(incident.description.uk.as_deref()),
        };
        put(
            out,
            format_args!(
                "<li class=\"incident status-{status_code}\" data-incident-id=\"{id}\"><strong>{kind}</strong>{severity} — \
                 <a href=\"/regions/{region_id}\">{region}</a><span class=\"meta\">{status} · {at}{people}</span>{description}</li>",
                status_code = incident.status.as_str(),
                id = incident.id,
                kind = escape(kind_name(lang, incident.kind)),
                severity =
                    severity_name(lang, incident.severity).map(|s| format!(" ({})", escape(s))).unwrap_or_default(),
                region_id = incident.region_id,
                region = escape(&region),
                status = escape(status_name(lang, incident.status)),
                at = kyiv_day_time(incident.reported_at),
                people = incident
                    .people_affected
                    .map(|n| format!(" · {}: {n}", escape(pick(lang, "людей", "people"))))
                    .unwrap_or_default(),
                description =
                    description.map(|d| format!("<br><span class=\"text\">{}</span>", escape(d))).unwrap_or_default(),
            ),
        );
    }
    out.push_str("</ol>");
}
