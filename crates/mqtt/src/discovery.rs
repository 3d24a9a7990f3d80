//! Home Assistant MQTT discovery: one `binary_sensor` (device class `safety`, on = unsafe) per
//! region and alert kind, grouped as one device per region, available while the server's
//! status topic says `online`. Nothing to install in Home Assistant: its MQTT integration
//! reads these retained configs.
//!
//! Schema: <https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery> and
//! <https://www.home-assistant.io/integrations/binary_sensor.mqtt/>; the config topic is
//! `<discovery prefix>/binary_sensor/<node id>/<object id>/config`.

use serde::Serialize;
use tryvoha_core::{AlertKind, Region};

use crate::topics::Topics;

/// A sensor's discovery config as Home Assistant reads it (abbreviations not used).
#[derive(Debug, Serialize)]
pub struct SensorConfig {
    pub name: String,
    pub unique_id: String,
    pub object_id: String,
    pub device_class: &'static str,
    pub state_topic: String,
    pub value_template: &'static str,
    pub payload_on: &'static str,
    pub payload_off: &'static str,
    pub json_attributes_topic: String,
    pub json_attributes_template: &'static str,
    pub availability_topic: String,
    pub payload_available: &'static str,
    pub payload_not_available: &'static str,
    pub device: Device,
    pub origin: Origin,
}

#[derive(Debug, Serialize)]
pub struct Device {
    pub identifiers: Vec<String>,
    pub name: String,
    pub manufacturer: &'static str,
    pub model: String,
}

#[derive(Debug, Serialize)]
pub struct Origin {
    pub name: &'static str,
    pub sw_version: &'static str,
    pub support_url: &'static str,
}

/// The English name Home Assistant shows for a kind's sensor.
pub fn kind_name(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::AirRaid => "Air raid alert",
        AlertKind::ArtilleryShelling => "Artillery shelling",
        AlertKind::UrbanFights => "Urban fights",
        AlertKind::Chemical => "Chemical threat",
        AlertKind::Nuclear => "Nuclear threat",
    }
}

/// A topic segment Home Assistant accepts for node and object ids: `[a-zA-Z0-9_-]`.
fn id_segment(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

/// The config topic and document of the sensor for `region` and `kind`.
pub fn sensor(discovery_prefix: &str, topics: &Topics, region: &Region, kind: AlertKind) -> (String, SensorConfig) {
    let node = id_segment(topics.prefix());
    let object = format!("region_{}_{}", region.id.0, kind.as_str());
    let state_topic = topics.region_kind(region.id, kind);
    let config = SensorConfig {
        name: kind_name(kind).to_owned(),
        unique_id: format!("{node}_{object}"),
        object_id: format!("{node}_{object}"),
        device_class: "safety",
        state_topic: state_topic.clone(),
        value_template: "{{ value_json.state }}",
        payload_on: "ON",
        payload_off: "OFF",
        json_attributes_topic: state_topic,
        json_attributes_template: "{{ {'level': value_json.level, 'threats': value_json.threats, 'since': value_json.since, 'alert_id': value_json.alert_id} | tojson }}",
        availability_topic: topics.status(),
        payload_available: "online",
        payload_not_available: "offline",
        device: Device {
            identifiers: vec![format!("{node}_region_{}", region.id.0)],
            name: format!("{} ({})", region.name_en, region.name_uk),
            manufacturer: "tryvoha",
            model: format!("{} alerts", region.level.as_str()),
        },
        origin: Origin {
            name: "tryvoha",
            sw_version: env!("CARGO_PKG_VERSION"),
            support_url: "https://github.com/tryvoha/tryvoha",
        },
    };
    (format!("{discovery_prefix}/binary_sensor/{node}/{object}/config"), config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tryvoha_core::{Level, RegionId};

    #[test]
    fn a_sensor_config_has_what_home_assistant_requires_and_topics_that_exist() {
        let region = Region {
            id: RegionId(31),
            parent_id: None,
            level: Level::Oblast,
            code: None,
            name_uk: "м. Київ".into(),
            name_en: "Kyiv".into(),
            shelter_within_s: None,
        };
        let topics = Topics::new("tryvoha.test");
        let (topic, config) = sensor("homeassistant", &topics, &region, AlertKind::AirRaid);
        assert_eq!(topic, "homeassistant/binary_sensor/tryvoha_test/region_31_air_raid/config");
        let json = serde_json::to_value(&config).expect("serializes");
        assert_eq!(json["device_class"], "safety");
        assert_eq!(json["state_topic"], "tryvoha.test/v1/regions/31/kinds/air_raid");
        assert_eq!(json["availability_topic"], "tryvoha.test/status");
        assert_eq!(json["unique_id"], "tryvoha_test_region_31_air_raid");
        assert_eq!(json["device"]["identifiers"][0], "tryvoha_test_region_31");
    }
}
