//! Copying one API item into a RECORD line, making it fit the stream's schema on the way.
//!
//! The item is read from the body and written to the output in one pass, without building it
//! in memory first: values that fit their field are copied through, values that do not are
//! converted or kept as [`shape`](super::shape) decides, and the stream's [`Transform`] reshapes
//! the item as it goes. The primary key and the cursor are picked up on the way, so the read
//! engine can filter and deduplicate records without parsing them again.

use std::borrow::Cow;
use std::fmt;
use std::io::Write as _;

use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::shape::{
    canonical_integer, canonical_number, format_timestamp, from_epoch, from_epoch_fraction, instant_of, is_rfc3339_utc,
    Fix, JsonKind, Path, Report, Shape,
};
use crate::time::parse_datetime;

/// Keys whose values are credentials wherever they appear in a record.
const SECRET_KEYS: &[&str] = &[
    "token",
    "accessToken",
    "access_token",
    "refreshToken",
    "secret",
    "clientSecret",
    "secretId",
    "password",
    "apiKey",
];

/// What Botmaker's dashboards show where a metric sent as text does not apply; emitted as null.
const NOT_APPLICABLE: &[&str] = &["", "-"];

/// How an API item is reshaped into the emitted record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transform {
    /// Emitted as the API sends it.
    None,
    /// `chat{chatId,channelId,contactId}` becomes top-level `chat_id`, `channel_id`,
    /// `contact_id`, the way warehouses join on them.
    FlattenChat,
    /// Sessions keep their `chat` object and gain `chat_id` (`chat.chat.chatId`) for joins.
    AddSessionChatId,
    /// Credentials the API returns with a record (a bot token, a webhook secret) are removed
    /// at any depth, so they never reach a destination.
    RemoveSecrets,
    /// Items that are plain strings become `{"<field>": "..."}`.
    WrapString(&'static str),
}

/// The most primary-key fields a stream may have.
pub(crate) const MAX_KEY_FIELDS: usize = 2;

/// How to copy the items of one stream.
pub(crate) struct ItemRules<'a> {
    pub(crate) shape: &'a Shape,
    pub(crate) transform: Transform,
    pub(crate) primary_key: &'a [&'static str],
    pub(crate) cursor_field: Option<&'static str>,
}

/// What was picked up from an item while it was copied.
#[derive(Debug, Default)]
pub(crate) struct Picked {
    /// Hashes of the primary key's parts ([`text_hash`] of their text), in the key's order.
    pub(crate) key: [Option<u128>; MAX_KEY_FIELDS],
    pub(crate) cursor: Option<chrono::DateTime<chrono::Utc>>,
}

/// The 128-bit hash a key part is known by: a collision among a billion keys has a probability
/// of about 1e-21.
pub(crate) fn text_hash(text: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(text.as_bytes())
}

/// A top-level value the item is picked up from (key parts, the cursor): held as the body's own
/// text where it has no escapes, so picking costs no allocation.
enum Scalar<'de> {
    Str(Cow<'de, str>),
    U64(u64),
    I64(i64),
    F64(f64),
    Other(Value),
}

impl<'de> serde::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::U64(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::I64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::F64(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Other(Value::Bool(v)))
    }
    fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Other(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Other(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar<'de>, A::Error> {
        <Value as serde::Deserialize>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar<'de>, A::Error> {
        <Value as serde::Deserialize>::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Scalar::Other)
    }
}

/// Copies one item into `out` (its JSON object only, no envelope); fails only if the item is
/// not JSON, or neither an object nor (under `Transform::WrapString`) a string or number.
pub(crate) fn copy_item<'de, D: Deserializer<'de>>(
    de: D,
    rules: &ItemRules<'_>,
    out: &mut Vec<u8>,
    report: &mut Report,
) -> Result<Picked, D::Error> {
    let mut w = Writer { out, report, remove_secrets: rules.transform == Transform::RemoveSecrets };
    let mut picked = Picked::default();
    de.deserialize_any(ItemVisitor { rules, w: &mut w, picked: &mut picked })?;
    Ok(picked)
}

