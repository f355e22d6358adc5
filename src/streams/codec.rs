//! Turning a response body into RECORD lines, one whole page at a time.
//!
//! Items are parsed one by one (a body that may be one object or a list is parsed whole first),
//! reshaped for the destination (the chat reference flattened, secrets removed, …), made to fit
//! the stream's schema (`transcode`, by the rules in `shape`) and encoded straight into the
//! page's output buffer, with the primary key and cursor of each noted beside it. Nothing of a
//! page goes anywhere until the whole body has parsed: a body that breaks off is fetched again
//! from scratch. Which records of the page are kept (the window's time filter, repeats) is the
//! read engine's decision, made on those notes.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use xxhash_rust::xxh3::xxh3_128;

use super::shape::{Report, Shape};
pub(crate) use super::transcode::Transform;
use super::transcode::{copy_item, ItemRules, MAX_KEY_FIELDS};
use crate::buffers::{self, Buf};
use crate::protocol::{now_millis, RecordEncoder, RecordSuffix};

/// How a body wraps its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Envelope {
    /// `{"<key>": [...], "nextPage": "..."}`; the next-page link may also come as
    /// `nextPageURL` or `nextPageUrl`, and tickets add `total`.
    Key(&'static str),
    /// One object that is itself the record, or a list of them (bare or as `{"items": [...]}`):
    /// the spec shows one object where a list would be expected. An empty object is no record;
    /// an object with `items` that is not a list, or with `errors`, is no page at all.
    OneOrMany,
}

/// The next-page link under each name Botmaker's docs use for it.
const NEXT_PAGE_KEYS: [&str; 3] = ["nextPage", "nextPageURL", "nextPageUrl"];

/// Decodes the pages of one stream.
pub(crate) struct Codec {
    envelope: Envelope,
    transform: Transform,
    shape: Shape,
    primary_key: &'static [&'static str],
    cursor_field: Option<&'static str>,
    encoder: RecordEncoder,
}

/// One record of a decoded page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordNote {
    /// Where its RECORD line ends in [`DecodedPage::lines`].
    pub(crate) end: usize,
    /// A 128-bit hash of its primary key, if it has one.
    pub(crate) key: Option<u128>,
    /// Its cursor value, if the stream has a cursor and the record a readable one.
    pub(crate) cursor: Option<DateTime<Utc>>,
}

/// A page, parsed and encoded.
#[derive(Debug, Default)]
pub(crate) struct DecodedPage {
    /// RECORD lines, one per record, in the order the API sent them.
    pub(crate) lines: Buf,
    pub(crate) records: Vec<RecordNote>,
    /// The next page's link or token; null, absent and empty all mean "no more pages".
    pub(crate) next_page: Option<String>,
    /// Tickets' `total`.
    pub(crate) total: Option<u64>,
    /// Values that did not fit the schema, per field.
    pub(crate) report: Report,
}

impl DecodedPage {
    /// Keeps only the records `keep` accepts, preserving order, in place.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&RecordNote) -> bool) {
        let lines = &mut self.lines;
        let (mut write, mut start) = (0, 0);
        // `retain_mut` visits every record once, in order.
        self.records.retain_mut(|note| {
            let end = note.end;
            let kept = keep(note);
            if kept {
                if write != start {
                    lines.copy_within(start..end, write);
                }
                write += end - start;
                note.end = write;
            }
            start = end;
            kept
        });
        lines.truncate(write);
    }
}

