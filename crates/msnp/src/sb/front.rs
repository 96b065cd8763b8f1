//! Room events as MSNP switchboard lines, for a classic client in a conversation that
//! may also hold Mocha Messenger users.

use bytes::Bytes;
use mocha_proto::OutReason;
use mocha_proto::encode_text;
use mocha_proto::im::ImPayload;
use mocha_switchboard::{Protocol, RoomEvent, RoomFront, RoomMessage, Speaker};

use crate::sb::payload::render_msnp;
use crate::wire::{line, with_payload};

pub(crate) struct MsnpRoomFront;

impl RoomFront for MsnpRoomFront {
    fn protocol(&self) -> Protocol {
        Protocol::Msnp
    }

    fn render(&self, event: &RoomEvent<'_>) -> Option<Bytes> {
        Some(match event {
            RoomEvent::Joined(who) => line(["JOI", &who.username, &encode_text(&who.display_name)]),
            // `BYE <handle> 1`: the classic way to say someone left by going idle.
            RoomEvent::Left { who, reason: Some(OutReason::IdleTimeout) } => {
                line(["BYE", &who.username, "1"])
            }
            RoomEvent::Left { who, .. } => line(["BYE", who.username.as_str()]),
            RoomEvent::Message { from, message } => relayed(from, message)?,
        })
    }
}

/// `MSG <handle> <name> <len>` + the payload in MSN's dialect; a payload of a kind Mocha
/// does not know goes through untouched, but only from one classic client to another.
fn relayed(from: &Speaker, message: &RoomMessage) -> Option<Bytes> {
    let payload = match (&message.meaning, message.origin) {
        (ImPayload::Other, Protocol::Msnp) => message.payload.clone(),
        (meaning, _) => Bytes::from(render_msnp(meaning, &from.username)?),
    };
    Some(with_payload(["MSG", &from.username, &encode_text(&from.display_name)], &payload))
}