/// The output and what is noted about it.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
    report: &'a mut Report,
    remove_secrets: bool,
}

impl Writer<'_> {
    fn string(&mut self, s: &str) {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *self.out, s);
    }

    fn raw(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    fn display(&mut self, v: impl fmt::Display) {
        let _ = write!(self.out, "{v}");
    }

    fn f64(&mut self, v: f64) {
        let _ = serde_json::to_writer(&mut *self.out, &v);
    }

    fn key(&mut self, first: &mut bool, key: &str) {
        if !std::mem::take(first) {
            self.out.push(b',');
        }
        self.string(key);
        self.out.push(b':');
    }

    /// Copies `value` (already parsed) as a value of `shape`.
    fn value(&mut self, value: &Value, shape: &Shape, path: &Path<'_>) {
        // A `Value` is its own deserializer and visits exactly like a body would.
        let _ = ValueSeed { shape, path, w: self, pick: None }.deserialize(value);
    }
}

/// Copies one value of a known shape.
struct ValueSeed<'s, 'p, 'w, 'o, 'k> {
    shape: &'s Shape,
    path: &'p Path<'p>,
    w: &'w mut Writer<'o>,
    /// A value nested below this one to pick up on the way.
    pick: Option<Pick<'k>>,
}

/// Where a nested value lies (object keys from here down) and where it goes once found.
struct Pick<'k> {
    path: &'static [&'static str],
    slot: &'k mut Option<Value>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl ValueSeed<'_, '_, '_, '_, '_> {
    fn note(&mut self, fix: Fix) {
        self.w.report.note(self.path, fix, self.shape.expected());
    }

    fn mismatch(&mut self, from: JsonKind) {
        self.note(Fix::Kept { from });
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.w.raw("null");
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.w.raw("null");
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.deserialize(d)
    }

    fn visit_bool<E>(mut self, v: bool) -> Result<(), E> {
        match self.shape {
            Shape::Any | Shape::Boolean => self.w.display(v),
            Shape::String => {
                self.w.string(if v { "true" } else { "false" });
                self.note(Fix::Converted { from: JsonKind::Bool });
            }
            _ => {
                self.w.display(v);
                self.mismatch(JsonKind::Bool);
            }
        }
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.integer(v)
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.integer(v)
    }

    fn visit_f64<E>(mut self, v: f64) -> Result<(), E> {
        match self.shape {
            Shape::Any | Shape::Number | Shape::NumberText => self.w.f64(v),
            Shape::DateTime => match from_epoch_fraction(v) {
                Some(t) => {
                    self.w.string(&format_timestamp(t));
                    self.note(Fix::TimestampNormalised);
                }
                None => {
                    self.w.f64(v);
                    self.note(Fix::TimestampUnreadable);
                }
            },
            Shape::Integer if v.fract() == 0.0 && v.abs() < 9.0e15 => {
                self.w.display(v as i64);
                self.note(Fix::Converted { from: JsonKind::Number });
            }
            Shape::String => {
                let mut text = Vec::new();
                let _ = serde_json::to_writer(&mut text, &v);
                self.w.string(&String::from_utf8_lossy(&text));
                self.note(Fix::Converted { from: JsonKind::Number });
            }
            _ => {
                self.w.f64(v);
                self.mismatch(JsonKind::Number);
            }
        }
        Ok(())
    }

    fn visit_str<E>(mut self, v: &str) -> Result<(), E> {
        match self.shape {
            Shape::Any | Shape::String => self.w.string(v),
            Shape::DateTime => self.timestamp_text(v),
            Shape::Integer => match canonical_integer(v) {
                Some(n) => {
                    self.w.display(n);
                    self.note(Fix::Converted { from: JsonKind::String });
                }
                None => {
                    self.w.string(v);
                    self.mismatch(JsonKind::String);
                }
            },
            Shape::Number => match canonical_number(v) {
                Some(n) => {
                    self.w.display(n);
                    self.note(Fix::Converted { from: JsonKind::String });
                }
                None => {
                    self.w.string(v);
                    self.mismatch(JsonKind::String);
                }
            },
            // Text is what the spec announces here: converting it is not news.
            Shape::NumberText => match canonical_number(v) {
                Some(n) => self.w.display(n),
                None if NOT_APPLICABLE.contains(&v.trim()) => self.w.raw("null"),
                None => {
                    self.w.string(v);
                    self.mismatch(JsonKind::String);
                }
            },
            Shape::Boolean if v == "true" || v == "false" => {
                self.w.raw(v);
                self.note(Fix::Converted { from: JsonKind::String });
            }
            _ => {
                self.w.string(v);
                self.mismatch(JsonKind::String);
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let items = match self.shape {
            Shape::Array(items) => items,
            Shape::Any => &Shape::Any,
            _ => {
                self.mismatch(JsonKind::Array);
                &Shape::Any
            }
        };
        let path = Path::Items(self.path);
        self.w.out.push(b'[');
        let mut first = true;
        loop {
            if !first {
                // Written before knowing whether another element follows; taken back below.
                self.w.out.push(b',');
            }
            let mark = self.w.out.len();
            if seq.next_element_seed(ValueSeed { shape: items, path: &path, w: &mut *self.w, pick: None })?.is_none() {
                if !first {
                    self.w.out.truncate(mark - 1);
                }
                break;
            }
            first = false;
        }
        self.w.out.push(b']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let props: &[(String, Shape)] = match self.shape {
            Shape::Object(props) => props,
            Shape::Any => &[],
            _ => {
                self.mismatch(JsonKind::Object);
                &[]
            }
        };
        self.w.out.push(b'{');
        let mut first = true;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if self.w.remove_secrets && SECRET_KEYS.contains(&key.as_ref()) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let shape = lookup(props, &key);
            self.w.key(&mut first, &key);
            let path = Path::Field(self.path, &key);
            match self.pick.as_mut().filter(|p| p.path.first() == Some(&key.as_ref())) {
                Some(Pick { path: [_], slot }) => {
                    let value: Value = map.next_value()?;
                    self.w.value(&value, shape, &path);
                    **slot = Some(value).filter(|v| !v.is_null());
                }
                Some(Pick { path: [_, rest @ ..], slot }) => {
                    let pick = Some(Pick { path: rest, slot });
                    map.next_value_seed(ValueSeed { shape, path: &path, w: &mut *self.w, pick })?;
                }
                _ => map.next_value_seed(ValueSeed { shape, path: &path, w: &mut *self.w, pick: None })?,
            }
        }
        self.w.out.push(b'}');
        Ok(())
    }
}

impl ValueSeed<'_, '_, '_, '_, '_> {
    fn integer<E, N: Into<i128> + fmt::Display + Copy>(mut self, v: N) -> Result<(), E> {
        match self.shape {
            Shape::Any | Shape::Integer | Shape::Number | Shape::NumberText => self.w.display(v),
            Shape::String => {
                self.w.string(&v.to_string());
                self.note(Fix::Converted { from: JsonKind::Number });
            }
            Shape::DateTime => match i64::try_from(v.into()).ok().and_then(from_epoch) {
                Some(t) => {
                    self.w.string(&format_timestamp(t));
                    self.note(Fix::TimestampNormalised);
                }
                None => {
                    self.w.display(v);
                    self.note(Fix::TimestampUnreadable);
                }
            },
            _ => {
                self.w.display(v);
                self.mismatch(JsonKind::Number);
            }
        }
        Ok(())
    }

    /// A `date-time` field's text: RFC 3339 UTC as is, other readable forms rewritten, an
    /// empty string (no time at all) as null, anything else kept.
    fn timestamp_text(mut self, v: &str) {
        if is_rfc3339_utc(v) {
            self.w.string(v);
        } else if v.trim().is_empty() {
            self.w.raw("null");
        } else if let Some(t) = parse_datetime(v) {
            self.w.string(&format_timestamp(t));
            self.note(Fix::TimestampNormalised);
        } else {
            self.w.string(v);
            self.note(Fix::TimestampUnreadable);
        }
    }
}

