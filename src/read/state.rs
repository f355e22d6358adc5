//! What a stream's STATE records, how a sync moves it forward, and how it is read back.
//!
//! Incremental streams record their **coverage**: everything from `covered_from` up to the
//! cursor has been read, except the listed `gaps` (ranges skipped because Botmaker would not
//! serve them, say without long-term search). A later sync reads the gaps it now can, and
//! history before `covered_from` if `start_date` moved earlier, before going forward:
//!
//! ```json
//! {"creationTime": "2026-03-01T00:00:00.000Z", "covered_from": "2025-01-01T00:00:00.000Z",
//!  "gaps": [{"start": "2025-01-01T00:00:00.000Z", "end": "2026-02-20T13:00:00.000Z"}]}
//! ```
//!
//! Resumable lists (contacts, agents, intents, campaigns, roles, contacts_blacklist) record
//! the next page while they are read (`{"next_page": "…"}`) and `{}` once complete. The read
//! engine describes its progress as [`Delta`]s, which the output applies in order, so a STATE
//! only ever covers records that have been written.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::escape::printable;
use crate::protocol::input::{kind_of, shorten};
use crate::protocol::state::Blob;
use crate::time::{format_cursor, parse_datetime, Span};

/// One step of a stream's progress, applied in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Delta {
    /// Every record of this span has been written.
    Covered(Span),
    /// This span could not be read; a later sync may.
    Gap(Span),
    /// Botmaker no longer keeps this span (a retention limit): nothing to read, now or later, so
    /// the coverage passes over it as if read. The sync reports it as unavailable.
    Unavailable(Span),
    /// A list has been written up to this next page (`None`: to its end).
    Position(Option<String>),
}

/// What a stream's state holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StreamState {
    Coverage(Coverage),
    List {
        next_page: Option<String>,
    },
    /// Streams read whole every time.
    Nothing,
}

/// An incremental stream's coverage (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Coverage {
    pub(crate) cursor_field: &'static str,
    pub(crate) cursor: DateTime<Utc>,
    pub(crate) covered_from: DateTime<Utc>,
    /// Sorted, disjoint, none empty.
    pub(crate) gaps: Vec<Span>,
}

impl StreamState {
    pub(crate) fn apply(&mut self, delta: &Delta) {
        match (self, delta) {
            (StreamState::Coverage(c), Delta::Covered(span) | Delta::Unavailable(span)) => c.covered(*span),
            (StreamState::Coverage(c), Delta::Gap(span)) => c.gap(*span),
            (StreamState::List { next_page }, Delta::Position(next)) => next_page.clone_from(next),
            _ => {}
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        match self {
            StreamState::Coverage(c) => c.to_json(),
            StreamState::List { next_page: Some(next) } => json!({ "next_page": next }),
            StreamState::List { next_page: None } | StreamState::Nothing => json!({}),
        }
    }

    /// Ranges still unread, for the end-of-sync report.
    pub(crate) fn gaps(&self) -> &[Span] {
        match self {
            StreamState::Coverage(c) => &c.gaps,
            _ => &[],
        }
    }
}

impl Coverage {
    /// A first sync: nothing read, from `start_date`.
    pub(crate) fn fresh(cursor_field: &'static str, start_date: DateTime<Utc>) -> Coverage {
        Coverage { cursor_field, cursor: start_date, covered_from: start_date, gaps: Vec::new() }
    }

