//! One struct per stream record, following Botmaker's OpenAPI schemas.
//!
//! These types are the single source of the discovered JSON Schemas and of what a RECORD's
//! `data` holds. Every struct keeps the fields the API adds later in a flattened `extra` map
//! (`additionalProperties: true`), so a new API field reaches the destination instead of being
//! dropped. Field types follow the spec; a value of the wrong JSON type makes the page fail to
//! parse, which the HTTP layer reports (after retries) instead of emitting a record that breaks
//! its schema.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Unknown fields, kept as they came.
pub type Extra = Map<String, Value>;

/// The API's `{chatId, channelId, contactId}` reference.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatRef {
    /// Botmaker's chat id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    /// The channel the chat happens on, e.g. `botproject-whatsapp-5491100000000`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// The contact's id on that channel (the phone number on WhatsApp).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `chat{chatId,channelId,contactId}` flattened to top-level columns, the way warehouses want it.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct FlatChatRef {
    /// Botmaker's chat id (`chat.chatId` in the API).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    /// The channel id (`chat.channelId` in the API).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// The contact id on that channel (`chat.contactId` in the API).
    #[serde(skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatFields {
    /// When the chat conversation began (in practice the contact's creation).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    /// Start of the chat's latest session.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub last_session_creation_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// When WhatsApp's 24-hour customer-service window closes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub whats_app_window_close_datetime: Option<String>,
    /// Chat variables, name → value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_hold_agent_id: Option<String>,
    /// When the user last sent a message: the chats stream's cursor.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub last_user_message_datetime: Option<String>,
    /// API URL listing this chat's messages.
    #[serde(rename = "listMessagesURL", skip_serializing_if = "Option::is_none")]
    pub list_messages_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_banned: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_tester: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct Media {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Media URL; fetching it requires the access token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A shared location.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A call event inside a message.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct CallEvent {
    /// user-joined, agent-joined, user-left, agent-left, recording, room-destroyed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// What a message says or carries.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// text, image, audio, file, video, buttons, carousel, button-click, call.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buttons: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected_button: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carousel_items: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<CallEvent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whats_app_template_name: Option<String>,
    /// The text before translation, when Botmaker translated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_text: Option<String>,
    /// The audio before transcription, when Botmaker transcribed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_audio_url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Parameters needed to decrypt an encrypted message.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted_key: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Fields a message has both in /messages and inside a session.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When the message was created: the messages stream's cursor.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    /// Who sent it: bot, user or agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_params: Option<EncryptionParams>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub session_creation_time: Option<String>,
    /// `chatId` + `_` + `sessionCreationTime`.
    #[serde(skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct SessionChat {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat: Option<ChatRef>,
    #[serde(flatten)]
    pub fields: ChatFields,
}

/// An event inside a session (only with `include_session_events`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionEvent {
    /// The event's name, e.g. conversation-close, assigned-to-agent, set-variable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    /// Event-specific details; their shape depends on `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Botmaker's AI analysis of a session (only with `include_session_ai_analysis`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionAiAnalysis {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub does_not_meet_criteria: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// Scores per aspect. Kept as a free-form object: Botmaker changed it from flat integers to
    /// `{"result": .., "weight": ..}` objects, with keys configurable per account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aspect_scores: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality_score: Option<i64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A session as the API lists it (and as it is emitted, plus `chat_id`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When the session started: the sessions stream's cursor (requested with millisecond
    /// precision).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    /// Why the session started, e.g. Organic or WhatsAppTemplate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starting_cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat: Option<SessionChat>,
    /// The session's messages (only with `include_session_messages`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<MessageFields>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<SessionEvent>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai_analysis: Option<SessionAiAnalysis>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A sessions record: the session with its `chat` object, plus `chat_id` for joins.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "sessions", extend("additionalProperties" = true))]
pub struct SessionRecord {
    /// The session's chat id (`chat.chat.chatId`), at the top level for joins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    #[serde(flatten)]
    pub fields: SessionFields,
}

// ---------------------------------------------------------------------------------------------
// calls

/// A call recording.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct Recording {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Recording URL; fetching it requires the access token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Someone who took part in a call.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallParticipant {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initiated_by_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_ts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_team_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joined_datetime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_datetime: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Fields of a call.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// When the call was created: the calls stream's cursor.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub creation_datetime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_datetime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_datetime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording: Option<Recording>,
    /// audio or video.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct ContactField {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One of a contact's chats.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactChat {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_contact_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_channel_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bsuid: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A contacts record.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "contacts", extend("additionalProperties" = true))]
pub struct ContactRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_numbers: Option<Vec<ContactField>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<ContactField>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<ContactField>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websites: Option<Vec<ContactField>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instagram_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facebook_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twitter_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chats: Option<Vec<ContactChat>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whatsapp_bsuids: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// agents

/// An agents record.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "agents", extend("additionalProperties" = true))]
pub struct AgentRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_online: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// ADMIN, CONFIGURATOR, SUPERVISOR, OPERATOR or a custom role name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queues: Option<Vec<String>>,
    /// How many chats the agent can attend at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slots: Option<i64>,
    /// never, low, normal or high.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// channels

/// A channels record: the union of the API's per-platform channel shapes. Secrets the API
/// returns with a channel (a Telegram bot `token`, a webhook's `token`) are removed before the
/// record is written.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "channels", extend("additionalProperties" = true))]
pub struct ChannelRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// whatsapp, messenger, telegram, instagram, webchat, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    /// WhatsApp: the line's phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waba_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial: Option<bool>,
    /// Messenger and Instagram.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_to_expire: Option<i64>,
    /// Instagram.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// intents

/// The bot an intent belongs to.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct Bot {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An intents record.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[schemars(title = "intents", extend("additionalProperties" = true))]
pub struct IntentRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot: Option<Bot>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topics: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triggers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// tickets

/// A selected option of a ticket custom field.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketFieldValue {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A ticket custom field and its value.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct TicketCustomField {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Vec<TicketFieldValue>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A tickets record.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "tickets", extend("additionalProperties" = true))]
pub struct TicketRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_state_modification: Option<String>,
    /// When the ticket was created: the tickets stream's cursor.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modification_by: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub searchable_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_by: Option<Vec<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_queue_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_assignation_since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_queue_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_answer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolve_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_slas_metrics: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Map<String, Value>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_ids: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_values: Option<Vec<TicketCustomField>>,
    #[serde(flatten)]
    pub extra: Extra,
}
