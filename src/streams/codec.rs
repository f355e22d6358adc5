//! Turning a response body into records: one generic codec per record type.
//!
//! A page is parsed completely before any of it is written, so a body that fails half-way
//! (truncated, a field of the wrong type) can be retried without having emitted part of it.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
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

/// A parsed page, its items still typed.
pub struct Decoded {
    pub items: Box<dyn ItemBatch>,
    /// The number of items in the page.
    pub len: usize,
    /// `nextPage`, with null, absent and empty all meaning "no more pages".
    pub next_page: Option<String>,
    /// Tickets' `total`.
    pub total: Option<u64>,
}

/// Typed items, written through a [`RecordSink`].
pub trait ItemBatch: Send {
    fn write_to(self: Box<Self>, sink: &mut RecordSink<'_>) -> serde_json::Result<()>;
}

impl<T: ApiItem> ItemBatch for Vec<T> {
    fn write_to(self: Box<Self>, sink: &mut RecordSink<'_>) -> serde_json::Result<()> {
        for item in *self {
            sink.push(item)?;
        }
        Ok(())
    }
}

/// Parses response bodies of one endpoint.
pub trait PageCodec: Sync + Send {
    /// Parses a whole page, or explains in one line why the body is not what the endpoint sends.
    fn decode(&self, body: &[u8]) -> Result<Decoded, String>;
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

#[derive(Deserialize)]
struct ItemsPage<T> {
    items: Vec<T>,
    #[serde(rename = "nextPage", default)]
    next_page: Option<String>,
}

#[derive(Deserialize)]
struct TicketsPage<T> {
    #[serde(default)]
    total: Option<u64>,
    tickets: Vec<T>,
}

impl<T: ApiItem> PageCodec for Codec<T> {
    fn decode(&self, body: &[u8]) -> Result<Decoded, String> {
        let (items, next_page, total) = match self.envelope {
            Envelope::Items => {
                let page: ItemsPage<T> = parse(body)?;
                (page.items, page.next_page, None)
            }
            Envelope::Tickets => {
                let page: TicketsPage<T> = parse(body)?;
                (page.tickets, None, page.total)
            }
        };
        let next_page = next_page.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(Decoded { len: items.len(), items: Box::new(items), next_page, total })
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
    use serde_json::json;

    #[test]
    fn flattens_the_chat_reference_and_keeps_unknown_fields() {
        let body = json!({"items": [{"id": "m1", "creationTime": "2024-01-01T00:00:00Z", "chat": {"chatId": "C1", "channelId": "wa", "contactId": "549"},
            "content": {"type": "text", "text": "hi", "newContentField": 1}, "brandNewField": {"a": [1]}}], "nextPage": ""});
        let codec = Codec::<MessageItem>::new(Envelope::Items);
        let decoded = codec.decode(body.to_string().as_bytes()).unwrap();
        assert_eq!(decoded.len, 1);
        assert_eq!(decoded.next_page, None, "an empty nextPage ends paging");
        let page: ItemsPage<MessageItem> = serde_json::from_value(body).unwrap();
        let record = serde_json::to_value(page.items.into_iter().next().unwrap().into_record()).unwrap();
        assert_eq!(
            record,
            json!({"chat_id": "C1", "channel_id": "wa", "contact_id": "549", "id": "m1", "creationTime": "2024-01-01T00:00:00Z",
                "content": {"type": "text", "text": "hi", "newContentField": 1}, "brandNewField": {"a": [1]}})
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
        let codec = Codec::<ChatItem>::new(Envelope::Items);
        let err = codec.decode(br#"{"items":[{"chat":{"chatId":"C"},"isBanned":"yes"}]}"#).err().unwrap();
        assert!(err.contains("isBanned") && err.contains("expected a boolean"), "{err}");
        let err = codec.decode(br#"{"nextPage":null}"#).err().unwrap();
        assert!(err.contains("missing field `items`"), "{err}");
        let err = codec.decode(b"<html>502</html>").err().unwrap();
        assert!(err.contains("expected value"), "{err}");
        let err = codec.decode(br#"{"items":[{"chat":{"chatId":"C"}"#).err().unwrap();
        assert!(err.contains("EOF"), "{err}");
        let err = codec.decode(br#"{"items":[],"nextPage":5}"#).err().unwrap();
        assert!(err.contains("nextPage"), "{err}");
        let tickets = Codec::<TicketRecord>::new(Envelope::Tickets);
        let ok = tickets.decode(br#"{"total":3,"tickets":[{"id":"t1","companyId":7}]}"#).unwrap();
        assert_eq!((ok.len, ok.total), (1, Some(3)));
        let err = tickets.decode(br#"{"total":3,"tickets":[{"id":"t1","companyId":"7"}]}"#).err().unwrap();
        assert!(err.contains("companyId"), "{err}");
    }
}
