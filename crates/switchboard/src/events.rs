//! Passport changes that take effect inside conversations at once: a ban or a deleted
//! account ends the user's conversations (and takes them out of their calls at once);
//! a block stops everything between the two, call media included.

use mocha_api::ContactListEvent;
use mocha_passport::{PassportEvent, PassportListener};
use mocha_proto::OutReason;

use crate::Switchboard;

impl PassportListener for Switchboard {
    fn on_event(&self, event: &PassportEvent) {
        let mut rooms = self.rooms();
        match event {
            PassportEvent::Banned { user, ban } => {
                for (id, room) in rooms.iter_mut() {
                    if let Some(outbox) = room.outbox(*user) {
                        outbox.kick(mocha_net::banned(ban));
                        // Out of their calls now, not when the connection has closed.
                        room.drop_from_calls(*user);
                        self.sync_relay(id, room);
                    }
                }
            }
            PassportEvent::AccountDeleted { user } => {
                for (id, room) in rooms.iter_mut() {
                    if let Some(outbox) = room.outbox(*user) {
                        outbox.kick(OutReason::AccountDeleted);
                        room.drop_from_calls(*user);
                        self.sync_relay(id, room);
                    }
                }
            }
            PassportEvent::ContactList { user, event: ContactListEvent::Blocked { user: blocked } } => {
                for (id, room) in rooms.iter_mut() {
                    if room.set_blocked(*user, blocked.id, true) {
                        self.sync_relay(id, room);
                    }
                }
            }
            PassportEvent::ContactList { user, event: ContactListEvent::Unblocked { user: unblocked } } => {
                // The other side may still block this one: ask Passport before reopening.
                let (a, b) = (*user, unblocked.id);
                let (passport, rooms, relay) =
                    (self.passport.clone(), self.rooms.clone(), self.relay.clone());
                tokio::spawn(async move {
                    if let Ok(false) = passport.blocked_either_way(a, b).await {
                        for (id, room) in rooms.lock().iter_mut() {
                            if room.set_blocked(a, b, false) {
                                relay.sync_room(id, room.relay_view());
                            }
                        }
                    }
                });
            }
            _ => {}
        }
    }
}