impl Codec {
    pub(crate) fn new(
        stream: &str,
        schema: &Value,
        envelope: Envelope,
        transform: Transform,
        primary_key: &'static [&'static str],
        cursor_field: Option<&'static str>,
    ) -> Codec {
        assert!(
            !primary_key.is_empty() && primary_key.len() <= MAX_KEY_FIELDS,
            "stream {stream}: a primary key has 1 to {MAX_KEY_FIELDS} fields"
        );
        Codec {
            envelope,
            transform,
            shape: Shape::of_schema(schema),
            primary_key,
            cursor_field,
            encoder: RecordEncoder::new(stream),
        }
    }

    /// Parses and encodes a whole page, or says in one line why the body is not a page of
    /// this endpoint (not JSON, no item list).
    pub(crate) fn decode(&self, body: &[u8]) -> Result<DecodedPage, String> {
        // Sized once for the whole page: RECORD lines take about as many bytes as the items in
        // the body plus each line's envelope, and a buffer grown by doubling would hold up to
        // twice that (and copy it on every growth) for as long as the page waits for stdout.
        let mut page = DecodedPage {
            lines: buffers::take(body.len() + body.len() / 4 + 4096),
            records: Vec::with_capacity(body.len() / 256 + 16),
            ..DecodedPage::default()
        };
        let suffix = RecordSuffix::new(now_millis());
        let mut builder = PageBuilder { codec: self, page: &mut page, suffix: &suffix };
        let (next_page, total) = match self.envelope {
            Envelope::Key(items_key) => {
                let mut de = serde_json::Deserializer::from_slice(body);
                let meta = PageSeed { builder: &mut builder, items_key }
                    .deserialize(&mut de)
                    .and_then(|meta| de.end().map(|_| meta))
                    .map_err(|e| describe(&e, items_key))?;
                (meta.next_page, meta.total)
            }
            Envelope::OneOrMany => {
                let value: Value = serde_json::from_slice(body).map_err(|e| describe(&e, "items"))?;
                let (items, next_page) = match value {
                    Value::Array(items) => (items, None),
                    Value::Object(mut map) if map.get("items").is_some_and(Value::is_array) => {
                        let next_page = next_page_of(&mut map);
                        match map.remove("items") {
                            Some(Value::Array(items)) => (items, next_page),
                            _ => (Vec::new(), next_page),
                        }
                    }
                    Value::Object(map) if map.is_empty() => (Vec::new(), None),
                    Value::Object(map) if map.contains_key("items") => {
                        return Err(format!("`items` is {}, not a list", kind(&map["items"])))
                    }
                    Value::Object(map) if map.contains_key("errors") => {
                        return Err("an error object (`errors`) instead of a page".to_string())
                    }
                    record @ Value::Object(_) => (vec![record], None),
                    other => return Err(format!("expected an object or a list of objects, got {}", kind(&other))),
                };
                for item in &items {
                    builder.push(item).map_err(|e| e.to_string())?;
                }
                (next_page, None)
            }
        };
        page.next_page = next_page;
        page.total = total;
        Ok(page)
    }
}

/// Appends records to a page.
struct PageBuilder<'a> {
    codec: &'a Codec,
    page: &'a mut DecodedPage,
    suffix: &'a RecordSuffix,
}

impl PageBuilder<'_> {
    fn push<'de, D: Deserializer<'de>>(&mut self, item: D) -> Result<(), D::Error> {
        let codec = self.codec;
        let rules = ItemRules {
            shape: &codec.shape,
            transform: codec.transform,
            primary_key: codec.primary_key,
            cursor_field: codec.cursor_field,
        };
        let lines = &mut self.page.lines;
        let before = lines.len();
        codec.encoder.start(lines);
        match copy_item(item, &rules, lines, &mut self.page.report) {
            Ok(picked) => {
                codec.encoder.finish(lines, self.suffix);
                let key = key_hash_of(&picked.key[..codec.primary_key.len()]);
                let note = RecordNote { end: lines.len(), key, cursor: picked.cursor };
                self.page.records.push(note);
                Ok(())
            }
            Err(e) => {
                lines.truncate(before);
                Err(e)
            }
        }
    }
}

/// The primary key's hash, if every part of it is present: the part's own hash for a one-field
/// key, a hash of the parts' hashes in key order for a composite one.
fn key_hash_of(parts: &[Option<u128>]) -> Option<u128> {
    match parts {
        [one] => *one,
        parts => {
            let mut bytes = Vec::with_capacity(parts.len() * 16);
            for part in parts {
                bytes.extend_from_slice(&(*part)?.to_le_bytes());
            }
            Some(xxh3_128(&bytes))
        }
    }
}

/// The hash of a single-field key.
#[cfg(test)]
pub(crate) fn key_hash(key: &str) -> u128 {
    key_hash_of(&[Some(super::transcode::text_hash(key))]).expect("a key")
}