    /// Reads a saved state. `{}`, no state and a reset all start afresh; a state written before
    /// coverage was recorded (only the cursor) is taken to cover everything from `start_date`.
    /// The result is already fitted to `start_date` (see [`Coverage::fit`]).
    pub(crate) fn from_saved(
        stream: &str,
        blob: Blob<'_>,
        cursor_field: &'static str,
        start_date: DateTime<Utc>,
    ) -> Result<Coverage> {
        let problem = |what: String| {
            Error::config(format!(
                "The saved state of stream '{stream}' {what}. Reset the stream in Airbyte, or fix the state to {{\"{cursor_field}\": \"2024-01-01T00:00:00.000Z\"}}."
            ))
        };
        let map = match blob {
            Blob::Absent | Blob::Reset => return Ok(Coverage::fresh(cursor_field, start_date)),
            Blob::Value(Value::Object(map)) if map.is_empty() => return Ok(Coverage::fresh(cursor_field, start_date)),
            Blob::Value(Value::Object(map)) => map,
            Blob::Value(other) => return Err(problem(format!("must be an object, not {}", kind_of(other)))),
        };
        let time = |key: &str| -> Result<Option<DateTime<Utc>>> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(raw)) => parse_datetime(raw).map(Some).ok_or_else(|| {
                    problem(format!("has `{key}` = {:?}, which is not an RFC 3339 date-time", shorten(raw)))
                }),
                Some(other) => Err(problem(format!("has `{key}` of type {}, not a date-time string", kind_of(other)))),
            }
        };
        let Some(cursor) = time(cursor_field)? else {
            if map.contains_key(cursor_field) {
                return Ok(Coverage::fresh(cursor_field, start_date));
            }
            return Err(problem(format!("has no `{cursor_field}` cursor (found {})", keys(map))));
        };
        let covered_from = time("covered_from")?.unwrap_or(start_date).min(cursor);
        let gaps = match map.get("gaps") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|g| {
                    parse_gap(g).ok_or_else(|| problem(format!("has a malformed gap {}", shorten(&g.to_string()))))
                })
                .collect::<Result<Vec<_>>>()?,
            Some(other) => return Err(problem(format!("has `gaps` of type {}, not a list", kind_of(other)))),
        };
        let mut coverage = Coverage { cursor_field, cursor, covered_from, gaps: Vec::new() };
        for gap in gaps {
            coverage.gap(Span::new(gap.start.max(covered_from), gap.end.min(cursor)));
        }
        coverage.fit(start_date);
        Ok(coverage)
    }

    /// Fits the coverage to the history wanted now: gaps before `start_date` are no longer
    /// wanted; history between a `start_date` moved earlier and `covered_from` becomes a gap to
    /// read; a cursor before `start_date` jumps to it.
    fn fit(&mut self, start_date: DateTime<Utc>) {
        self.gaps.retain_mut(|g| {
            g.start = g.start.max(start_date);
            !g.is_empty()
        });
        if self.cursor < start_date {
            *self = Coverage::fresh(self.cursor_field, start_date);
        } else if start_date < self.covered_from {
            let before = Span::new(start_date, self.covered_from);
            self.covered_from = start_date;
            self.gap(before);
        }
    }

    fn covered(&mut self, span: Span) {
        if span.is_empty() {
            return;
        }
        self.remove_gap(span);
        if span.start > self.cursor {
            // Not expected (windows are contiguous), but never claim what was not read.
            let hole = Span::new(self.cursor, span.start);
            self.gap(hole);
        }
        self.cursor = self.cursor.max(span.end);
        self.covered_from = self.covered_from.min(span.start);
    }

    fn gap(&mut self, span: Span) {
        if span.is_empty() {
            return;
        }
        self.gaps.push(span);
        self.gaps.sort();
        let mut merged: Vec<Span> = Vec::with_capacity(self.gaps.len());
        for g in self.gaps.drain(..) {
            match merged.last_mut() {
                Some(last) if g.start <= last.end => last.end = last.end.max(g.end),
                _ => merged.push(g),
            }
        }
        self.gaps = merged;
        self.cursor = self.cursor.max(span.end);
        self.covered_from = self.covered_from.min(span.start);
    }

    fn remove_gap(&mut self, span: Span) {
        let mut rest = Vec::with_capacity(self.gaps.len() + 1);
        for g in self.gaps.drain(..) {
            if g.end <= span.start || g.start >= span.end {
                rest.push(g);
                continue;
            }
            if g.start < span.start {
                rest.push(Span::new(g.start, span.start));
            }
            if g.end > span.end {
                rest.push(Span::new(span.end, g.end));
            }
        }
        self.gaps = rest;
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert(self.cursor_field.into(), format_cursor(self.cursor).into());
        map.insert("covered_from".into(), format_cursor(self.covered_from).into());
        if !self.gaps.is_empty() {
            let gaps = self
                .gaps
                .iter()
                .map(|g| json!({"start": format_cursor(g.start), "end": format_cursor(g.end)}))
                .collect();
            map.insert("gaps".into(), Value::Array(gaps));
        }
        Value::Object(map)
    }
}