/// The declared shape of property `key`, or [`Shape::Any`] for properties the schema does not
/// know.
fn lookup<'s>(props: &'s [(String, Shape)], key: &str) -> &'s Shape {
    props.iter().find(|(name, _)| same(name, key)).map_or(&Shape::Any, |(_, shape)| shape)
}

/// String equality without a call to the C library's `memcmp`: this runs for every key of every
/// record, and musl's `memcmp` (the static image's) compares byte by byte, which made it a
/// tenth of the connector's CPU. Keys are short; comparing eight bytes at a time after the
/// lengths is all it takes.
pub(crate) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut chunks_a = a.chunks_exact(8);
    let mut chunks_b = b.chunks_exact(8);
    for (x, y) in chunks_a.by_ref().zip(chunks_b.by_ref()) {
        let x = u64::from_ne_bytes(x.try_into().expect("eight bytes"));
        let y = u64::from_ne_bytes(y.try_into().expect("eight bytes"));
        if x != y {
            return false;
        }
    }
    chunks_a.remainder().iter().zip(chunks_b.remainder()).all(|(x, y)| x == y)
}

/// Copies the item itself: the top-level object, where the transform applies and the primary
/// key and cursor are picked up.
struct ItemVisitor<'r, 'w, 'o, 'p> {
    rules: &'r ItemRules<'r>,
    w: &'w mut Writer<'o>,
    picked: &'p mut Picked,
}

