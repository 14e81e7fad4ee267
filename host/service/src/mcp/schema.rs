//! Tool schemas that portable clients accept: `schemars` writes a nullable member as
//! `"type": ["string", "null"]` and an untyped JSON value as a schema without any
//! validation keyword, both legal JSON Schema that single-`type` dialects (such as
//! the OpenAPI subset some model providers use) reject or misread; the MCP
//! Inspector's `--strict` mode reports them.
//!
//! - Inputs: an optional member is left out when absent, so its schema loses the
//!   `null` type (an explicit `null` is then refused as invalid arguments).
//! - Outputs: a nullable member becomes `anyOf` of the type and `null`; an untyped
//!   member (a report, the SLA figures) is declared a free-form object.

use serde_json::{Map, Value, json};

/// Keywords that constrain a value; a schema with none of them accepts anything.
const CONSTRAINING: [&str; 11] =
    ["type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const", "properties", "items", "not", "additionalProperties"];

/// Rewrites an input schema in place.
pub(super) fn portable_input(schema: &mut Map<String, Value>) {
    walk(schema, &|node, _| {
        if let Some(Value::Array(types)) = node.get("type") {
            let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
            if kept.len() == 1 {
                node.insert("type".into(), kept[0].clone());
            }
        }
    });
}

/// Rewrites an output schema in place.
pub(super) fn portable_output(schema: &mut Map<String, Value>) {
    walk(schema, &|node, is_property| {
        if let Some(Value::Array(types)) = node.get("type").cloned() {
            let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
            if kept.len() == 1 && kept.len() < types.len() {
                node.remove("type");
                let mut branch = Map::new();
                branch.insert("type".into(), kept[0].clone());
                // Type-specific keywords belong to the non-null branch.
                for key in ["format", "items", "properties", "required", "additionalProperties", "minimum", "maximum"] {
                    if let Some(value) = node.remove(key) {
                        branch.insert(key.into(), value);
                    }
                }
                node.insert("anyOf".into(), json!([Value::Object(branch), {"type": "null"}]));
            }
        }
        if is_property && !CONSTRAINING.iter().any(|k| node.contains_key(*k)) {
            node.insert("type".into(), json!("object"));
            node.insert("additionalProperties".into(), json!(true));
        }
    });
}

/// Calls `f` on every schema object below `schema` (itself included), telling
/// whether it is the schema of an object member.
fn walk(schema: &mut Map<String, Value>, f: &dyn Fn(&mut Map<String, Value>, bool)) {
    visit(schema, false, f);
}

fn visit(node: &mut Map<String, Value>, is_property: bool, f: &dyn Fn(&mut Map<String, Value>, bool)) {
    f(node, is_property);
    for (key, child) in node.iter_mut() {
        match (key.as_str(), child) {
            ("properties" | "$defs" | "definitions", Value::Object(members)) => {
                let members_are_properties = key == "properties";
                for member in members.values_mut() {
                    if let Value::Object(member) = member {
                        visit(member, members_are_properties, f);
                    }
                }
            }
            ("items" | "additionalProperties" | "not", Value::Object(inner)) => visit(inner, false, f),
            ("anyOf" | "oneOf" | "allOf", Value::Array(branches)) => {
                for branch in branches {
                    if let Value::Object(branch) = branch {
                        visit(branch, false, f);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_and_untyped_members_become_portable() {
        let mut input = json!({"type": "object", "properties": {"bundle": {"type": ["string", "null"]}}});
        portable_input(input.as_object_mut().unwrap());
        assert_eq!(input["properties"]["bundle"], json!({"type": "string"}));
        let mut output = json!({"type": "object", "properties": {
            "recipe": {"type": ["string", "null"], "description": "d"},
            "report": {"description": "free"},
        }});
        portable_output(output.as_object_mut().unwrap());
        assert_eq!(
            output["properties"]["recipe"],
            json!({"description": "d", "anyOf": [{"type": "string"}, {"type": "null"}]})
        );
        assert_eq!(
            output["properties"]["report"],
            json!({"description": "free", "type": "object", "additionalProperties": true})
        );
    }
}