fn parse_gap(value: &Value) -> Option<Span> {
    let start = parse_datetime(value.get("start")?.as_str()?)?;
    let end = parse_datetime(value.get("end")?.as_str()?)?;
    (start < end).then_some(Span::new(start, end))
}

fn keys(map: &Map<String, Value>) -> String {
    let names: Vec<_> = map.keys().take(5).map(|k| format!("`{}`", printable(&shorten(k)))).collect();
    names.join(", ")
}

/// A resumable list's saved position.
pub(crate) fn list_position(stream: &str, blob: Blob<'_>) -> Result<Option<String>> {
    match blob {
        Blob::Absent | Blob::Reset => Ok(None),
        Blob::Value(Value::Object(map)) => match map.get("next_page") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
            Some(other) => Err(Error::config(format!(
                "The saved state of stream '{stream}' has `next_page` of type {}, not a page link. Reset the stream in Airbyte, or set its state to {{}}.",
                kind_of(other)
            ))),
        },
        Blob::Value(other) => Err(Error::config(format!(
            "The saved state of stream '{stream}' must be an object, not {}. Reset the stream in Airbyte, or set its state to {{}}.",
            kind_of(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        parse_datetime(s).unwrap()
    }

    fn span(a: &str, b: &str) -> Span {
        Span::new(t(a), t(b))
    }

    fn saved(v: Value, start: &str) -> Result<Coverage> {
        Coverage::from_saved("calls", Blob::Value(&v), "creationDatetime", t(start))
    }

    #[test]
    fn reads_old_and_new_forms() {
        let old = saved(json!({"creationDatetime": "2024-03-01T00:00:00.000Z"}), "2024-01-01T00:00:00Z").unwrap();
        assert_eq!(old.covered_from, t("2024-01-01T00:00:00Z"), "an old state covers everything from start_date");
        assert!(old.gaps.is_empty());
        let new = saved(
            json!({"creationDatetime": "2024-03-01T00:00:00.000Z", "covered_from": "2024-01-01T00:00:00.000Z",
                "gaps": [{"start": "2024-01-01T00:00:00.000Z", "end": "2024-02-01T00:00:00.000Z"}]}),
            "2024-01-01T00:00:00Z",
        )
        .unwrap();
        assert_eq!(new.gaps, [span("2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z")]);
        let again =
            Coverage::from_saved("calls", Blob::Value(&new.to_json()), "creationDatetime", t("2024-01-01T00:00:00Z"));
        assert_eq!(again.unwrap(), new, "a state reads back as it was written");
        for empty in [json!({}), json!({"creationDatetime": null})] {
            assert_eq!(
                saved(empty, "2024-01-01T00:00:00Z").unwrap(),
                Coverage::fresh("creationDatetime", t("2024-01-01T00:00:00Z"))
            );
        }
    }

    #[test]
    fn malformed_states_name_the_stream() {
        for bad in [
            json!({"creationDatetime": "yesterday"}),
            json!({"creationDatetime": 17}),
            json!({"updated_at": "2024-01-01T00:00:00Z"}),
            json!(["2024-01-01T00:00:00Z"]),
            json!({"creationDatetime": "2024-03-01T00:00:00Z", "gaps": [{"start": "x"}]}),
            json!({"creationDatetime": "2024-03-01T00:00:00Z", "gaps": 3}),
            json!({"creationDatetime": "2024-03-01T00:00:00Z", "covered_from": 3}),
        ] {
            let err = saved(bad.clone(), "2024-01-01T00:00:00Z").unwrap_err();
            assert!(err.is_config() && err.message.contains("'calls'"), "{bad}: {}", err.message);
        }
    }

    #[test]
    fn keys_from_the_file_are_quoted_escaped() {
        let err = saved(json!({"up\u{1b}[2Jdated": "2024-01-01T00:00:00Z"}), "2024-01-01T00:00:00Z").unwrap_err();
        assert!(err.message.contains("`up\\u{1b}[2Jdated`") && !err.message.contains('\u{1b}'), "{}", err.message);
    }

    #[test]
    fn start_date_moves() {
        let state = json!({"creationDatetime": "2024-03-01T00:00:00.000Z", "covered_from": "2024-02-01T00:00:00.000Z",
            "gaps": [{"start": "2024-02-01T00:00:00.000Z", "end": "2024-02-10T00:00:00.000Z"}]});
        let earlier = saved(state.clone(), "2024-01-01T00:00:00Z").unwrap();
        assert_eq!(
            earlier.gaps,
            [span("2024-01-01T00:00:00Z", "2024-02-10T00:00:00Z")],
            "the new history joins the gap"
        );
        assert_eq!(earlier.covered_from, t("2024-01-01T00:00:00Z"));
        let later = saved(state.clone(), "2024-02-05T00:00:00Z").unwrap();
        assert_eq!(later.gaps, [span("2024-02-05T00:00:00Z", "2024-02-10T00:00:00Z")], "no gap before start_date");
        let past_cursor = saved(state, "2024-04-01T00:00:00Z").unwrap();
        assert_eq!(past_cursor, Coverage::fresh("creationDatetime", t("2024-04-01T00:00:00Z")));
    }

    #[test]
    fn deltas_move_the_coverage() {
        let mut s = StreamState::Coverage(Coverage::fresh("c", t("2024-01-01T00:00:00Z")));
        s.apply(&Delta::Gap(span("2024-01-01T00:00:00Z", "2024-01-20T00:00:00Z")));
        s.apply(&Delta::Covered(span("2024-01-20T00:00:00Z", "2024-01-25T00:00:00Z")));
        assert_eq!(
            s.to_json(),
            json!({"c": "2024-01-25T00:00:00.000Z", "covered_from": "2024-01-01T00:00:00.000Z",
                "gaps": [{"start": "2024-01-01T00:00:00.000Z", "end": "2024-01-20T00:00:00.000Z"}]})
        );
        // A later sync fills part of the gap.
        s.apply(&Delta::Covered(span("2024-01-05T00:00:00Z", "2024-01-10T00:00:00Z")));
        assert_eq!(
            s.gaps(),
            [
                span("2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z"),
                span("2024-01-10T00:00:00Z", "2024-01-20T00:00:00Z")
            ]
        );
        s.apply(&Delta::Covered(span("2024-01-01T00:00:00Z", "2024-01-20T00:00:00Z")));
        assert!(s.gaps().is_empty());
        // A window after a hole records the hole.
        s.apply(&Delta::Covered(span("2024-02-01T00:00:00Z", "2024-02-02T00:00:00Z")));
        assert_eq!(s.gaps(), [span("2024-01-25T00:00:00Z", "2024-02-01T00:00:00Z")]);
    }

    #[test]
    fn list_positions() {
        assert_eq!(list_position("contacts", Blob::Value(&json!({"next_page": " tok "}))).unwrap(), Some("tok".into()));
        assert_eq!(list_position("contacts", Blob::Value(&json!({}))).unwrap(), None);
        assert!(list_position("contacts", Blob::Value(&json!({"next_page": 3})))
            .unwrap_err()
            .message
            .contains("'contacts'"));
        let mut s = StreamState::List { next_page: None };
        s.apply(&Delta::Position(Some("p2".into())));
        assert_eq!(s.to_json(), json!({"next_page": "p2"}));
        s.apply(&Delta::Position(None));
        assert_eq!(s.to_json(), json!({}));
    }
}