/// The known top-level properties of an item.
fn props<'r>(rules: &ItemRules<'r>) -> &'r [(String, Shape)] {
    match rules.shape {
        Shape::Object(props) => props,
        _ => &[],
    }
}

impl ItemVisitor<'_, '_, '_, '_> {
    /// Writes a top-level field given as a parsed value, picking it up if it is part of the
    /// key or the cursor.
    fn field(&mut self, first: &mut bool, key: &str, value: &Value) {
        self.pick(key, value);
        let shape = lookup(props(self.rules), key);
        self.w.key(first, key);
        self.w.value(value, shape, &Path::Field(&Path::Root, key));
    }

    fn pick(&mut self, key: &str, value: &Value) {
        if let Some(i) = self.rules.primary_key.iter().position(|k| same(k, key)) {
            self.picked.key[i] = match value {
                Value::String(s) if !s.is_empty() => Some(text_hash(s)),
                Value::Number(n) => Some(text_hash(&n.to_string())),
                _ => None,
            };
        }
        if self.rules.cursor_field.is_some_and(|c| same(c, key)) {
            self.picked.cursor = instant_of(value);
        }
    }

    /// Writes a top-level key part or cursor field, picking it up on the way.
    fn scalar_field(&mut self, first: &mut bool, key: &str, value: Scalar<'_>) {
        let shape = lookup(props(self.rules), key);
        let part = self.rules.primary_key.iter().position(|k| same(k, key));
        let is_cursor = self.rules.cursor_field.is_some_and(|c| same(c, key));
        self.w.key(first, key);
        let path = Path::Field(&Path::Root, key);
        let seed = ValueSeed { shape, path: &path, w: &mut *self.w, pick: None };
        let (hash, instant) = match &value {
            Scalar::Str(s) => {
                let _ = seed.visit_str::<serde::de::value::Error>(s);
                (Some(text_hash(s)).filter(|_| !s.is_empty()), if is_cursor { parse_datetime(s) } else { None })
            }
            Scalar::U64(n) => {
                let _ = seed.visit_u64::<serde::de::value::Error>(*n);
                (Some(text_hash(&n.to_string())), i64::try_from(*n).ok().and_then(from_epoch))
            }
            Scalar::I64(n) => {
                let _ = seed.visit_i64::<serde::de::value::Error>(*n);
                (Some(text_hash(&n.to_string())), from_epoch(*n))
            }
            Scalar::F64(n) => {
                let _ = seed.visit_f64::<serde::de::value::Error>(*n);
                let as_number = serde_json::Number::from_f64(*n).map(Value::Number).unwrap_or(Value::Null);
                (Some(text_hash(&as_number.to_string())), instant_of(&as_number))
            }
            Scalar::Other(v) => {
                self.w.value(v, shape, &path);
                (None, None)
            }
        };
        if let Some(i) = part {
            self.picked.key[i] = hash;
        }
        if is_cursor {
            self.picked.cursor = instant;
        }
    }

