//! One struct per stream record, following Botmaker's OpenAPI schemas.
//!
//! These types are the single source of the discovered JSON Schemas and of what a RECORD's
//! `data` holds. Every struct keeps the fields the API adds later in a flattened `extra` map
//! (`additionalProperties: true`), so a new API field reaches the destination instead of being
//! dropped. Field types follow the spec; a value of the wrong JSON type makes the page fail to
//! parse, which the HTTP layer reports (after retries) instead of emitting a record that breaks
//! its schema. Fields the API leaves out are left out of the record too (`skip_serializing_none`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

/// Unknown fields, kept as they came.
pub type Extra = Map<String, Value>;

/// The API's `{chatId, channelId, contactId}` reference.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatRef {
    /// Botmaker's chat id.
    pub chat_id: Option<String>,
    /// The channel the chat happens on, e.g. `botproject-whatsapp-5491100000000`.
    pub channel_id: Option<String>,
    /// The contact's id on that channel (the phone number on WhatsApp).
    pub contact_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `chat{chatId,channelId,contactId}` flattened to top-level columns, the way warehouses want it.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct FlatChatRef {
    /// Botmaker's chat id (`chat.chatId` in the API).
    pub chat_id: Option<String>,
    /// The channel id (`chat.channelId` in the API).
    pub channel_id: Option<String>,
    /// The contact id on that channel (`chat.contactId` in the API).
    pub contact_id: Option<String>,
}

impl From<Option<ChatRef>> for FlatChatRef {
    fn from(chat: Option<ChatRef>) -> Self {
        let chat = chat.unwrap_or_default();
        FlatChatRef { chat_id: chat.chat_id, channel_id: chat.channel_id, contact_id: chat.contact_id }
    }
}

// ---------------------------------------------------------------------------------------------
// chats

/// A chat's current state (one row per chat; it changes as the conversation goes on).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatFields {
    /// When the chat conversation began (in practice the contact's creation).
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    /// Start of the chat's latest session.
    #[schemars(extend("format" = "date-time"))]
    pub last_session_creation_time: Option<String>,
    pub external_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    /// When WhatsApp's 24-hour customer-service window closes.
    #[schemars(extend("format" = "date-time"))]
    pub whats_app_window_close_datetime: Option<String>,
    /// Chat variables, name → value.
    pub variables: Option<Map<String, Value>>,
    pub tags: Option<Vec<String>>,
    pub queue_id: Option<String>,
    pub agent_id: Option<String>,
    pub on_hold_agent_id: Option<String>,
    /// When the user last sent a message: the chats stream's cursor.
    #[schemars(extend("format" = "date-time"))]
    pub last_user_message_datetime: Option<String>,
    /// API URL listing this chat's messages.
    #[serde(rename = "listMessagesURL")]
    pub list_messages_url: Option<String>,
    pub is_banned: Option<bool>,
    pub is_tester: Option<bool>,
    pub is_bot_muted: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A chat as the API lists it.
#[derive(Debug, Deserialize)]
pub struct ChatItem {
    pub chat: Option<ChatRef>,
    #[serde(flatten)]
    pub fields: ChatFields,
}

/// A chats record.
#[skip_serializing_none]
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "chats", extend("additionalProperties" = true))]
pub struct ChatRecord {
    #[serde(flatten)]
    pub chat: FlatChatRef,
    #[serde(flatten)]
    pub fields: ChatFields,
}

// ---------------------------------------------------------------------------------------------
// messages

