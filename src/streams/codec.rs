//! Turning a response body into records: one generic codec per record type.
//!
//! Items are parsed one at a time and encoded straight into the page's output buffer; nothing
//! of a page reaches stdout until the whole body has parsed, so a body that fails half-way
//! (truncated, a field of the wrong type) is retried without having emitted part of it.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::records::*;
use crate::read::sink::RecordSink;

/// How a page wraps its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// `{"items": [...], "nextPage": "..."}`.
    Items,
    /// `{"total": N, "tickets": [...]}`.
    Tickets,
}

/// What the read engine needs of an API item.
pub trait ApiItem: DeserializeOwned + Send + 'static {
    /// What is emitted for it.
    type Record: Serialize;
    /// The raw value of the stream's cursor field, if the stream has one.
    fn cursor(&self) -> Option<&str>;
    /// The primary key, used to drop repeats of the same record within a window.
    fn key(&self) -> Option<&str>;
    /// The emitted record: nested references flattened, secrets removed.
    fn into_record(self) -> Self::Record;
}

/// What a page says besides its items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageMeta {
    /// The number of items in the page.
    pub len: u64,
    /// `nextPage`, with null, absent and empty all meaning "no more pages".
    pub next_page: Option<String>,
    /// Tickets' `total`.
    pub total: Option<u64>,
}

/// Parses response bodies of one endpoint.
pub trait PageCodec: Sync + Send {
    /// Parses a page, handing each item to `sink` as soon as it is parsed (no page of typed
    /// items is ever held), or explains in one line why the body is not what the endpoint
    /// sends. On error the sink has seen part of the page: the caller discards what it wrote.
    fn decode_into(&self, body: &[u8], sink: &mut RecordSink<'_>) -> Result<PageMeta, String>;
}

/// The [`PageCodec`] for items of type `T`.
pub struct Codec<T> {
    envelope: Envelope,
    _items: PhantomData<fn() -> T>,
}

impl<T> Codec<T> {
    pub const fn new(envelope: Envelope) -> Self {
        Codec { envelope, _items: PhantomData }
    }
}

impl Envelope {
    fn items_key(self) -> &'static str {
        match self {
            Envelope::Items => "items",
            Envelope::Tickets => "tickets",
        }
    }
}

/// The typed pages, used only to explain a body that failed to parse.
#[derive(Deserialize)]
#[allow(dead_code)]
struct ItemsPage<T> {
    items: Vec<T>,
    #[serde(rename = "nextPage", default)]
    next_page: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct TicketsPage<T> {
    #[serde(default)]
    total: Option<u64>,
    tickets: Vec<T>,
}

impl<T: ApiItem> PageCodec for Codec<T> {
    fn decode_into(&self, body: &[u8], sink: &mut RecordSink<'_>) -> Result<PageMeta, String> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let seed = PageSeed::<T> { sink, items_key: self.envelope.items_key(), _items: PhantomData };
        let meta = seed.deserialize(&mut de).and_then(|meta| de.end().map(|_| meta));
        meta.map_err(|streaming_error| match self.envelope {
            Envelope::Items => explain::<ItemsPage<T>>(body, streaming_error),
            Envelope::Tickets => explain::<TicketsPage<T>>(body, streaming_error),
        })
    }
}

/// Visits a page object, streaming its items array into the sink.
struct PageSeed<'s, 'a, T> {
    sink: &'s mut RecordSink<'a>,
    items_key: &'static str,
    _items: PhantomData<fn() -> T>,
}

impl<'de, T: ApiItem> DeserializeSeed<'de> for PageSeed<'_, '_, T> {
    type Value = PageMeta;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<PageMeta, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: ApiItem> Visitor<'de> for PageSeed<'_, '_, T> {
    type Value = PageMeta;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with `{}`", self.items_key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PageMeta, A::Error> {
        let PageSeed { sink, items_key, .. } = self;
        let (mut len, mut next_page, mut total) = (None, None, None);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == items_key {
                if len.is_some() {
                    return Err(de::Error::duplicate_field(items_key));
                }
                len = Some(map.next_value_seed(ItemsSeed::<T> { sink: &mut *sink, _items: PhantomData })?);
            } else if key == "nextPage" {
                next_page = map.next_value::<Option<String>>()?;
            } else if key == "total" {
                total = map.next_value::<Option<u64>>()?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        let len = len.ok_or_else(|| de::Error::missing_field(items_key))?;
        let next_page = next_page.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(PageMeta { len, next_page, total })
    }
}

/// Visits the items array, one item at a time.
struct ItemsSeed<'s, 'a, T> {
    sink: &'s mut RecordSink<'a>,
    _items: PhantomData<fn() -> T>,
}

impl<'de, T: ApiItem> DeserializeSeed<'de> for ItemsSeed<'_, '_, T> {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: ApiItem> Visitor<'de> for ItemsSeed<'_, '_, T> {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut count = 0;
        while let Some(item) = seq.next_element::<T>()? {
            self.sink.push(item).map_err(de::Error::custom)?;
            count += 1;
        }
        Ok(count)
    }
}

