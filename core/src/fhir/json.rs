//! FHIR JSON entry points: bounded, streaming, with precise error paths.

use super::codec::{ANY_RESOURCE, DecodeError, Element, FhirResource, split_nested_error};
use super::xml::{XmlWriter, parse_document};
use super::{CodecError, Limits};

/// Decode a resource (or a per-version resource enum) from JSON.
///
/// Malformed JSON (syntax, truncation, invalid UTF-8, nesting deeper than
/// serde_json's 128 levels) is [`CodecError::Malformed`]; well-formed JSON that
/// does not fit the model (unknown element, wrong type, bad value) is
/// [`CodecError::Invalid`] with the element path (R8).
pub fn from_json<T: FhirResource>(bytes: &[u8], limits: Limits) -> Result<T, CodecError> {
    limits.check(bytes.len())?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match T::deserialize_element(&mut de).and_then(|v| de.end().map(|()| v)) {
        Ok(v) => Ok(v),
        Err(e) => Err(describe_json_error::<T>(bytes, e)),
    }
}

/// Re-run a failed decode with path tracking; only failures pay for it.
fn describe_json_error<T: FhirResource>(bytes: &[u8], first: serde_json::Error) -> CodecError {
    use serde_json::error::Category;
    match first.classify() {
        Category::Io | Category::Syntax | Category::Eof => {
            CodecError::Malformed(format!("malformed JSON: {first}"))
        }
        Category::Data => {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            let mut track = serde_path_to_error::Track::new();
            let pd = serde_path_to_error::Deserializer::new(&mut de, &mut track);
            let full = match T::deserialize_element(pd) {
                Err(e) => strip_position(&e.to_string()),
                Ok(_) => strip_position(&first.to_string()),
            };
            let (nested, message) = split_nested_error(&full);
            let root = if T::TYPE == ANY_RESOURCE {
                probe_resource_type(bytes).unwrap_or_else(|| ANY_RESOURCE.to_owned())
            } else {
                T::TYPE.to_owned()
            };
            let mut path = root;
            for part in [Some(track.path().to_string()), nested.map(str::to_owned)]
                .into_iter()
                .flatten()
                .filter(|p| !p.is_empty() && p != ".")
            {
                path.push('.');
                path.push_str(&part);
            }
            CodecError::Invalid {
                path,
                message: message.to_owned(),
            }
        }
    }
}

/// The top-level `resourceType` of a document that failed to decode, so a
/// path through a resource enum starts with the concrete type.
fn probe_resource_type(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "resourceType")]
        resource_type: Option<String>,
    }
    serde_json::from_slice::<Probe>(bytes)
        .ok()
        .and_then(|p| p.resource_type)
        .filter(|t| t.len() <= 64 && t.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// serde_json appends " at line L column C"; keep the message short and stable.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// Encode any element as JSON.
pub fn to_json<T: Element>(v: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    let mut ser = serde_json::Serializer::new(&mut out);
    // Serialising into a Vec cannot fail: our Serialize impls only emit
    // strings, numbers and booleans.
    if v.serialize_element(&mut ser).is_err() {
        out.clear();
    }
    out
}

/// Decode a resource from FHIR XML (UTF-8).
pub fn from_xml<T: FhirResource>(bytes: &[u8], limits: Limits) -> Result<T, CodecError> {
    limits.check(bytes.len())?;
    let text = std::str::from_utf8(bytes)
        .map_err(|e| CodecError::Malformed(format!("XML body is not UTF-8: {e}")))?;
    let root = parse_document(text).map_err(|e| decode_error(e, None))?;
    T::read_root(&root).map_err(|e| decode_error(e, Some(root.name)))
}

fn decode_error(e: DecodeError, root: Option<&str>) -> CodecError {
    if e.malformed {
        return CodecError::Malformed(e.to_string());
    }
    let inner = e.path();
    let path = match (root, inner.is_empty()) {
        (Some(r), true) => r.to_owned(),
        (Some(r), false) => format!("{r}.{inner}"),
        (None, _) => inner,
    };
    CodecError::Invalid {
        path,
        message: e.message().to_owned(),
    }
}

/// Encode a resource as FHIR XML.
pub fn to_xml<T: FhirResource>(v: &T) -> String {
    let mut w = XmlWriter::new();
    v.write_root(&mut w);
    w.finish()
}