/// Media attached to a message.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct Media {
    pub caption: Option<String>,
    /// Media URL; fetching it requires the access token.
    pub url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A shared location.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct Location {
    pub latitude: Option<String>,
    pub longitude: Option<String>,
    pub name: Option<String>,
    pub address: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A call event inside a message.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct CallEvent {
    /// user-joined, agent-joined, user-left, agent-left, recording, room-destroyed.
    pub event: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// What a message says or carries.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// text, image, audio, file, video, buttons, carousel, button-click, call.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub text: Option<String>,
    pub buttons: Option<Vec<String>>,
    pub selected_button: Option<String>,
    pub carousel_items: Option<Vec<String>>,
    pub media: Option<Media>,
    pub location: Option<Location>,
    pub call: Option<CallEvent>,
    pub whats_app_template_name: Option<String>,
    /// The text before translation, when Botmaker translated it.
    pub original_text: Option<String>,
    /// The audio before transcription, when Botmaker transcribed it.
    pub original_audio_url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Parameters needed to decrypt an encrypted message.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionParams {
    pub version: Option<String>,
    pub config_id: Option<String>,
    pub timestamp: Option<String>,
    pub encrypted_key: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Fields a message has both in /messages and inside a session.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageFields {
    pub id: Option<String>,
    /// When the message was created: the messages stream's cursor.
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    /// Who sent it: bot, user or agent.
    pub from: Option<String>,
    pub agent_id: Option<String>,
    pub queue_id: Option<String>,
    pub content: Option<Content>,
    pub encryption_params: Option<EncryptionParams>,
    #[schemars(extend("format" = "date-time"))]
    pub session_creation_time: Option<String>,
    /// `chatId` + `_` + `sessionCreationTime`.
    pub session_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A message as the API lists it.
#[derive(Debug, Deserialize)]
pub struct MessageItem {
    pub chat: Option<ChatRef>,
    #[serde(flatten)]
    pub fields: MessageFields,
}

/// A messages record.
#[skip_serializing_none]
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "messages", extend("additionalProperties" = true))]
pub struct MessageRecord {
    #[serde(flatten)]
    pub chat: FlatChatRef,
    #[serde(flatten)]
    pub fields: MessageFields,
}

// ---------------------------------------------------------------------------------------------
// sessions

/// The chat a session belongs to, as it was when the session was listed.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct SessionChat {
    pub chat: Option<ChatRef>,
    #[serde(flatten)]
    pub fields: ChatFields,
}

/// An event inside a session (only with `include_session_events`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionEvent {
    /// The event's name, e.g. conversation-close, assigned-to-agent, set-variable.
    pub name: Option<String>,
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    /// Event-specific details; their shape depends on `name`.
    pub info: Option<Map<String, Value>>,
    pub session_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Botmaker's AI analysis of a session (only with `include_session_ai_analysis`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionAiAnalysis {
    pub summary: Option<String>,
    pub does_not_meet_criteria: Option<bool>,
    pub name: Option<String>,
    pub justification: Option<String>,
    /// Scores per aspect. Kept as a free-form object: Botmaker changed it from flat integers to
    /// `{"result": .., "weight": ..}` objects, with keys configurable per account.
    pub aspect_scores: Option<Map<String, Value>>,
    pub quality_score: Option<i64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A session as the API lists it (and as it is emitted, plus `chat_id`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionFields {
    pub id: Option<String>,
    /// When the session started: the sessions stream's cursor (requested with millisecond
    /// precision).
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    /// Why the session started, e.g. Organic or WhatsAppTemplate.
    pub starting_cause: Option<String>,
    pub chat: Option<SessionChat>,
    /// The session's messages (only with `include_session_messages`).
    pub messages: Option<Vec<MessageFields>>,
    pub events: Option<Vec<SessionEvent>>,
    pub ai_analysis: Option<SessionAiAnalysis>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A sessions record: the session with its `chat` object, plus `chat_id` for joins.
#[skip_serializing_none]
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "sessions", extend("additionalProperties" = true))]
pub struct SessionRecord {
    /// The session's chat id (`chat.chat.chatId`), at the top level for joins.
    pub chat_id: Option<String>,
    #[serde(flatten)]
    pub fields: SessionFields,
}

// ---------------------------------------------------------------------------------------------
// calls

/// A call recording.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct Recording {
    pub id: Option<String>,
    /// Recording URL; fetching it requires the access token.
    pub url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Someone who took part in a call.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallParticipant {
    pub participant_id: Option<String>,
    pub initiated_by_type: Option<String>,
    pub assigned_ts: Option<String>,
    pub support_team_id: Option<String>,
    pub joined_datetime: Option<String>,
    pub left_datetime: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Fields of a call.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallFields {
    pub id: Option<String>,
    pub agent_id: Option<String>,
    /// When the call was created: the calls stream's cursor.
    #[schemars(extend("format" = "date-time"))]
    pub creation_datetime: Option<String>,
    pub start_datetime: Option<String>,
    pub end_datetime: Option<String>,
    pub recording: Option<Recording>,
    /// audio or video.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub participants: Option<Vec<CallParticipant>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A call as the API lists it.
#[derive(Debug, Deserialize)]
pub struct CallItem {
    pub chat: Option<ChatRef>,
    #[serde(flatten)]
    pub fields: CallFields,
}

/// A calls record.
#[skip_serializing_none]
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "calls", extend("additionalProperties" = true))]
pub struct CallRecord {
    #[serde(flatten)]
    pub chat: FlatChatRef,
    #[serde(flatten)]
    pub fields: CallFields,
}

// ---------------------------------------------------------------------------------------------
// contacts

/// A labelled value (phone number, e-mail, address, website).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct ContactField {
    pub value: Option<String>,
    pub label: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One of a contact's chats.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactChat {
    pub id: Option<String>,
    pub platform_contact_id: Option<String>,
    pub chat_channel_id: Option<String>,
    pub bsuid: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A contacts record.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "contacts", extend("additionalProperties" = true))]