/// Takes the next-page link out of an envelope object.
fn next_page_of(map: &mut Map<String, Value>) -> Option<String> {
    NEXT_PAGE_KEYS
        .iter()
        .filter_map(|k| map.remove(*k))
        .filter_map(|v| v.as_str().map(|s| s.trim().to_string()))
        .find(|s| !s.is_empty())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// serde_json's message, which names the position but never quotes the body.
fn describe(e: &serde_json::Error, items_key: &str) -> String {
    let msg = e.to_string();
    if e.is_data() && msg.contains("missing field") {
        format!("the body has no `{items_key}` list")
    } else if e.is_eof() {
        format!("the body ends early ({msg})")
    } else if e.is_syntax() {
        format!("the body is not valid JSON ({msg})")
    } else {
        msg
    }
}

/// What an envelope says besides its items.
struct Meta {
    next_page: Option<String>,
    total: Option<u64>,
}

/// Visits a page object, streaming its item list into the page.
struct PageSeed<'b, 'a> {
    builder: &'b mut PageBuilder<'a>,
    items_key: &'static str,
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_, '_> {
    type Value = Meta;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Meta, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_, '_> {
    type Value = Meta;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with a `{}` list", self.items_key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Meta, A::Error> {
        let PageSeed { builder, items_key } = self;
        let (mut seen_items, mut next_page, mut total) = (false, None, None);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == items_key {
                if seen_items {
                    return Err(de::Error::duplicate_field(items_key));
                }
                seen_items = true;
                map.next_value_seed(ItemsSeed { builder: &mut *builder })?;
            } else if NEXT_PAGE_KEYS.contains(&key.as_ref()) {
                let value = map.next_value::<Option<String>>()?;
                let value = value.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
                next_page = next_page.or(value);
            } else if key == "total" {
                total = match map.next_value::<Value>()? {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !seen_items {
            return Err(de::Error::missing_field(items_key));
        }
        Ok(Meta { next_page, total })
    }
}

/// Visits the item list, one item at a time.
struct ItemsSeed<'b, 'a> {
    builder: &'b mut PageBuilder<'a>,
}

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(ItemSeed { builder: &mut *self.builder })?.is_some() {}
        Ok(())
    }
}

/// One item of the list.
struct ItemSeed<'b, 'a> {
    builder: &'b mut PageBuilder<'a>,
}