/// Explains a parse failure, naming the field where possible.
fn explain<P: DeserializeOwned>(body: &[u8], streaming_error: serde_json::Error) -> String {
    match parse::<P>(body) {
        Err(why) => why,
        // The typed parse succeeded: the failure came from writing a record, not the body.
        Ok(_) => streaming_error.to_string(),
    }
}

/// Parses fast; on failure parses again tracking the path, to say which field was wrong.
fn parse<P: DeserializeOwned>(body: &[u8]) -> Result<P, String> {
    serde_json::from_slice(body).map_err(|fast_error| {
        let mut de = serde_json::Deserializer::from_slice(body);
        let path = match serde_path_to_error::deserialize::<_, P>(&mut de) {
            Err(e) => e.path().to_string(),
            Ok(_) => String::new(),
        };
        // Flattened structs hide the last path segment; the key just before the error's
        // position names the field.
        let field = if fast_error.is_data() { key_before(body, fast_error.line(), fast_error.column()) } else { None };
        match (path.as_str(), field) {
            ("" | ".", None) => fast_error.to_string(),
            ("" | ".", Some(f)) => format!("{fast_error} (field `{f}`)"),
            (p, None) => format!("{fast_error} (at `{p}`)"),
            (p, Some(f)) => format!("{fast_error} (field `{f}` in `{p}`)"),
        }
    })
}

/// The object key closest before `line:column` in `body`, if any.
fn key_before(body: &[u8], line: usize, column: usize) -> Option<String> {
    let line_start = body.split(|b| *b == b'\n').take(line.saturating_sub(1)).map(|l| l.len() + 1).sum::<usize>();
    let end = (line_start + column).min(body.len());
    let before = std::str::from_utf8(&body[..end]).ok()?;
    let colon = before.rfind("\":")?;
    let key_start = before[..colon].rfind('"')?;
    let key = &before[key_start + 1..colon];
    (!key.is_empty() && key.len() <= 64 && !key.contains(['{', '}', ','])).then(|| key.to_string())
}

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

/// Removes credential fields at any depth, so a secret the API returns with a record never
/// reaches a destination.
pub fn remove_secrets(map: &mut Map<String, Value>) {
    map.retain(|k, _| !SECRET_KEYS.contains(&k.as_str()));
    for value in map.values_mut() {
        remove_secrets_in(value);
    }
}

fn remove_secrets_in(value: &mut Value) {
    match value {
        Value::Object(map) => remove_secrets(map),
        Value::Array(items) => items.iter_mut().for_each(remove_secrets_in),
        _ => {}
    }
}

impl ApiItem for ChatItem {
    type Record = ChatRecord;
    fn cursor(&self) -> Option<&str> {
        self.fields.last_user_message_datetime.as_deref()
    }
    fn key(&self) -> Option<&str> {
        self.chat.as_ref()?.chat_id.as_deref()
    }
    fn into_record(self) -> ChatRecord {
        ChatRecord { chat: self.chat.into(), fields: self.fields }
    }
}

impl ApiItem for MessageItem {
    type Record = MessageRecord;
    fn cursor(&self) -> Option<&str> {
        self.fields.creation_time.as_deref()
    }
    fn key(&self) -> Option<&str> {
        self.fields.id.as_deref()
    }
    fn into_record(self) -> MessageRecord {
        MessageRecord { chat: self.chat.into(), fields: self.fields }
    }
}

impl ApiItem for SessionFields {
    type Record = SessionRecord;
    fn cursor(&self) -> Option<&str> {
        self.creation_time.as_deref()
    }
    fn key(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn into_record(self) -> SessionRecord {
        let chat_id = self.chat.as_ref().and_then(|c| c.chat.as_ref()).and_then(|r| r.chat_id.clone());
        SessionRecord { chat_id, fields: self }
    }
}

impl ApiItem for CallItem {
    type Record = CallRecord;
    fn cursor(&self) -> Option<&str> {
        self.fields.creation_datetime.as_deref()
    }
    fn key(&self) -> Option<&str> {
        self.fields.id.as_deref()
    }
    fn into_record(self) -> CallRecord {
        CallRecord { chat: self.chat.into(), fields: self.fields }
    }
}

impl ApiItem for TicketRecord {
    type Record = TicketRecord;
    fn cursor(&self) -> Option<&str> {
        self.creation_time.as_deref()
    }
    fn key(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn into_record(self) -> TicketRecord {
        self
    }
}

/// Full-refresh records are emitted as the API sends them, minus any credentials.
macro_rules! full_refresh_item {
    ($($t:ty),*) => {$(
        impl ApiItem for $t {
            type Record = $t;
            fn cursor(&self) -> Option<&str> {
                None
            }
            fn key(&self) -> Option<&str> {
                self.id.as_deref()
            }
            fn into_record(mut self) -> $t {
                remove_secrets(&mut self.extra);
                self
            }
        }
    )*};
}

full_refresh_item!(ContactRecord, AgentRecord, ChannelRecord, IntentRecord);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{RecordEncoder, RecordSuffix};
    use crate::read::sink::Deduper;
    use serde_json::json;

