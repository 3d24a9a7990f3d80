//! The exact bytes written, for an alert and a feed built in code the way a publisher builds
//! them. A change here changes what every consumer receives, so it must be deliberate.

use tryvoha_cap::atom::{Entry, Feed, Person, write_feed};
use tryvoha_cap::{
    Alert, Area, Category, Certainty, Circle, Info, MessageType, NamedValue, Point, Polygon, Reference, ResponseType,
    Scope, Severity, Status, Timestamp, Urgency, check_semantics, write,
};

fn timestamp(text: &str) -> Timestamp {
    Timestamp::parse(text).expect("a CAP timestamp")
}

fn point(lat: f64, lon: f64) -> Point {
    Point::new(lat, lon).expect("in range")
}

fn air_raid_update() -> Alert {
    let kyiv_oblast = Polygon::new(vec![point(50.0, 30.0), point(50.5, 30.0), point(50.5, 31.25), point(50.0, 30.0)])
        .expect("closed, four points");
    Alert {
        identifier: "tryvoha-14-2".into(),
        sender: "https://alerts.example.org".into(),
        sent: timestamp("2026-11-27T10:05:00+02:00"),
        status: Status::Actual,
        msg_type: MessageType::Update,
        source: None,
        scope: Scope::Public,
        restriction: None,
        addresses: vec![],
        codes: vec!["profile:tryvoha:0.1".into()],
        note: None,
        references: vec![Reference {
            sender: "https://alerts.example.org".into(),
            identifier: "tryvoha-14-1".into(),
            sent: timestamp("2026-11-27T10:00:00+02:00"),
        }],
        incidents: vec!["air raid 14".into()],
        infos: vec![Info {
            language: Some("uk-UA".into()),
            categories: vec![Category::Safety],
            event: "Повітряна тривога".into(),
            response_types: vec![ResponseType::Shelter],
            urgency: Urgency::Immediate,
            severity: Severity::Extreme,
            certainty: Certainty::Observed,
            audience: None,
            event_codes: vec![],
            effective: None,
            onset: None,
            expires: Some(timestamp("2026-11-27T12:00:00+02:00")),
            sender_name: Some("Kyiv oblast <civil protection> & friends".into()),
            headline: Some("Air raid: go to a shelter".into()),
            description: None,
            instruction: None,
            web: Some("https://alerts.example.org/regions/14?lang=uk&view=map".into()),
            contact: None,
            parameters: vec![NamedValue::new("threat", "ballistic_missiles")],
            resources: vec![],
            areas: vec![Area {
                area_desc: "Київська область".into(),
                polygons: vec![kyiv_oblast],
                circles: vec![Circle::new(point(50.45, 30.5234), 0.0).expect("radius 0 is a point")],
                geocodes: vec![NamedValue::new("KATOTTG", "UA32000000000030281")],
                altitude: None,
                ceiling: None,
            }],
        }],
    }
}

const AIR_RAID_UPDATE_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>tryvoha-14-2</identifier>
  <sender>https://alerts.example.org</sender>
  <sent>2026-11-27T10:05:00+02:00</sent>
  <status>Actual</status>
  <msgType>Update</msgType>
  <scope>Public</scope>
  <code>profile:tryvoha:0.1</code>
  <references>https://alerts.example.org,tryvoha-14-1,2026-11-27T10:00:00+02:00</references>
  <incidents>"air raid 14"</incidents>
  <info>
    <language>uk-UA</language>
    <category>Safety</category>
    <event>Повітряна тривога</event>
    <responseType>Shelter</responseType>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <expires>2026-11-27T12:00:00+02:00</expires>
    <senderName>Kyiv oblast &lt;civil protection&gt; &amp; friends</senderName>
    <headline>Air raid: go to a shelter</headline>
    <web>https://alerts.example.org/regions/14?lang=uk&amp;view=map</web>
    <parameter>
      <valueName>threat</valueName>
      <value>ballistic_missiles</value>
    </parameter>
    <area>
      <areaDesc>Київська область</areaDesc>
      <polygon>50,30 50.5,30 50.5,31.25 50,30</polygon>
      <circle>50.45,30.5234 0</circle>
      <geocode>
        <valueName>KATOTTG</valueName>
        <value>UA32000000000030281</value>
      </geocode>
    </area>
  </info>
</alert>
"#;

#[test]
fn an_alert_built_in_code_is_written_exactly() {
    let alert = air_raid_update();
    assert_eq!(check_semantics(&alert), Ok(()));
    assert_eq!(write(&alert), AIR_RAID_UPDATE_XML);
}

#[test]
fn a_feed_is_written_exactly() {
    let alert = air_raid_update();
    let feed = Feed {
        id: "https://alerts.example.org/cap/feed.atom".into(),
        title: "tryvoha: active alerts".into(),
        updated: alert.sent,
        author: Person {
            name: "Example civil protection".into(),
            uri: Some("https://alerts.example.org".into()),
            email: Some("ops@example.org".into()),
        },
        self_link: "https://alerts.example.org/cap/feed.atom".into(),
        entries: vec![Entry::for_alert(&alert, "https://alerts.example.org/cap/tryvoha-14-2.xml")],
    };
    let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>https://alerts.example.org/cap/feed.atom</id>
  <title>tryvoha: active alerts</title>
  <updated>2026-11-27T10:05:00+02:00</updated>
  <author>
    <name>Example civil protection</name>
    <uri>https://alerts.example.org</uri>
    <email>ops@example.org</email>
  </author>
  <link rel="self" type="application/atom+xml" href="https://alerts.example.org/cap/feed.atom"/>
  <entry>
    <id>https://alerts.example.org/cap/tryvoha-14-2.xml</id>
    <title>Air raid: go to a shelter</title>
    <updated>2026-11-27T10:05:00+02:00</updated>
    <summary>Air raid: go to a shelter</summary>
    <link rel="alternate" type="application/cap+xml" href="https://alerts.example.org/cap/tryvoha-14-2.xml"/>
  </entry>
</feed>
"#;
    assert_eq!(write_feed(&feed), expected);
}
