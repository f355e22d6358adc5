//! One struct per stream record, following Botmaker's OpenAPI schemas.
//!
//! These types are the single source of the discovered JSON Schemas: what a RECORD's `data`
//! holds, field by field, with the descriptions the Airbyte UI shows. Records themselves are
//! copied from the API's JSON along these schemas (`transcode`), not built from the structs:
//! a value of an unexpected type is converted where that loses nothing and kept otherwise, never
//! a reason to drop a record. Every schema allows additional properties (the flattened `extra`
//! maps), so a field the API adds later reaches the destination.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

/// Unknown fields, kept as they came.
pub(crate) type Extra = Map<String, Value>;

/// The API's `{chatId, channelId, contactId}` reference.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChatRef {
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
pub(crate) struct FlatChatRef {
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
pub(crate) struct ChatFields {
    /// When the chat conversation began (in practice, when the contact was created).
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    /// When the chat's latest session started.
    #[schemars(extend("format" = "date-time"))]
    pub last_session_creation_time: Option<String>,
    /// An identifier of the chat's user in another system, when one was set.
    pub external_id: Option<String>,
    /// The user's first name, as Botmaker knows it.
    pub first_name: Option<String>,
    /// The user's last name, as Botmaker knows it.
    pub last_name: Option<String>,
    /// The user's country, as Botmaker records it.
    pub country: Option<String>,
    /// The user's e-mail address, when known.
    pub email: Option<String>,
    /// In WhatsApp, until when messages can be sent to the user without charge; after it, a
    /// template is needed.
    #[schemars(extend("format" = "date-time"))]
    pub whats_app_window_close_datetime: Option<String>,
    /// The chat's variables, name → value (for example `{"varName": "some value"}`).
    pub variables: Option<Map<String, Value>>,
    /// The tags this chat is tagged with.
    pub tags: Option<Vec<String>>,
    /// The queue the chat was routed to.
    pub queue_id: Option<String>,
    /// The chat's assigned agent.
    pub agent_id: Option<String>,
    /// The agent the chat is on hold for, if any.
    pub on_hold_agent_id: Option<String>,
    /// When the user last sent a message. The chats stream's cursor.
    #[schemars(extend("format" = "date-time"))]
    pub last_user_message_datetime: Option<String>,
    /// An API URL listing this chat's messages (fetching it needs the access token).
    #[serde(rename = "listMessagesURL")]
    pub list_messages_url: Option<String>,
    /// Whether the chat's user is banned.
    pub is_banned: Option<bool>,
    /// Whether the chat's user is marked as a tester.
    pub is_tester: Option<bool>,
    /// Whether the bot is muted in this chat.
    pub is_bot_muted: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One chat (one user on one channel) in its current state, as `GET /chats` lists it.
///
/// Incremental, cursor `lastUserMessageDatetime`: read in date windows on the chat's last activity
/// (Botmaker's filter), so a chat that changes is emitted again in its new version; deduplicate on
/// `chat_id`. The API's `chat{chatId,channelId,contactId}` is flattened to `chat_id`, `channel_id`
/// and `contact_id`.
#[skip_serializing_none]
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "chats", extend("additionalProperties" = true))]
pub(crate) struct ChatRecord {
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
pub(crate) struct Media {
    /// The caption shown with the media.
    pub caption: Option<String>,
    /// The media's URL; fetching it needs the access token.
    pub url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A shared location.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub(crate) struct Location {
    /// The latitude, as the text Botmaker sends.
    pub latitude: Option<String>,
    /// The longitude, as the text Botmaker sends.
    pub longitude: Option<String>,
    /// The place's name.
    pub name: Option<String>,
    /// The place's address.
    pub address: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A call event inside a message.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub(crate) struct CallEvent {
    /// user-joined, agent-joined, user-left, agent-left, recording, room-destroyed.
    pub event: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// What a message says or carries.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Content {
    /// The kind of content: text, image, audio, file, video, buttons, carousel, button-click or
    /// call.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The message's text.
    pub text: Option<String>,
    /// The option buttons shown to the user.
    pub buttons: Option<Vec<String>>,
    /// The button the user pressed (`button-click` messages).
    pub selected_button: Option<String>,
    /// The items of a carousel message.
    pub carousel_items: Option<Vec<String>>,
    /// The image, audio, file or video the message carries.
    pub media: Option<Media>,
    /// The location the message shares.
    pub location: Option<Location>,
    /// The call event the message reports (`call` messages).
    pub call: Option<CallEvent>,
    /// If the message was a WhatsApp template, the name of the template.
    pub whats_app_template_name: Option<String>,
    /// If Botmaker translated the message, the text before translation.
    pub original_text: Option<String>,
    /// If Botmaker transcribed an audio message, the audio's URL.
    pub original_audio_url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Parameters needed to decrypt an encrypted message.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EncryptionParams {
    /// The version of the encryption parameters.
    pub version: Option<String>,
    /// The id of the encryption configuration used.
    pub config_id: Option<String>,
    /// The timestamp that belongs to the encryption parameters.
    #[schemars(extend("format" = "date-time"))]
    pub timestamp: Option<String>,
    /// The encrypted key needed to decrypt the message.
    pub encrypted_key: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Fields a message has both in /messages and inside a session.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageFields {
    /// The id of the message in Botmaker.
    pub id: Option<String>,
    /// When the message was created. The messages stream's cursor.
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    /// Who sent the message: bot, user or agent.
    pub from: Option<String>,
    /// The agent that sent the message (when `from` is `agent`).
    pub agent_id: Option<String>,
    /// The user's queue when the message was sent.
    pub queue_id: Option<String>,
    /// What the message says or carries.
    pub content: Option<Content>,
    /// What is needed to decrypt the message, when it was encrypted.
    pub encryption_params: Option<EncryptionParams>,
    /// When the session this message belongs to started.
    #[schemars(extend("format" = "date-time"))]
    pub session_creation_time: Option<String>,
    /// The session this message belongs to: `chatId` + `_` + `sessionCreationTime`.
    pub session_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One message sent by the user, the bot or an agent, from `GET /messages`.
///
/// Incremental, cursor `creationTime`: read in date windows, each message emitted once across
/// windows and syncs. The API's `chat{chatId,channelId,contactId}` is flattened to `chat_id`,
/// `channel_id` and `contact_id`.
#[skip_serializing_none]
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "messages", extend("additionalProperties" = true))]
pub(crate) struct MessageRecord {
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
pub(crate) struct SessionChat {
    /// The chat reference: `chatId`, `channelId` and `contactId`.
    pub chat: Option<ChatRef>,
    #[serde(flatten)]
    pub fields: ChatFields,
}

/// An event inside a session (only with `include_session_events`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionEvent {
    /// The event's name, e.g. conversation-close, assigned-to-agent, set-variable.
    pub name: Option<String>,
    /// When the event happened.
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    /// Event-specific details; their shape depends on `name`.
    pub info: Option<Map<String, Value>>,
    /// The session the event belongs to.
    pub session_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Botmaker's AI analysis of a session (only with `include_session_ai_analysis`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionAiAnalysis {
    /// Botmaker's AI summary of the session.
    pub summary: Option<String>,
    /// Botmaker's flag for a session that does not meet the minimum criteria the analysis needs to
    /// evaluate it.
    pub does_not_meet_criteria: Option<bool>,
    /// The name of the analysis applied to the session.
    pub name: Option<String>,
    /// The analysis' explanation of its scores.
    pub justification: Option<String>,
    /// Scores per aspect. Kept as a free-form object: Botmaker changed it from flat integers to
    /// `{"result": .., "weight": ..}` objects, with keys configurable per account.
    pub aspect_scores: Option<Map<String, Value>>,
    /// The session's overall quality score.
    pub quality_score: Option<i64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A session as the API lists it (and as it is emitted, plus `chat_id`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionFields {
    /// The session's id in Botmaker.
    pub id: Option<String>,
    /// When the session started: the sessions stream's cursor (requested with millisecond
    /// precision).
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    /// Why the session started, e.g. Organic or WhatsAppTemplate.
    pub starting_cause: Option<String>,
    /// The chat the session belongs to, as it was when the session was listed.
    pub chat: Option<SessionChat>,
    /// The session's messages (only with `include_session_messages`).
    pub messages: Option<Vec<MessageFields>>,
    /// The session's events (only with `include_session_events`).
    pub events: Option<Vec<SessionEvent>>,
    /// Botmaker's AI analysis of the session (only with `include_session_ai_analysis`).
    pub ai_analysis: Option<SessionAiAnalysis>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One finished conversation session from `GET /sessions`, with its chat as it was listed and, when
/// the config asks for them, its messages, events and AI analysis.
///
/// Incremental, cursor `creationTime`: read in date windows. Botmaker lists a session only once it
/// has finished, so the last `session_settle_days` days are read again on every sync; deduplicate
/// on `id`. `chat_id` repeats the chat's id at the top level for joins.
#[skip_serializing_none]
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "sessions", extend("additionalProperties" = true))]
pub(crate) struct SessionRecord {
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
pub(crate) struct Recording {
    /// The recording's id.
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
pub(crate) struct CallParticipant {
    /// The participant's id.
    pub participant_id: Option<String>,
    /// Who brought the participant into the call, as Botmaker names it.
    pub initiated_by_type: Option<String>,
    /// When the participant was assigned to the call.
    #[schemars(extend("format" = "date-time"))]
    pub assigned_ts: Option<String>,
    /// The support team the participant belongs to.
    pub support_team_id: Option<String>,
    /// When the participant joined the call.
    #[schemars(extend("format" = "date-time"))]
    pub joined_datetime: Option<String>,
    /// When the participant left the call.
    #[schemars(extend("format" = "date-time"))]
    pub left_datetime: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Fields of a call.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CallFields {
    /// The call's id.
    pub id: Option<String>,
    /// The agent who took the call.
    pub agent_id: Option<String>,
    /// When the call was created: the calls stream's cursor.
    #[schemars(extend("format" = "date-time"))]
    pub creation_datetime: Option<String>,
    /// When the call started.
    #[schemars(extend("format" = "date-time"))]
    pub start_datetime: Option<String>,
    /// When the call ended.
    #[schemars(extend("format" = "date-time"))]
    pub end_datetime: Option<String>,
    /// The call's recording; its `url` needs the access token.
    pub recording: Option<Recording>,
    /// audio or video.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The call's participants.
    pub participants: Option<Vec<CallParticipant>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One audio or video call, from `GET /calls`.
///
/// Incremental, cursor `creationDatetime`: read in date windows, each call emitted once (calls
/// within `lookback_window_days` of the cursor are read again). The API's
/// `chat{chatId,channelId,contactId}` is flattened to `chat_id`, `channel_id` and `contact_id`.
#[skip_serializing_none]
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "calls", extend("additionalProperties" = true))]
pub(crate) struct CallRecord {
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
pub(crate) struct ContactField {
    /// The value (for example a phone number, e-mail address, postal address or URL).
    pub value: Option<String>,
    /// An optional label for the value (for example "Home", "Work").
    pub label: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One of a contact's chats.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContactChat {
    /// The chat's id in Botmaker.
    pub id: Option<String>,
    /// The contact's id on the chat's platform (for example a phone number on WhatsApp).
    pub platform_contact_id: Option<String>,
    /// The channel the chat happens on.
    pub chat_channel_id: Option<String>,
    /// The WhatsApp BSUID (business-scoped user id) linked to this chat, if available.
    pub bsuid: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One contact of the Botmaker address book, from `GET /contacts`.
///
/// Full refresh: the API has no timestamps to filter on, so every sync reads every contact.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "contacts", extend("additionalProperties" = true))]
pub(crate) struct ContactRecord {
    /// The contact's id in Botmaker.
    pub id: Option<String>,
    /// The contact's first name.
    pub first_name: Option<String>,
    /// The contact's last name.
    pub last_name: Option<String>,
    /// The contact's birthday, as entered in Botmaker.
    pub birthday: Option<String>,
    /// The URL of the contact's picture.
    pub picture_url: Option<String>,
    /// The contact's language.
    pub language: Option<String>,
    /// The contact's country.
    pub country: Option<String>,
    /// The id of the contact's company.
    pub company_id: Option<String>,
    /// The contact's job title.
    pub job_title: Option<String>,
    /// The contact's phone numbers, each with an optional label.
    pub phone_numbers: Option<Vec<ContactField>>,
    /// The contact's e-mail addresses, each with an optional label.
    pub emails: Option<Vec<ContactField>>,
    /// The contact's postal addresses, each with an optional label.
    pub addresses: Option<Vec<ContactField>>,
    /// The contact's websites, each with an optional label.
    pub websites: Option<Vec<ContactField>>,
    /// The contact's Instagram ids.
    pub instagram_ids: Option<Vec<String>>,
    /// The contact's Facebook ids.
    pub facebook_ids: Option<Vec<String>>,
    /// The contact's Twitter ids.
    pub twitter_ids: Option<Vec<String>>,
    /// Notes about the contact.
    pub notes: Option<Vec<String>>,
    /// The contact's chats, one per channel.
    pub chats: Option<Vec<ContactChat>>,
    /// The contact's WhatsApp BSUIDs (business-scoped user ids).
    pub whatsapp_bsuids: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// agents

/// One agent (a Botmaker user who attends chats), from `GET /agents`.
///
/// Full refresh: every sync reads every agent.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "agents", extend("additionalProperties" = true))]
pub(crate) struct AgentRecord {
    /// The agent's id.
    pub id: Option<String>,
    /// The agent's e-mail address.
    pub email: Option<String>,
    /// The agent's name.
    pub name: Option<String>,
    /// A name used to prefix the agent's messages in a conversation.
    pub alias: Option<String>,
    /// Whether the agent is online.
    pub is_online: Option<bool>,
    /// The agent's status, as Botmaker shows it.
    pub status: Option<String>,
    /// The agent's role: a default role (`ADMIN`, `CONFIGURATOR`, `SUPERVISOR`, `OPERATOR`) or a
    /// custom role name.
    pub role: Option<String>,
    /// The ids of the queues this agent receives conversations from.
    pub queues: Option<Vec<String>>,
    /// How many users the agent can attend at once.
    pub slots: Option<i64>,
    /// The agent's assignment priority: never, low, normal or high.
    pub priority: Option<String>,
    /// The groups the agent belongs to.
    pub groups: Option<Vec<String>>,
    /// Additional information about the agent, name → value.
    pub additional_info: Option<Map<String, Value>>,
    /// When the agent was created.
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    /// The agent's tags.
    pub tags: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// channels

/// One channel (a WhatsApp line, a Messenger or Instagram page, a Telegram bot, a webchat…), from
/// `GET /channels`: the union of the API's per-platform channel shapes. Secrets the API returns
/// with a channel (a Telegram bot `token`, a webhook's `token`) are removed before the record is
/// written.
///
/// Full refresh: every sync reads every channel, in one response.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "channels", extend("additionalProperties" = true))]
pub(crate) struct ChannelRecord {
    /// The channel's id in Botmaker (the `channelId` of chat references).
    pub id: Option<String>,
    /// The channel's platform: whatsapp, messenger, telegram, instagram, webchat, …
    pub platform: Option<String>,
    /// Whether the channel is active.
    pub active: Option<bool>,
    /// The channel's name.
    pub name: Option<String>,
    /// The id of the webhook this channel notifies messages to.
    pub webhook_id: Option<String>,
    /// WhatsApp: the line's phone number.
    pub number: Option<String>,
    /// WhatsApp: the line's status.
    pub status: Option<String>,
    /// WhatsApp: the line's quality.
    pub quality: Option<String>,
    /// WhatsApp: the WhatsApp Business Account id of the line.
    pub waba_id: Option<String>,
    /// WhatsApp: whether the line is a trial line.
    pub trial: Option<bool>,
    /// Messenger and Instagram: the recipient id.
    pub recipient_id: Option<String>,
    /// Messenger: days until the channel expires.
    pub days_to_expire: Option<i64>,
    /// Instagram: the page id.
    pub page_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// intents

/// The bot an intent belongs to.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub(crate) struct Bot {
    /// The bot's id.
    pub id: Option<String>,
    /// The bot's name.
    pub name: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One intent of a bot, from `GET /intents`.
///
/// Full refresh: every sync reads every intent.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[schemars(title = "intents", extend("additionalProperties" = true))]
pub(crate) struct IntentRecord {
    /// The intent's id in Botmaker (usable to trigger it through the API).
    pub id: Option<String>,
    /// The intent's name.
    pub name: Option<String>,
    /// The bot this intent belongs to.
    pub bot: Option<Bot>,
    /// The topics the intent is filed under.
    pub topics: Option<Vec<String>>,
    /// The triggers that start the intent in conversations.
    pub triggers: Option<Vec<String>>,
    /// Whether the intent is active.
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
pub(crate) struct TicketFieldValue {
    /// The id of the selected option.
    pub value_id: Option<String>,
    /// The selected option's label.
    pub label: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A ticket custom field and its value.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub(crate) struct TicketCustomField {
    /// The custom field's id.
    pub id: Option<String>,
    /// The custom field's name.
    pub name: Option<String>,
    /// The custom field's type.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The custom field's selected options.
    pub value: Option<Vec<TicketFieldValue>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One ticket, from `GET /tickets`.
///
/// Incremental, cursor `creationTime`: the API has no date filter, so each sync lists the tickets
/// created within `daysBeforeNow` days and keeps those created since the cursor (less
/// `lookback_window_days`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "tickets", extend("additionalProperties" = true))]
pub(crate) struct TicketRecord {
    /// The ticket's id.
    pub id: Option<String>,
    /// The Botmaker business (account) the ticket belongs to.
    pub business_id: Option<String>,
    /// The ticket's code, as shown to people.
    pub ticket_code: Option<String>,
    /// The ticket's state.
    pub state: Option<String>,
    /// When the ticket's state last changed.
    #[schemars(extend("format" = "date-time"))]
    pub last_state_modification: Option<String>,
    /// When the ticket was created. The tickets stream's cursor.
    #[schemars(extend("format" = "date-time"))]
    pub creation_time: Option<String>,
    /// Who last modified the ticket.
    pub last_modification_by: Option<Map<String, Value>>,
    /// The ticket's subject.
    pub subject: Option<String>,
    /// The ticket's content, in the format `contentFormat` names.
    pub content: Option<String>,
    /// The format of `content`.
    pub content_format: Option<String>,
    /// The ticket's content as plain text.
    pub searchable_content: Option<String>,
    /// The id of the company the ticket belongs to.
    pub company_id: Option<i64>,
    /// The id of the ticket's author.
    pub author_id: Option<i64>,
    /// Who the ticket is assigned to.
    pub assigned_to: Option<Map<String, Value>>,
    /// The ids of the users following the ticket.
    pub follow_by: Option<Vec<i64>>,
    /// The queues the ticket is waiting in.
    pub waiting_queue_ids: Option<Vec<String>>,
    /// Since when the ticket has been waiting to be assigned.
    #[schemars(extend("format" = "date-time"))]
    pub waiting_assignation_since: Option<String>,
    /// The queue the ticket is assigned to.
    pub assigned_queue_id: Option<String>,
    /// When the ticket was first answered; null until then (Botmaker sends an empty string).
    #[schemars(extend("format" = "date-time"))]
    pub first_answer: Option<String>,
    /// When the ticket was resolved; null until then (Botmaker sends an empty string).
    #[schemars(extend("format" = "date-time"))]
    pub resolve_date: Option<String>,
    /// The ticket's finished SLA metrics, by metric.
    pub finished_slas_metrics: Option<Map<String, Value>>,
    /// The ticket's attachments.
    pub attachments: Option<Vec<Map<String, Value>>>,
    /// The chats linked to the ticket.
    pub chat_ids: Option<Map<String, Value>>,
    /// The ticket's custom fields and their values.
    pub field_values: Option<Vec<TicketCustomField>>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// Numbers Botmaker sends as text

/// The schema keyword that marks a number Botmaker sends as text (see [`NumberText`]). Only the
/// transcoder reads it: `discover` leaves it out of the catalog.
pub(crate) const NUMBER_SENT_AS_TEXT: &str = "x-botmaker-number-sent-as-text";

/// A number that Botmaker's spec types as a string (the agent-metrics counters: `"3358"`). The
/// schema declares a number, and the transcoder emits a number wherever the text is one (without
/// loss, and without a log line: it is what the spec says to expect); `-` and an empty string,
/// which the dashboards show where a metric does not apply, become null; any other text is kept
/// as sent and reported.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(transparent)]
pub(crate) struct NumberText(pub Value);

impl JsonSchema for NumberText {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NumberText".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut schema = schemars::json_schema!({"type": "number"});
        schema.insert(NUMBER_SENT_AS_TEXT.into(), true.into());
        schema
    }
}

// ---------------------------------------------------------------------------------------------
// whatsapp_templates

/// A template's header.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TemplateHeader {
    /// The header's kind: TEXT, IMAGE, DOCUMENT or VIDEO.
    pub format: Option<String>,
    /// The header text (when `format` is TEXT).
    pub text: Option<String>,
    /// An example file WhatsApp uses to decide whether to approve the template (when `format` is
    /// not TEXT).
    #[serde(rename = "exampleURL")]
    pub example_url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A template's body or footer.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub(crate) struct TemplateText {
    /// The text (a body holds up to 1024 characters).
    pub text: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A template button.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TemplateButton {
    /// The button's kind: QUICK_REPLY, URL, PHONE_NUMBER or MPM.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The button label.
    pub text: Option<String>,
    /// The intent to execute when the button is pressed (QUICK_REPLY only).
    pub intent_id_or_name: Option<String>,
    /// What the webhook receives when the button is pressed (QUICK_REPLY only).
    pub webhook_payload: Option<String>,
    /// The URL to open when the button is pressed (URL only); it may end in a variable.
    pub url: Option<String>,
    /// The phone number to call when the button is pressed (PHONE_NUMBER only).
    pub phone_number: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One WhatsApp message template in one language, from `GET /whatsapp/templates`: its approval
/// state, category, components (header, body, footer, buttons), phone lines and allowed queues.
///
/// Full refresh: every sync reads every template, in one response. A template is identified by
/// `name` and `locale` together (the same name exists once per language).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "whatsapp_templates", extend("additionalProperties" = true))]
pub(crate) struct WhatsAppTemplateRecord {
    /// The template's name (snake_case, up to 512 characters).
    pub name: Option<String>,
    /// The template's language, e.g. `es_AR`.
    pub locale: Option<String>,
    /// The approval state: APPROVED, REJECTED, ACCOUNT_PENDING or BOTMAKER_PENDING.
    pub state: Option<String>,
    /// Problems found in WhatsApp's approval process.
    pub notes: Option<Vec<Map<String, Value>>>,
    /// The phone lines the template can be sent from.
    pub phone_lines_numbers: Option<Vec<String>>,
    /// The bot the template sets when triggered.
    pub bot_name: Option<String>,
    /// The template's category, e.g. MARKETING, UTILITY or AUTHENTICATION.
    pub category: Option<String>,
    /// An example image showing that users are asked for permission to be sent WhatsApp
    /// messages.
    pub opt_in_image: Option<String>,
    /// The template's header.
    pub header: Option<TemplateHeader>,
    /// The template's main body.
    pub body: Option<TemplateText>,
    /// The template's footer.
    pub footer: Option<TemplateText>,
    /// The template's buttons.
    pub buttons: Option<Vec<TemplateButton>>,
    /// Who created the template.
    pub requester_email: Option<String>,
    /// The queues allowed to use this template.
    pub allowed_queues: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// whatsapp_accounts

/// One WhatsApp phone line of the account, from `GET /whatsapp/accounts`.
///
/// Full refresh: every sync reads every line, in one response.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "whatsapp_accounts", extend("additionalProperties" = true))]
pub(crate) struct WhatsAppAccountRecord {
    /// The phone line number.
    pub number: Option<String>,
    /// The line's alias.
    pub alias: Option<String>,
    /// The namespace needed to send template messages from this line.
    pub template_namespace: Option<String>,
    /// The WhatsApp Business Account id.
    pub waba_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// agent_metrics

/// One agent's metrics for one closed conversation session, from `GET
/// /dashboards/agent-metrics` (Botmaker's Agent Metrics dashboard), requested with
/// `session-status=closed`. Botmaker bills this endpoint as BI data-source consumption, so the
/// stream is listed and read only with `include_bi_dashboards`.
///
/// Incremental, cursor `sessionCreationTime`: read in date windows on the session's start, each
/// record kept by the window its start lies in. Botmaker lists a session's metrics only once it
/// has closed, so
/// the cursor stays `session_settle_days` behind now and those days are read again on every sync;
/// deduplicate on `sessionId` and `agentId`. The counters arrive as text (as Botmaker's spec
/// types them) and are emitted as numbers; `-` or an empty text (a metric that does not apply)
/// becomes null.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "agent_metrics", extend("additionalProperties" = true))]
pub(crate) struct AgentMetricRecord {
    /// The session: `chatId` + `_` + the session's creation time.
    pub session_id: Option<String>,
    /// The agent the metrics are about.
    pub agent_id: Option<String>,
    /// The agent's name.
    pub agent_name: Option<String>,
    /// The chat the session belongs to.
    pub chat_id: Option<String>,
    /// When the session started. The agent_metrics stream's cursor.
    #[schemars(extend("format" = "date-time"))]
    pub session_creation_time: Option<String>,
    /// When the session was closed.
    #[schemars(extend("format" = "date-time"))]
    pub closed_time: Option<String>,
    /// The queue the conversation was in.
    pub queue: Option<String>,
    /// The typification the conversation was closed with.
    pub typification: Option<String>,
    /// A link to the conversation in Botmaker.
    pub conversation_link: Option<String>,
    /// The agent's average attending time in the session (sent as text, emitted as a number).
    pub avg_attending_time: Option<NumberText>,
    /// The agent's average response time in the session (sent as text, emitted as a number).
    pub avg_response_time: Option<NumberText>,
    /// Sessions open (sent as text, emitted as a number).
    pub open_sessions: Option<NumberText>,
    /// Sessions closed (sent as text, emitted as a number).
    pub closed_sessions: Option<NumberText>,
    /// Times the session was put on hold (sent as text, emitted as a number).
    pub on_hold: Option<NumberText>,
    /// The agent's response time (sent as text, emitted as a number).
    pub op_response_time: Option<NumberText>,
    /// Responses the agent sent (sent as text, emitted as a number).
    pub operator_responses: Option<NumberText>,
    /// Transfers of the session to this agent (sent as text, emitted as a number).
    pub session_transfer_in: Option<NumberText>,
    /// Transfers of the session away from this agent (sent as text, emitted as a number).
    pub session_transfer_out: Option<NumberText>,
    /// Transfers away from this agent before it sent a message (sent as text, emitted as a
    /// number).
    pub session_transfer_out_no_messages: Option<NumberText>,
    /// Sessions closed without messages (sent as text, emitted as a number).
    pub closed_with_no_messages: Option<NumberText>,
    /// Sessions that timed out without messages (sent as text, emitted as a number).
    pub timeout_no_messages: Option<NumberText>,
    /// Sessions that timed out waiting for the agent (sent as text, emitted as a number).
    pub agent_timeout: Option<NumberText>,
    /// Sessions that timed out waiting for the user (sent as text, emitted as a number).
    pub user_timeout: Option<NumberText>,
    /// Time from the queue assignment to the agent's assignment (sent as text, emitted as a
    /// number).
    pub from_queue_asign_to_op_assigned: Option<NumberText>,
    /// Time from the session's start to the agent's first response (sent as text, emitted as a
    /// number).
    pub from_session_start_to_op_first_response: Option<NumberText>,
    /// Time from the queue assignment to the agent's first response (sent as text, emitted as a
    /// number).
    pub from_queue_asign_to_op_first_response: Option<NumberText>,
    /// Time from the agent's assignment to its first response (sent as text, emitted as a
    /// number).
    pub from_op_assigned_to_op_first_response: Option<NumberText>,
    /// Time from the queue assignment to the session's close (sent as text, emitted as a number).
    pub from_queue_asign_to_session_closed: Option<NumberText>,
    /// Time from the agent's assignment to the session's close (sent as text, emitted as a
    /// number).
    pub from_op_assignation_to_session_closed: Option<NumberText>,
    /// Sessions that timed out (sent as text, emitted as a number).
    pub session_timeout: Option<NumberText>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// agent_performance

/// One check-in of an agent, from `GET /dashboards/agent-performance` (Botmaker's Agent
/// Performance dashboard). Botmaker bills this endpoint as BI data-source consumption, so the
/// stream is listed and read only with `include_bi_dashboards`.
///
/// Incremental, cursor `checkin`: read in date windows on the check-in time. A check-in gets its
/// `checkout` when the agent leaves, so the last day before the cursor is read again on every sync
/// to pick that up; deduplicate on `agentEmail` and `checkin`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "agent_performance", extend("additionalProperties" = true))]
pub(crate) struct AgentPerformanceRecord {
    /// The agent's e-mail address.
    pub agent_email: Option<String>,
    /// The agent's name.
    pub agent_name: Option<String>,
    /// The agent's role.
    pub role: Option<String>,
    /// The agent's queues.
    pub queue: Option<Vec<String>>,
    /// The agent's state, e.g. Busy.
    pub state: Option<String>,
    /// When the agent checked in. The agent_performance stream's cursor.
    #[schemars(extend("format" = "date-time"))]
    pub checkin: Option<String>,
    /// When the agent checked out; absent while still checked in.
    #[schemars(extend("format" = "date-time"))]
    pub checkout: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// campaigns

/// One notification campaign, from `GET /notifications/campaigns`.
///
/// Full refresh: every sync reads every campaign, following the next-page links.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[schemars(title = "campaigns", extend("additionalProperties" = true))]
pub(crate) struct CampaignRecord {
    /// The campaign's id.
    pub id: Option<String>,
    /// The campaign's name.
    pub name: Option<String>,
    /// The campaign's goal.
    pub goal: Option<String>,
    /// Whether the campaign is active.
    pub active: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// notification_results

/// Counters of one notification sending.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub(crate) struct NotificationCounters {
    /// Number of messages sent.
    pub sent: Option<i64>,
    /// Number of messages delivered.
    pub delivered: Option<i64>,
    /// Number of messages read.
    pub read: Option<i64>,
    /// Number of messages answered.
    pub answered: Option<i64>,
    /// Number of messages with errors.
    pub error: Option<i64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One sending of a notification (a notification instance) with its sent, delivered, read,
/// answered and error counters, from `GET /notifications/sent-results`.
///
/// Incremental, cursor `start`: read in date windows on the sending's start. The counters keep
/// changing for days after a sending, so the last `notification_results_lookback_days` days
/// before the cursor are read again on every sync; deduplicate on `notificationInstanceId`.
/// Botmaker serves only the last three months: older history is reported as unavailable.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "notification_results", extend("additionalProperties" = true))]
pub(crate) struct NotificationResultRecord {
    /// The notification instance's id.
    pub notification_instance_id: Option<String>,
    /// The campaign's name.
    pub campaign_name: Option<String>,
    /// The contact group the notification was sent to.
    pub contact_group: Option<String>,
    /// The notification's name.
    pub notification_name: Option<String>,
    /// When the sending started. The notification_results stream's cursor.
    #[schemars(extend("format" = "date-time"))]
    pub start: Option<String>,
    /// When the sending ended.
    #[schemars(extend("format" = "date-time"))]
    pub end: Option<String>,
    /// The sending's status, e.g. COMPLETED.
    pub status: Option<String>,
    /// The sending's counters.
    pub details: Option<NotificationCounters>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// roles

/// One custom agent role, from `GET /roles`.
///
/// Full refresh: every sync reads every role, following the next-page links.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[schemars(title = "roles", extend("additionalProperties" = true))]
pub(crate) struct RoleRecord {
    /// The role's id.
    pub id: Option<String>,
    /// The role's name.
    pub name: Option<String>,
    /// The role's description.
    pub description: Option<String>,
    /// The default queues for agents with this role.
    pub queues: Option<Vec<String>>,
    /// The default priority for agents with this role: never, low, normal or high.
    pub priority: Option<String>,
    /// The default slots (users attended at once) for agents with this role.
    pub slots: Option<i64>,
    /// The sections of Botmaker an agent with this role may use, each `true` or an object of the
    /// actions allowed in it (e.g. `{"chats": {"view": true, "muteBot": false}}`).
    pub permissions: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// variables

/// One bot variable definition, from `GET /variables`.
///
/// Full refresh: every sync reads every variable, in one response.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "variables", extend("additionalProperties" = true))]
pub(crate) struct VariableRecord {
    /// The Botmaker id of the variable.
    pub id: Option<String>,
    /// The name of the variable.
    pub name: Option<String>,
    /// The type of the variable.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The scope of the variable: user or session.
    pub scope: Option<String>,
    /// Whether the variable is visible to agents in the chats section.
    pub visible_in_user_info: Option<bool>,
    /// The category under which agents see the variable in the chats section.
    pub category: Option<String>,
    /// The icon with which agents see the variable in the chats section.
    pub icon: Option<String>,
    /// The colour of the variable's label in the chats section.
    pub tag_color: Option<String>,
    /// The variable's place in the list in the chats section.
    pub order_in_user_info: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// typifications

/// One typification (a category agents close conversations with), from `GET /typifications`.
///
/// Full refresh: every sync reads every typification, in one response.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "typifications", extend("additionalProperties" = true))]
pub(crate) struct TypificationRecord {
    /// The Botmaker id of the typification.
    pub id: Option<String>,
    /// The typification's name.
    pub display_name: Option<String>,
    /// The groups the typification belongs to.
    pub groups: Option<Vec<String>>,
    /// The queues the typification applies to.
    pub queues: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// ticket_field_definitions

/// One ticket custom field definition, from `GET /tickets/field-definitions`: what the `id`,
/// `name` and options in tickets' `fieldValues` mean.
///
/// Full refresh: every sync reads every definition, in one response (one object or a list).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "ticket_field_definitions", extend("additionalProperties" = true))]
pub(crate) struct TicketFieldDefinitionRecord {
    /// The field's id (the `id` of a ticket's `fieldValues` entry).
    pub id: Option<String>,
    /// Whether the field is active.
    pub active: Option<bool>,
    /// The field's name.
    pub name: Option<String>,
    /// The field's type.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The options a value of the field may take, each a map of its properties.
    pub valid_options: Option<Vec<Map<String, Value>>>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// webhooks

/// Which messages a webhook is notified of.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebhookNotifications {
    /// The channels whose messages the webhook is notified of.
    pub channels_ids: Option<Vec<String>>,
    /// Whether bot messages are notified.
    pub notify_bot_messages: Option<bool>,
    /// Whether user messages are notified.
    pub notify_user_messages: Option<bool>,
    /// Whether agent messages are notified.
    pub notify_operator_messages: Option<bool>,
    /// Whether status changes are notified.
    pub notify_status_changes: Option<bool>,
    /// Whether notifications include variable changes.
    pub include_variable_changes: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One webhook, from `GET /webhooks`. The `token` Botmaker sends in each notification's
/// `auth-bm-token` header (a secret) is removed before the record is written.
///
/// Full refresh: every sync reads every webhook, in one response.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "webhooks", extend("additionalProperties" = true))]
pub(crate) struct WebhookRecord {
    /// The webhook's id in Botmaker.
    pub id: Option<String>,
    /// Whether the webhook is notified (only active webhooks are).
    pub active: Option<bool>,
    /// The URL notifications are sent to.
    pub url: Option<String>,
    /// The webhook's version.
    pub version: Option<String>,
    /// Alternate URLs to use for development.
    pub redirection_rules: Option<Vec<String>>,
    /// Which messages are notified, and whether variable changes are included.
    pub messages_notifications: Option<WebhookNotifications>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// contacts_blacklist

/// One blacklisted contact (notifications are never sent to it), from `GET
/// /notifications/contacts-blacklist`, which lists plain phone numbers: each becomes a record
/// `{"contact": "…"}`.
///
/// Full refresh: every sync reads the whole blacklist, following the next-page links.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[schemars(title = "contacts_blacklist", extend("additionalProperties" = true))]
pub(crate) struct BlacklistedContactRecord {
    /// The blacklisted phone number.
    pub contact: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// billed_conversations

/// One WhatsApp conversation with its billing data, from `GET
/// /billing/whatsapp/billed-conversations`.
///
/// Incremental, cursor `startDatetime`: read by whole billing months (`billingPeriod`), from the
/// month of `start_date`. A month is checkpointed once it has closed (a day after it ends); until
/// then it is read again on every sync, so deduplicate on `whatsappConversationId`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "billed_conversations", extend("additionalProperties" = true))]
pub(crate) struct BilledConversationRecord {
    /// The conversation's id in WhatsApp.
    pub whatsapp_conversation_id: Option<String>,
    /// When the conversation started. The billed_conversations stream's cursor.
    #[schemars(extend("format" = "date-time"))]
    pub start_datetime: Option<String>,
    /// The WhatsApp Business Account id.
    pub waba_id: Option<String>,
    /// The bot's business name.
    pub business_id: Option<String>,
    /// The bot's phone number.
    pub phone_number: Option<String>,
    /// The customer's two-letter ISO country code.
    pub country: Option<String>,
    /// The customer's WhatsApp number.
    pub user_phone_number: Option<String>,
    /// The Botmaker customer (chat) id.
    pub customer_id: Option<String>,
    /// A link to the chat in Botmaker.
    pub link_to_chat: Option<String>,
    /// How the conversation started: user-initiated, business-initiated or referral-initiated.
    pub origin: Option<String>,
    /// The name of the WhatsApp template sent, if one started the conversation.
    pub template_name: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}