    /// Decodes `body` with `codec`, returning the page's facts and the emitted records' data.
    fn decode<T: ApiItem>(codec: &Codec<T>, body: &[u8]) -> Result<(PageMeta, Vec<Value>), String> {
        let encoder = RecordEncoder::new("s");
        let suffix = RecordSuffix::new(1);
        let mut dedupe = Deduper::adjacent();
        let mut buf = Vec::new();
        let mut sink = RecordSink::new(&encoder, &mut buf, &suffix, None, dedupe.begin_page());
        let meta = codec.decode_into(body, &mut sink)?;
        sink.finish();
        let records = String::from_utf8(buf)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["record"]["data"].clone())
            .collect();
        Ok((meta, records))
    }

    #[test]
    fn flattens_the_chat_reference_and_keeps_unknown_fields() {
        let body = json!({"items": [{"id": "m1", "creationTime": "2024-01-01T00:00:00Z", "chat": {"chatId": "C1", "channelId": "wa", "contactId": "549"},
            "content": {"type": "text", "text": "hi", "newContentField": 1}, "brandNewField": {"a": [1]}}], "nextPage": "", "extraEnvelopeField": [1, 2]});
        let (meta, records) = decode(&Codec::<MessageItem>::new(Envelope::Items), body.to_string().as_bytes()).unwrap();
        assert_eq!(meta, PageMeta { len: 1, next_page: None, total: None }, "an empty nextPage ends paging");
        assert_eq!(
            records,
            [
                json!({"chat_id": "C1", "channel_id": "wa", "contact_id": "549", "id": "m1", "creationTime": "2024-01-01T00:00:00Z",
                "content": {"type": "text", "text": "hi", "newContentField": 1}, "brandNewField": {"a": [1]}})
            ]
        );
    }

    #[test]
    fn sessions_keep_their_chat_and_gain_chat_id() {
        let item: SessionFields =
            serde_json::from_value(json!({"id": "S1", "chat": {"chat": {"chatId": "C9"}, "firstName": "Ana"}}))
                .unwrap();
        let record = serde_json::to_value(item.into_record()).unwrap();
        assert_eq!(
            record,
            json!({"chat_id": "C9", "id": "S1", "chat": {"chat": {"chatId": "C9"}, "firstName": "Ana"}})
        );
    }

    #[test]
    fn channel_secrets_are_removed_at_any_depth() {
        let item: ChannelRecord =
            serde_json::from_value(json!({"id": "tg", "platform": "telegram", "token": "123:SECRET",
            "webhook": {"url": "https://x", "token": "whsec"}, "list": [{"password": "p"}]}))
            .unwrap();
        let record = serde_json::to_value(item.into_record()).unwrap();
        assert_eq!(record, json!({"id": "tg", "platform": "telegram", "webhook": {"url": "https://x"}, "list": [{}]}));
    }

    #[test]
    fn explains_wrong_types_and_envelopes() {
        let chats = Codec::<ChatItem>::new(Envelope::Items);
        let err = decode(&chats, br#"{"items":[{"chat":{"chatId":"C"},"isBanned":"yes"}]}"#).unwrap_err();
        assert!(err.contains("isBanned") && err.contains("expected a boolean"), "{err}");
        for (body, expect) in [
            (&br#"{"nextPage":null}"#[..], "missing field `items`"),
            (b"<html>502</html>", "expected value"),
            (br#"{"items":[{"chat":{"chatId":"C"}"#, "EOF"),
            (br#"{"items":[],"nextPage":5}"#, "nextPage"),
            (br#"{"items":[]} trailing"#, "trailing characters"),
            (br#"{"items":null}"#, "invalid type: null"),
            (br#"[]"#, "expected struct ItemsPage"),
        ] {
            let err = decode(&chats, body).unwrap_err();
            assert!(err.contains(expect), "{}: {err}", String::from_utf8_lossy(body));
        }
        let tickets = Codec::<TicketRecord>::new(Envelope::Tickets);
        let (meta, records) = decode(&tickets, br#"{"total":3,"tickets":[{"id":"t1","companyId":7}]}"#).unwrap();
        assert_eq!((meta.len, meta.total, records.len()), (1, Some(3), 1));
        let err = decode(&tickets, br#"{"total":3,"tickets":[{"id":"t1","companyId":"7"}]}"#).unwrap_err();
        assert!(err.contains("companyId"), "{err}");
    }
}