    fn wants(&self, key: &str) -> bool {
        self.rules.primary_key.iter().any(|k| same(k, key)) || self.rules.cursor_field.is_some_and(|c| same(c, key))
    }
}

impl<'de> Visitor<'de> for ItemVisitor<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.wrap(Value::String(v.to_string()), "a string")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let transform = self.rules.transform;
        self.w.out.push(b'{');
        let mut first = true;
        let mut session_chat_id = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let key = key.as_ref();
            if self.w.remove_secrets && SECRET_KEYS.contains(&key) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let is_chat = same(key, "chat");
            match transform {
                Transform::FlattenChat if is_chat => {
                    let chat: Value = map.next_value()?;
                    self.flatten_chat(&mut first, chat);
                }
                Transform::AddSessionChatId if is_chat => {
                    let shape = lookup(props(self.rules), key);
                    self.w.key(&mut first, key);
                    let path = Path::Field(&Path::Root, key);
                    let pick = Some(Pick { path: &["chat", "chatId"], slot: &mut session_chat_id });
                    map.next_value_seed(ValueSeed { shape, path: &path, w: &mut *self.w, pick })?;
                }
                _ if self.wants(key) => {
                    let value: Scalar<'de> = map.next_value()?;
                    self.scalar_field(&mut first, key, value);
                }
                _ => {
                    let shape = lookup(props(self.rules), key);
                    self.w.key(&mut first, key);
                    let path = Path::Field(&Path::Root, key);
                    map.next_value_seed(ValueSeed { shape, path: &path, w: &mut *self.w, pick: None })?;
                }
            }
        }
        if let Some(chat_id) = session_chat_id {
            self.field(&mut first, "chat_id", &chat_id);
        }
        self.w.out.push(b'}');
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(A::Error::custom("an item is a list, not an object"))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom("an item is a boolean, not an object"))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.wrap(Value::from(v), "a number")
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.wrap(Value::from(v), "a number")
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.wrap(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number), "a number")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Err(E::custom("an item is null, not an object"))
    }
}

impl ItemVisitor<'_, '_, '_, '_> {
    /// A plain item (a blacklisted number, as text or as a JSON number) becomes
    /// `{"<field>": item}` under [`Transform::WrapString`]; for any other stream it is not a
    /// record.
    fn wrap<E: serde::de::Error>(mut self, item: Value, kind: &str) -> Result<(), E> {
        let Transform::WrapString(field) = self.rules.transform else {
            return Err(E::custom(format!("an item is {kind}, not an object")));
        };
        self.w.out.push(b'{');
        self.field(&mut true, field, &item);
        self.w.out.push(b'}');
        Ok(())
    }