impl<'de> DeserializeSeed<'de> for ItemSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.builder.push(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_datetime;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "id": {"type": ["null", "string"]},
            "chat_id": {"type": ["null", "string"]},
            "companyId": {"type": ["null", "integer"]},
            "creationTime": {"type": ["null", "string"], "format": "date-time"}}})
    }

    fn codec(envelope: Envelope, transform: Transform) -> Codec {
        Codec::new("s", &schema(), envelope, transform, &["id"], Some("creationTime"))
    }

    fn data(page: &DecodedPage) -> Vec<Value> {
        String::from_utf8(page.lines.to_vec())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["record"]["data"].clone())
            .collect()
    }

    #[test]
    fn flattens_the_chat_reference_and_keeps_unknown_fields() {
        let body = json!({"items": [{"id": "m1", "creationTime": "2024-01-01T00:00:00Z",
            "chat": {"chatId": 123, "channelId": "wa", "contactId": "549", "extra": 1},
            "brandNewField": {"a": [1]}}], "nextPage": "", "extraEnvelopeField": [1, 2]});
        let page = codec(Envelope::Key("items"), Transform::FlattenChat).decode(body.to_string().as_bytes()).unwrap();
        assert_eq!(page.next_page, None, "an empty nextPage ends paging");
        assert_eq!(
            data(&page),
            [json!({"chat_id": "123", "channel_id": "wa", "contact_id": "549", "chat": {"extra": 1}, "id": "m1",
                "creationTime": "2024-01-01T00:00:00Z", "brandNewField": {"a": [1]}})]
        );
        let note = page.records[0];
        assert_eq!(note.end, page.lines.len());
        assert_eq!(note.key, Some(key_hash("m1")));
        assert_eq!(note.cursor, parse_datetime("2024-01-01T00:00:00Z"));
    }

    #[test]
    fn every_next_page_key_is_read() {
        let c = codec(Envelope::Key("items"), Transform::None);
        for key in NEXT_PAGE_KEYS {
            let body = json!({"items": [], key: " https://h/next "});
            assert_eq!(c.decode(body.to_string().as_bytes()).unwrap().next_page.as_deref(), Some("https://h/next"));
        }
        let body = br#"{"items":[],"nextPage":null,"nextPageURL":"t2"}"#;
        assert_eq!(c.decode(body).unwrap().next_page.as_deref(), Some("t2"));
    }

    #[test]
    fn a_wrong_field_type_never_fails_the_page() {
        let c = codec(Envelope::Key("tickets"), Transform::None);
        let page = c
            .decode(br#"{"total":"3","tickets":[{"id":"t1","companyId":"7"},{"id":"t2","companyId":"ACME"},{}]}"#)
            .unwrap();
        assert_eq!(page.total, Some(3));
        assert_eq!(
            data(&page),
            [json!({"id": "t1", "companyId": 7}), json!({"id": "t2", "companyId": "ACME"}), json!({})]
        );
        assert_eq!(page.records[2].key, None);
        assert_eq!(page.report.lines("tickets").len(), 1);
        let err = c.decode(br#"{"tickets":[{"id":"t1"},7]}"#).unwrap_err();
        assert!(
            err.contains("an item is a number, not an object"),
            "an item that is not a record is a body fault: {err}"
        );
    }

    #[test]
    fn explains_bodies_that_are_not_pages() {
        let c = codec(Envelope::Key("items"), Transform::None);
        for (body, expect) in [
            (&br#"{"nextPage":null}"#[..], "no `items` list"),
            (b"<html>502</html>", "not valid JSON"),
            (br#"{"items":[{"id":"a"}"#, "ends early"),
            (br#"{"items":[],"nextPage":5}"#, "invalid type"),
            (br#"{"items":[]} trailing"#, "not valid JSON"),
            (br#"{"items":null}"#, "invalid type: null"),
            (br#"[]"#, "invalid type: sequence"),
        ] {
            let err = c.decode(body).unwrap_err();
            assert!(err.contains(expect), "{}: {err}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn one_object_or_a_list() {
        let c = codec(Envelope::OneOrMany, Transform::None);
        assert_eq!(data(&c.decode(br#"{"id":"a"}"#).unwrap()), [json!({"id": "a"})]);
        assert_eq!(data(&c.decode(br#"[{"id":"a"},{"id":"b"}]"#).unwrap()).len(), 2);
        let page = c.decode(br#"{"items":[{"id":"a"}],"nextPage":"n"}"#).unwrap();
        assert_eq!((data(&page).len(), page.next_page.as_deref()), (1, Some("n")));
        assert!(c.decode(b"7").unwrap_err().contains("a number"));
        assert!(c.decode(b"{}").unwrap().records.is_empty(), "an empty object is no record");
        assert!(c.decode(br#"{"items":null}"#).unwrap_err().contains("`items` is null"));
        assert!(c.decode(br#"{"errors":[{"message":"m"}]}"#).unwrap_err().contains("error object"));
    }

    #[test]
    fn strings_wrap_and_secrets_go() {
        let c =
            Codec::new("b", &json!({}), Envelope::Key("items"), Transform::WrapString("contact"), &["contact"], None);
        let page = c.decode(br#"{"items":["5491100","x"]}"#).unwrap();
        assert_eq!(data(&page), [json!({"contact": "5491100"}), json!({"contact": "x"})]);
        let c = codec(Envelope::Key("items"), Transform::RemoveSecrets);
        let page = c
            .decode(br#"{"items":[{"id":"tg","token":"123:SECRET","webhook":{"url":"u","token":"w"},"l":[{"password":"p"}]}]}"#)
            .unwrap();
        assert_eq!(data(&page), [json!({"id": "tg", "webhook": {"url": "u"}, "l": [{}]})]);
    }

    #[test]
    fn sessions_gain_chat_id() {
        let c = codec(Envelope::Key("items"), Transform::AddSessionChatId);
        let page = c.decode(br#"{"items":[{"id":"S1","chat":{"chat":{"chatId":"C9"},"firstName":"Ana"}}]}"#).unwrap();
        assert_eq!(
            data(&page),
            [json!({"chat_id": "C9", "id": "S1", "chat": {"chat": {"chatId": "C9"}, "firstName": "Ana"}})]
        );
    }

    #[test]
    fn retain_keeps_whole_lines_in_order() {
        let c = codec(Envelope::Key("items"), Transform::None);
        let mut page = c.decode(br#"{"items":[{"id":"a"},{"id":"bb"},{"id":"c"},{"id":"dddd"}]}"#).unwrap();
        let drop = [key_hash("a"), key_hash("c")];
        page.retain(|n| !drop.contains(&n.key.unwrap()));
        assert_eq!(data(&page), [json!({"id": "bb"}), json!({"id": "dddd"})]);
        assert_eq!(page.records.last().unwrap().end, page.lines.len());
    }
}
