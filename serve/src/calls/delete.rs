//! `delete`, now or after `delete delay` seconds; a later offer or answer cancels a
//! delayed delete.
//!
//! As in rtpengine, deleting a call that is not there (or whose tags do not match) is `ok`
//! with a `warning`, unless the `fatal` flag asks for an error.

use tandem_engine::ChannelId;
use tandem_engine::MediaEngine;

use super::{Calls, RequestCtx};
use crate::bencode::Value;
use crate::ng::Params;

/// rtpengine's words for a delete that found nothing.
const NOT_FOUND: &str = "Call-ID not found or tags didn't match";

impl Calls {
    pub(super) fn delete(
        &mut self,
        media: &mut dyn MediaEngine,
        p: &Params,
        ctx: &RequestCtx,
    ) -> Result<Value, String> {
        let id = p.call_id.clone().ok_or("no call-id")?;
        let matches = self.calls.get(&id).is_some_and(|c| {
            let from_ok = p
                .from_tag
                .as_deref()
                .is_none_or(|t| c.side_of_tag(t).is_some());
            let to_ok = !p.flag("to tag")
                || p.to_tag
                    .as_deref()
                    .is_some_and(|t| c.callee.as_ref().is_some_and(|x| x.tag == t));
            from_ok && to_ok
        });
        if !matches {
            return if p.flag("fatal") {
                Err(NOT_FOUND.into())
            } else {
                Ok(Value::dict().with("warning", Value::str(NOT_FOUND)))
            };
        }
        let report = if p.flag("fast") {
            Value::dict()
        } else {
            let channels: Vec<ChannelId> = self.calls[&id].channels().collect();
            self.read_stats(media, &channels, ctx.now_unix_s);
            self.call_report(&id, &self.calls[&id], None)?
        };
        let now = ctx.now_unix_s;
        match p.delete_delay.unwrap_or(0) {
            0 => self.remove(media, &id, now),
            delay => {
                let at = now + u64::from(delay);
                let call = self.calls.get_mut(&id).expect("checked above");
                if let Some(old) = call.delete_at.replace(at) {
                    self.delayed.remove(&(old, id.clone()));
                }
                self.delayed.insert((at, id.clone()));
                tracing::info!(call_id = %id, delay, "call to be deleted");
            }
        }
        Ok(report)
    }

    /// Cancels a call's delayed delete (a new offer or answer revives it).
    pub(super) fn revive(&mut self, id: &str, delete_at: Option<u64>) {
        if let Some(at) = delete_at {
            self.delayed.remove(&(at, id.to_string()));
        }
    }

    /// Deletes the calls whose delayed delete is due.
    pub(super) fn expire(&mut self, media: &mut dyn MediaEngine, now_unix_s: u64) {
        while let Some((at, id)) = self.delayed.first().cloned() {
            if at > now_unix_s {
                break;
            }
            self.delayed.pop_first();
            if self.calls.get(&id).is_some_and(|c| c.delete_at == Some(at)) {
                tracing::info!(call_id = %id, "delayed delete");
                self.remove(media, &id, now_unix_s);
            }
        }
    }

    /// Calls waiting for a delayed delete.
    pub fn delayed_deletes(&self) -> usize {
        self.delayed.len()
    }
}
