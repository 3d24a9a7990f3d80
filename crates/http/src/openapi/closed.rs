//! serde's `flatten` of a struct that refuses unknown fields, made expressible.
//!
//! utoipa describes `#[serde(flatten)]` as `allOf: [Inner, {outer fields}]`. When `Inner` is
//! closed (`additionalProperties: false`, from `deny_unknown_fields`), no object can satisfy
//! both parts: the outer fields are unknown to `Inner`. Such a schema is rewritten into the one
//! object it means: every part's properties and required fields, still closed.

use serde_json::{Map, Value};

/// Rewrites every component schema whose `allOf` includes a closed object.
pub(super) fn merge_closed_flattened(document: &mut Value) {
    let Some(schemas) = document.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else { return };
    let names: Vec<String> = schemas.keys().cloned().collect();
    for name in names {
        if let Some(merged) = merged(schemas, &name) {
            schemas.insert(name, merged);
        }
    }
}

/// The schema `name` as one closed object, if it is an `allOf` with a closed part.
fn merged(schemas: &Map<String, Value>, name: &str) -> Option<Value> {
    let schema = schemas.get(name)?;
    let parts = schema.get("allOf")?.as_array()?;
    let resolved: Vec<Value> = parts.iter().map(|part| resolve(schemas, part)).collect();
    if !resolved.iter().any(is_closed) {
        return None;
    }
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    for part in &resolved {
        if let Some(more) = part.get("properties").and_then(Value::as_object) {
            properties.extend(more.clone());
        }
        for field in part.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !required.contains(field) {
                required.push(field.clone());
            }
        }
    }
    let mut object = Map::new();
    object.insert("type".into(), "object".into());
    if let Some(description) = schema.get("description") {
        object.insert("description".into(), description.clone());
    }
    object.insert("required".into(), Value::Array(required));
    object.insert("properties".into(), Value::Object(properties));
    object.insert("additionalProperties".into(), false.into());
    Some(Value::Object(object))
}

/// A part of an `allOf`, with a reference to a component replaced by that component (itself
/// merged first, so that flattening through several levels closes every level).
fn resolve(schemas: &Map<String, Value>, part: &Value) -> Value {
    match part.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => merged(schemas, name).or_else(|| schemas.get(name).cloned()).unwrap_or(Value::Null),
        None => part.clone(),
    }
}

fn is_closed(schema: &Value) -> bool {
    schema.get("additionalProperties") == Some(&Value::Bool(false))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::merge_closed_flattened;

    #[test]
    fn a_closed_object_flattened_into_another_becomes_one_closed_object() {
        let mut document = json!({ "components": { "schemas": {
            "Info": { "type": "object", "required": ["name"], "properties": { "name": {} }, "additionalProperties": false },
            "Item": { "allOf": [{ "$ref": "#/components/schemas/Info" }, { "required": ["id"], "properties": { "id": {} } }] },
            "Near": { "allOf": [{ "$ref": "#/components/schemas/Item" }, { "properties": { "distance": {} } }] },
            "Open": { "allOf": [{ "type": "object" }, { "properties": { "x": {} } }] },
        }}});
        merge_closed_flattened(&mut document);
        let schemas = &document["components"]["schemas"];
        assert_eq!(schemas["Item"]["required"], json!(["name", "id"]));
        assert_eq!(schemas["Item"]["additionalProperties"], json!(false));
        let near: Vec<&String> =
            schemas["Near"]["properties"].as_object().map(|p| p.keys().collect()).unwrap_or_default();
        assert_eq!(near, ["distance", "id", "name"], "merged through both levels");
        assert!(schemas["Open"].get("allOf").is_some(), "an open part is left as it is");
    }
}
