//! Core events as MSNP lines, for one session's protocol version.

use mocha_api::ContactListEvent;
use mocha_net::Outbox;
use std::sync::Arc;

use mocha_notification::{CoreEvent, Front, PresenceEvent, RingInvite};
use mocha_proto::encode_text;

use crate::status::status_code;
use crate::wire::{line, with_payload, xml_escape};

/// A negotiated protocol version, `MSNP8` to `MSNP12`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u8);

impl Version {
    pub const OLDEST: Version = Version(8);
    pub const NEWEST: Version = Version(12);

    /// `UUX`/`UBX` personal messages exist from MSNP11.
    pub fn has_personal_messages(self) -> bool {
        self.0 >= 11
    }

    /// MSNP10 moved to `N=`/`F=`/`C=` lists, GUIDs and `ADC`, and dropped list versions.
    pub fn has_guids(self) -> bool {
        self.0 >= 10
    }
}

/// Renders for one MSNP session.
pub struct MsnpFront {
    pub version: Version,
    /// The gateway switchboard's `host:port` for `RNG`; `None` when it is off.
    pub switchboard: Option<Arc<str>>,
}

impl MsnpFront {
    /// The `NLN`/`ILN` tail: `<status> <handle> <name> <client-id>`.
    pub fn presence_args(
        &self,
        status: mocha_proto::Status,
        username: &str,
        display_name: &str,
    ) -> [String; 4] {
        [status_code(status).to_string(), username.to_string(), encode_text(display_name), "0".into()]
    }

    /// `UBX <handle> <len>` + the `<Data>` document.
    pub fn ubx(&self, username: &str, message: &str) -> bytes::Bytes {
        let data = format!("<Data><PSM>{}</PSM><CurrentMedia></CurrentMedia></Data>", xml_escape(message));
        with_payload(["UBX".to_string(), username.to_string()], data.as_bytes())
    }

    fn render(&self, event: &CoreEvent) -> Option<bytes::Bytes> {
        match event {
            CoreEvent::Presence(PresenceEvent::Online { username, status, display_name, .. }) => {
                let args = self.presence_args(*status, username, display_name);
                Some(line(std::iter::once("NLN".to_string()).chain(args)))
            }
            CoreEvent::Presence(PresenceEvent::PersonalMessage { username, message, .. }) => {
                self.version.has_personal_messages().then(|| self.ubx(username, message))
            }
            CoreEvent::Presence(PresenceEvent::Offline { username, .. }) => {
                Some(line(["FLN".to_string(), username.to_string()]))
            }
            CoreEvent::ContactList(event) => self.contact_list(event),
            CoreEvent::Ring(invite) => self.ring(invite),
            // Not rendered yet (docs/msnp.md): service notices.
            CoreEvent::Notice(_) => None,
        }
    }

    /// `RNG <session-id> <host:port> CKI <ticket> <caller-handle> <caller-name>`: an
    /// invitation into a conversation (which may have been started on either protocol),
    /// answered at the gateway's switchboard with `ANS`.
    fn ring(&self, invite: &RingInvite) -> Option<bytes::Bytes> {
        // A ring from another node names that node's switchboard, where the room is.
        let address = invite.msnp_address.as_deref().or(self.switchboard.as_deref())?;
        let name = encode_text(&invite.caller.display_name);
        Some(line(["RNG", &invite.room, address, "CKI", &invite.ticket, &invite.caller.username, &name]))
    }

    /// Contact-list changes made elsewhere: someone asked this user, or accepted this
    /// user's request (they have this user now: the reverse list), or removed this user.
    /// The user's own changes are answered to the command that made them.
    fn contact_list(&self, event: &ContactListEvent) -> Option<bytes::Bytes> {
        let (added, who) = match event {
            ContactListEvent::RequestReceived { request } => (true, &request.from),
            ContactListEvent::RequestAccepted { by } => (true, by),
            ContactListEvent::ContactRemoved { by } => (false, by),
            _ => return None,
        };
        let name = encode_text(&who.display_name);
        let handle = who.username.as_str();
        Some(match (added, self.version.has_guids()) {
            (true, true) => line(["ADC", "0", "RL", &format!("N={handle}"), &format!("F={name}")]),
            (true, false) => line(["ADD", "0", "RL", "0", handle, &name]),
            (false, true) => line(["REM", "0", "RL", &format!("N={handle}")]),
            (false, false) => line(["REM", "0", "RL", "0", handle]),
        })
    }
}

impl Front for MsnpFront {
    fn deliver(&self, outbox: &Outbox, event: &CoreEvent) {
        match self.render(event) {
            Some(wire) => outbox.push_wire(wire),
            None => tracing::debug!(?event, "an event MSNP sessions are not told about (see docs/msnp.md)"),
        }
    }
}
