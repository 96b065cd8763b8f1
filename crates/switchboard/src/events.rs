//! Passport changes that take effect inside conversations at once: a ban or a deleted
//! account ends the user's conversations; a block stops everything between the two.

use mocha_api::ContactListEvent;
use mocha_passport::{PassportEvent, PassportListener};
use mocha_proto::OutReason;

use crate::Switchboard;

impl PassportListener for Switchboard {
    fn on_event(&self, event: &PassportEvent) {
        let mut rooms = self.rooms();
        match event {
            PassportEvent::Banned { user, ban } => {
                for room in rooms.values() {
                    if let Some(outbox) = room.outbox(*user) {
                        outbox.kick(mocha_net::banned(ban));
                    }
                }
            }
            PassportEvent::AccountDeleted { user } => {
                for room in rooms.values() {
                    if let Some(outbox) = room.outbox(*user) {
                        outbox.kick(OutReason::AccountDeleted);
                    }
                }
            }
            PassportEvent::ContactList { user, event: ContactListEvent::Blocked { user: blocked } } => {
                for room in rooms.values_mut() {
                    room.set_blocked(*user, blocked.id, true);
                }
            }
            PassportEvent::ContactList { user, event: ContactListEvent::Unblocked { user: unblocked } } => {
                // The other side may still block this one: ask Passport before reopening.
                let (a, b) = (*user, unblocked.id);
                let (passport, rooms) = (self.passport.clone(), self.rooms.clone());
                tokio::spawn(async move {
                    if let Ok(false) = passport.blocked_either_way(a, b).await {
                        for room in rooms.lock().values_mut() {
                            room.set_blocked(a, b, false);
                        }
                    }
                });
            }
            _ => {}
        }
    }
}