pub struct ContactRecord {
    pub id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub birthday: Option<String>,
    pub picture_url: Option<String>,
    pub language: Option<String>,
    pub country: Option<String>,
    pub company_id: Option<String>,
    pub job_title: Option<String>,
    pub phone_numbers: Option<Vec<ContactField>>,
    pub emails: Option<Vec<ContactField>>,
    pub addresses: Option<Vec<ContactField>>,
    pub websites: Option<Vec<ContactField>>,
    pub instagram_ids: Option<Vec<String>>,
    pub facebook_ids: Option<Vec<String>>,
    pub twitter_ids: Option<Vec<String>>,
    pub notes: Option<Vec<String>>,
    pub chats: Option<Vec<ContactChat>>,
    pub whatsapp_bsuids: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// agents

/// An agents record.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "agents", extend("additionalProperties" = true))]
pub struct AgentRecord {
    pub id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub alias: Option<String>,
    pub is_online: Option<bool>,
    pub status: Option<String>,
    /// ADMIN, CONFIGURATOR, SUPERVISOR, OPERATOR or a custom role name.
    pub role: Option<String>,
    pub queues: Option<Vec<String>>,
    /// How many chats the agent can attend at once.
    pub slots: Option<i64>,
    /// never, low, normal or high.
    pub priority: Option<String>,
    pub groups: Option<Vec<String>>,
    pub additional_info: Option<Map<String, Value>>,
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    pub tags: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// channels

/// A channels record: the union of the API's per-platform channel shapes. Secrets the API
/// returns with a channel (a Telegram bot `token`, a webhook's `token`) are removed before the
/// record is written.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "channels", extend("additionalProperties" = true))]
pub struct ChannelRecord {
    pub id: Option<String>,
    /// whatsapp, messenger, telegram, instagram, webchat, ...
    pub platform: Option<String>,
    pub active: Option<bool>,
    pub name: Option<String>,
    pub webhook_id: Option<String>,
    /// WhatsApp: the line's phone number.
    pub number: Option<String>,
    pub status: Option<String>,
    pub quality: Option<String>,
    pub waba_id: Option<String>,
    pub trial: Option<bool>,
    /// Messenger and Instagram.
    pub recipient_id: Option<String>,
    pub days_to_expire: Option<i64>,
    /// Instagram.
    pub page_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// intents

/// The bot an intent belongs to.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct Bot {
    pub id: Option<String>,
    pub name: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An intents record.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[schemars(title = "intents", extend("additionalProperties" = true))]
pub struct IntentRecord {
    pub id: Option<String>,
    pub name: Option<String>,
    pub bot: Option<Bot>,
    pub topics: Option<Vec<String>>,
    pub triggers: Option<Vec<String>>,
    pub active: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// tickets

/// A selected option of a ticket custom field.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketFieldValue {
    pub value_id: Option<String>,
    pub label: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A ticket custom field and its value.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct TicketCustomField {
    pub id: Option<String>,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub value: Option<Vec<TicketFieldValue>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A tickets record.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "tickets", extend("additionalProperties" = true))]
pub struct TicketRecord {
    pub id: Option<String>,
    pub business_id: Option<String>,
    pub ticket_code: Option<String>,
    pub state: Option<String>,
    pub last_state_modification: Option<String>,
    /// When the ticket was created: the tickets stream's cursor.
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    pub last_modification_by: Option<Map<String, Value>>,
    pub subject: Option<String>,
    pub content: Option<String>,
    pub content_format: Option<String>,
    pub searchable_content: Option<String>,
    pub company_id: Option<i64>,
    pub author_id: Option<i64>,
    pub assigned_to: Option<Map<String, Value>>,
    pub follow_by: Option<Vec<i64>>,
    pub waiting_queue_ids: Option<Vec<String>>,
    pub waiting_assignation_since: Option<String>,
    pub assigned_queue_id: Option<String>,
    pub first_answer: Option<String>,
    pub resolve_date: Option<String>,
    pub finished_slas_metrics: Option<Map<String, Value>>,
    pub attachments: Option<Vec<Map<String, Value>>>,
    pub chat_ids: Option<Map<String, Value>>,
    pub field_values: Option<Vec<TicketCustomField>>,
    #[serde(flatten)]
    pub extra: Extra,
}