    /// `chat{chatId,channelId,contactId}` → `chat_id`, `channel_id`, `contact_id`; anything
    /// else the reference carries stays under `chat`.
    fn flatten_chat(&mut self, first: &mut bool, chat: Value) {
        let mut chat = match chat {
            Value::Object(chat) => chat,
            Value::Null => return,
            other => return self.field(first, "chat", &other),
        };
        for (from, to) in [("chatId", "chat_id"), ("channelId", "channel_id"), ("contactId", "contact_id")] {
            if let Some(v) = chat.remove(from) {
                self.field(first, to, &v);
            }
        }
        if !chat.is_empty() {
            self.field(first, "chat", &Value::Object(chat));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shape() -> Shape {
        Shape::of_schema(&json!({
            "type": "object",
            "properties": {
                "id": {"type": ["null", "string"]},
                "companyId": {"type": ["null", "integer"]},
                "score": {"type": ["null", "number"]},
                "counter": {"type": ["null", "number"], "x-botmaker-number-sent-as-text": true},
                "active": {"type": ["null", "boolean"]},
                "at": {"type": ["null", "string"], "format": "date-time"},
                "followBy": {"type": ["null", "array"], "items": {"type": "integer"}},
                "parts": {"type": ["null", "array"], "items": {"type": "object", "properties": {
                    "joined": {"type": ["null", "string"], "format": "date-time"}}}},
                "free": {"type": ["null", "object"], "additionalProperties": true}
            }
        }))
    }

    fn copy_with(item: &str, transform: Transform, key: &[&'static str]) -> Result<(Value, Picked, Report), String> {
        let shape = shape();
        let rules = ItemRules { shape: &shape, transform, primary_key: key, cursor_field: Some("at") };
        let mut out = Vec::new();
        let mut report = Report::default();
        let mut de = serde_json::Deserializer::from_str(item);
        let picked = copy_item(&mut de, &rules, &mut out, &mut report).map_err(|e| e.to_string())?;
        let value = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
        Ok((value, picked, report))
    }

    fn copy(item: Value) -> (Value, Report) {
        let (value, _, report) = copy_with(&item.to_string(), Transform::None, &["id"]).unwrap();
        (value, report)
    }

    #[test]
    fn fitting_values_are_copied_unchanged() {
        let item = json!({"id": "a \"q\"\n\u{1F600}", "companyId": 7, "score": 1.5, "active": true,
            "at": "2024-01-01T00:00:00Z", "followBy": [1, 2], "parts": [{"joined": "2024-01-01T00:00:00.123Z"}, {}],
            "free": {"x": [1, "y", null, -2.5e-3]}, "unknown": {"kept": [true]}, "nothing": null, "empty": [], "o": {}});
        let (value, report) = copy(item.clone());
        assert_eq!(value, item);
        assert!(report.is_empty());
    }

    #[test]
    fn converts_what_loses_nothing_and_keeps_the_rest() {
        let (value, report) = copy(json!({"id": 12345, "companyId": "7", "score": "2.5", "active": "true",
            "followBy": ["3", 4, "05", "x", 6.0], "free": "not an object"}));
        assert_eq!(
            value,
            json!({"id": "12345", "companyId": 7, "score": 2.5, "active": true, "followBy": [3, 4, "05", "x", 6],
                "free": "not an object"})
        );
        let lines = report.lines("tickets");
        assert_eq!(lines.len(), 6, "{lines:?}");
        let follow = lines.iter().find(|(_, l)| l.contains("`followBy[]`")).unwrap();
        assert!(follow.0, "values kept as sent are a warning");
        assert!(
            follow.1.contains("1 arrived as a string and were converted to an integer without loss")
                && follow.1.contains("2 arrived as a string instead of an integer and were kept as sent")
                && follow.1.contains("1 arrived as a number and were converted"),
            "{}",
            follow.1
        );
        let company = lines.iter().find(|(_, l)| l.contains("`companyId`")).unwrap();
        assert!(!company.0, "a lossless conversion is only a note");
    }

    #[test]
    fn numbers_sent_as_text_by_the_spec_convert_without_a_report() {
        for (sent, expect) in [
            (json!("3358"), json!(3358)),
            (json!("2.5"), json!(2.5)),
            (json!(7), json!(7)),
            (json!(1.5), json!(1.5)),
            (json!("-"), Value::Null),
            (json!(""), Value::Null),
            (json!(" "), Value::Null),
            (Value::Null, Value::Null),
        ] {
            let (value, report) = copy(json!({"counter": sent}));
            assert_eq!(value["counter"], expect, "{sent}");
            assert!(report.is_empty(), "{sent}: {:?}", report.lines("agent_metrics"));
        }
        let (value, report) = copy(json!({"counter": "n/a"}));
        assert_eq!(value["counter"], "n/a", "other text is kept");
        let lines = report.lines("agent_metrics");
        assert!(lines.len() == 1 && lines[0].0 && lines[0].1.contains("kept as sent"), "{lines:?}");
        let (value, report) = copy(json!({"counter": "0012"}));
        assert_eq!(
            (value["counter"].clone(), report.is_empty()),
            (json!("0012"), false),
            "text a number would not keep"
        );
    }

    #[test]
    fn odd_values_in_other_places() {
        for (sent, expect) in [
            (json!({"companyId": "+12"}), json!({"companyId": "+12"})),
            (json!({"companyId": 3.5}), json!({"companyId": 3.5})),
            (json!({"companyId": true}), json!({"companyId": true})),
            (json!({"id": 2.5}), json!({"id": "2.5"})),
            (json!({"id": false}), json!({"id": "false"})),
            (json!({"id": ["a"]}), json!({"id": ["a"]})),
            (json!({"active": 1}), json!({"active": 1})),
            (json!({"parts": {"joined": 1}}), json!({"parts": {"joined": 1}})),
            (json!({"score": "abc"}), json!({"score": "abc"})),
        ] {
            assert_eq!(copy(sent.clone()).0, expect, "{sent}");
        }
    }

    #[test]
    fn timestamps_become_rfc3339_utc() {
        for (sent, expect) in [
            (json!("2024-01-01T00:00:05Z"), json!("2024-01-01T00:00:05Z")),
            (json!("2024-01-01T00:00:05.120Z"), json!("2024-01-01T00:00:05.120Z")),
            (json!("2024-01-01T02:00:05+02:00"), json!("2024-01-01T00:00:05Z")),
            (json!("2024-01-01T00:00:05.123"), json!("2024-01-01T00:00:05.123Z")),
            (json!("2024-01-01 00:00:05"), json!("2024-01-01T00:00:05Z")),
            (json!(1704067205123i64), json!("2024-01-01T00:00:05.123Z")),
            (json!(1704067205), json!("2024-01-01T00:00:05Z")),
            (json!(1704067205.123), json!("2024-01-01T00:00:05.123Z")),
            (json!(1704067205123.0), json!("2024-01-01T00:00:05.123Z")),
            (json!("1704067205123"), json!("2024-01-01T00:00:05.123Z")),
            (json!(""), Value::Null),
            (json!("soon"), json!("soon")),
            (json!({"t": 1}), json!({"t": 1})),
        ] {
            let (value, picked, _) =
                copy_with(&json!({"at": sent, "parts": [{"joined": sent}]}).to_string(), Transform::None, &["id"])
                    .unwrap();
            assert_eq!(value["at"], expect, "{sent}");
            assert_eq!(value["parts"][0]["joined"], expect, "{sent} nested");
            assert_eq!(picked.cursor, expect.as_str().and_then(parse_datetime), "{sent} cursor");
        }
        let (_, report) = copy(json!({"at": "soon", "parts": [{"joined": 1704067205}, {"joined": "x"}]}));
        let lines = report.lines("calls");
        assert_eq!(lines.len(), 2);
        assert!(lines[0].0 && lines[0].1.contains("`at`: 1 values could not be read"), "{lines:?}");
        assert!(lines[1].1.contains("`parts[].joined`") && lines[1].1.contains("1 timestamps in another form"));
    }

    #[test]
    fn picks_up_composite_keys_in_key_order() {
        let (_, picked, _) = copy_with(r#"{"b": 7, "a": "x", "id": ""}"#, Transform::None, &["a", "b"]).unwrap();
        assert_eq!(picked.key, [Some(text_hash("x")), Some(text_hash("7"))]);
        let (_, picked, _) = copy_with(r#"{"id": ""}"#, Transform::None, &["id"]).unwrap();
        assert_eq!(picked.key, [None, None], "an empty key is no key");
    }

    #[test]
    fn transforms() {
        let (value, picked, _) = copy_with(
            r#"{"id": "m1", "chat": {"chatId": 123, "channelId": "wa", "contactId": "549", "more": 1}}"#,
            Transform::FlattenChat,
            &["chat_id"],
        )
        .unwrap();
        assert_eq!(
            value,
            json!({"id": "m1", "chat_id": 123, "channel_id": "wa", "contact_id": "549", "chat": {"more": 1}})
        );
        assert_eq!(picked.key[0], Some(text_hash("123")));
        let (value, _, _) = copy_with(r#"{"id": "m1", "chat": null}"#, Transform::FlattenChat, &["id"]).unwrap();
        assert_eq!(value, json!({"id": "m1"}));
        let (value, _, _) = copy_with(
            r#"{"id": "S1", "chat": {"chat": {"chatId": "C9"}, "firstName": "Ana"}}"#,
            Transform::AddSessionChatId,
            &["id"],
        )
        .unwrap();
        assert_eq!(value, json!({"chat_id": "C9", "id": "S1", "chat": {"chat": {"chatId": "C9"}, "firstName": "Ana"}}));
        let (value, _, _) = copy_with(
            r#"{"id":"tg","token":"123:SECRET","webhook":{"url":"u","token":"w"},"l":[{"password":"p"},{"a":1,"apiKey":2}]}"#,
            Transform::RemoveSecrets,
            &["id"],
        )
        .unwrap();
        assert_eq!(value, json!({"id": "tg", "webhook": {"url": "u"}, "l": [{}, {"a": 1}]}));
        let (value, picked, _) = copy_with(r#""5491100""#, Transform::WrapString("id"), &["id"]).unwrap();
        assert_eq!((value, picked.key[0]), (json!({"id": "5491100"}), Some(text_hash("5491100"))));
        // A number sent for the text: wrapped, and converted to the declared string without loss.
        let (value, picked, report) = copy_with("5491100", Transform::WrapString("id"), &["id"]).unwrap();
        assert_eq!((value, picked.key[0]), (json!({"id": "5491100"}), Some(text_hash("5491100"))));
        assert!(report.lines("b").iter().all(|(warn, _)| !warn), "a lossless conversion is no warning");
    }

    #[test]
    fn keys_compare_exactly() {
        for (a, b, eq) in [
            ("", "", true),
            ("id", "id", true),
            ("creationTime", "creationTime", true),
            ("creationTime", "creationTimf", false),
            ("creationTimeX", "creationTime", false),
            ("lastUserMessageDatetime", "lastUserMessageDatetime", true),
            ("lastUserMessageDatetimf", "lastUserMessageDatetime", false),
            ("xastUserMessageDatetime", "lastUserMessageDatetime", false),
            ("ñandú", "ñandú", true),
        ] {
            assert_eq!(same(a, b), eq, "{a} vs {b}");
        }
    }

    #[test]
    fn an_item_must_be_an_object() {
        for item in ["7", "\"x\"", "[1]", "null", "true"] {
            let err = copy_with(item, Transform::None, &["id"]).unwrap_err();
            assert!(err.contains("not an object"), "{item}: {err}");
        }
    }
}
