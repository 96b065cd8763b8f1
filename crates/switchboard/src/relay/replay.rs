//! The 64-packet replay window of one sender's stream: a sequence number is accepted
//! once, and only if it is newer than the newest minus 64. Sequence numbers wrap.

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ReplayWindow {
    newest: u32,
    /// Bit `i` set: `newest - i` was seen.
    seen: u64,
    started: bool,
}

const WINDOW: u32 = 64;

impl ReplayWindow {
    /// Whether `seq` has not been seen and is not too old.
    pub fn is_fresh(&self, seq: u32) -> bool {
        if !self.started {
            return true;
        }
        let ahead = seq.wrapping_sub(self.newest);
        if ahead != 0 && ahead < 1 << 31 {
            return true;
        }
        let behind = self.newest.wrapping_sub(seq);
        behind < WINDOW && self.seen & (1 << behind) == 0
    }

    /// Records `seq` as seen (call after [`is_fresh`](Self::is_fresh) said yes).
    pub fn mark(&mut self, seq: u32) {
        if !self.started {
            *self = Self { newest: seq, seen: 1, started: true };
            return;
        }
        let ahead = seq.wrapping_sub(self.newest);
        if ahead != 0 && ahead < 1 << 31 {
            self.seen = if ahead >= WINDOW { 1 } else { (self.seen << ahead) | 1 };
            self.newest = seq;
        } else {
            let behind = self.newest.wrapping_sub(seq);
            if behind < WINDOW {
                self.seen |= 1 << behind;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(window: &mut ReplayWindow, seq: u32) -> bool {
        let fresh = window.is_fresh(seq);
        if fresh {
            window.mark(seq);
        }
        fresh
    }

    #[test]
    fn each_number_once_reordering_within_the_window_and_wrapping() {
        let mut w = ReplayWindow::default();
        let start = u32::MAX - 10;
        assert!(accept(&mut w, start));
        assert!(!accept(&mut w, start), "a repeat");
        assert!(accept(&mut w, start.wrapping_add(20)), "across the wrap");
        assert!(accept(&mut w, start.wrapping_add(5)), "late but inside the window");
        assert!(!accept(&mut w, start.wrapping_add(5)));
        assert!(accept(&mut w, start.wrapping_add(100)));
        assert!(!accept(&mut w, start.wrapping_add(36)), "64 behind the newest is too old");
        assert!(accept(&mut w, start.wrapping_add(37)));
        assert!(!accept(&mut w, start.wrapping_sub(1_000_000)), "far in the past");
    }
}
