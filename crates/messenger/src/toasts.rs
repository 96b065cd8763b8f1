//! Desktop notifications through `notify-rust`: the freedesktop notification service
//! over D-Bus on Linux (pure-Rust zbus, no libdbus), toast notifications on Windows.

use std::sync::mpsc;

use crate::worker::{Problem, Worker};

/// Longer text is cut to this many characters, ending in "…": a notification is a
/// glance, and message text should not sit in the notification centre in full.
pub const MAX_CHARS: usize = 120;

const APP_NAME: &str = "Mocha Messenger";

struct Toast {
    title: String,
    body: String,
}

/// Shows desktop notifications ("Alice has just signed in.") on its own thread: the freedesktop notification service over D-Bus on Linux, Windows toast notifications on Windows. `show` never blocks; failures are logged once and kept in `last_problem()`.
pub struct Toaster {
    worker: Worker<Toast>,
}

impl Toaster {
    pub fn start() -> Self {
        Toaster { worker: Worker::start("notifications", serve) }
    }

    /// Queues a notification; title and body are cut to [`MAX_CHARS`].
    pub fn show(&self, title: &str, body: &str) {
        let toast = Toast { title: truncate(title, MAX_CHARS), body: truncate(body, MAX_CHARS) };
        self.worker.send(toast);
    }

    /// Why the last notification could not be shown, if it could not.
    pub fn last_problem(&self) -> Option<String> {
        self.worker.last_problem()
    }
}

fn serve(inbox: mpsc::Receiver<Toast>, problem: &Problem) {
    for toast in inbox {
        let outcome = notify_rust::Notification::new()
            .appname(APP_NAME)
            .summary(&toast.title)
            .body(&body_text(&toast.body))
            .show()
            .map(drop)
            .err()
            .map(|e| format!("desktop notifications are not available: {e}"));
        problem.set(outcome);
    }
}

/// The freedesktop body may be markup (`<b>`, `&amp;`): a name like "<3 Bob & co" must
/// show as typed, not be read as tags.
fn body_text(body: &str) -> String {
    if cfg!(all(unix, not(target_os = "macos"))) {
        body.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    } else {
        body.to_owned()
    }
}

/// `text` with at most `max` characters, the last one "…" when it was cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_and_long_text_cut_with_an_ellipsis() {
        assert_eq!(truncate("Alice has just signed in.", MAX_CHARS), "Alice has just signed in.");
        let exactly = "a".repeat(MAX_CHARS);
        assert_eq!(truncate(&exactly, MAX_CHARS), exactly);
        let cut = truncate(&"b".repeat(500), MAX_CHARS);
        assert_eq!(cut.chars().count(), MAX_CHARS);
        assert!(cut.ends_with("b…"));
        assert_eq!(truncate("héllo wörld", 7), "héllo…");
        assert_eq!(truncate("日本語のテキスト", 4), "日本語…");
        assert_eq!(truncate("anything", 0), "…");
    }

    #[test]
    fn freedesktop_bodies_escape_markup() {
        let text = body_text("<3 Bob & co said <b>hi</b>");
        if cfg!(all(unix, not(target_os = "macos"))) {
            assert_eq!(text, "&lt;3 Bob &amp; co said &lt;b&gt;hi&lt;/b&gt;");
        } else {
            assert_eq!(text, "<3 Bob & co said <b>hi</b>");
        }
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    mod dbus {
        //! These run the toaster in a child process (this test binary, running
        //! `child_shows_one_notification`), because the D-Bus session address comes from
        //! the environment, which a test must not change in its own process.

        use std::collections::HashMap;
        use std::io::{BufRead, BufReader};
        use std::process::{Child, Command, Stdio};
        use std::time::Duration;

        use super::super::*;

        const CHILD: &str = "MOCHA_TOAST_TEST_CHILD";
        const LONG_BODY: &str = "Bob & Carol say: this message is much longer than anything a notification should carry in full, so the toaster must cut it before it reaches the desktop.";

        /// Shows one notification and prints `PROBLEM: …` if it failed within 10 s.
        #[test]
        #[ignore = "a helper run by the other D-Bus tests in a child process"]
        fn child_shows_one_notification() {
            if std::env::var_os(CHILD).is_none() {
                return;
            }
            let toaster = Toaster::start();
            toaster.show("Alice has just signed in.", LONG_BODY);
            for _ in 0..100 {
                if let Some(problem) = toaster.last_problem() {
                    println!("PROBLEM: {problem}");
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            println!("NO PROBLEM");
        }

        fn child(bus_address: Option<&str>, runtime_dir: &std::path::Path) -> Command {
            let mut command = Command::new(std::env::current_exe().unwrap());
            command
                .args([
                    "--ignored",
                    "--exact",
                    "--nocapture",
                    "toasts::tests::dbus::child_shows_one_notification",
                ])
                .env(CHILD, "1")
                .env("XDG_RUNTIME_DIR", runtime_dir)
                .env_remove("DBUS_SESSION_BUS_ADDRESS")
                .stdout(Stdio::piped());
            if let Some(address) = bus_address {
                command.env("DBUS_SESSION_BUS_ADDRESS", address);
            }
            command
        }

        #[test]
        fn without_a_session_bus_showing_reports_a_problem() {
            let runtime_dir = tempfile::tempdir().unwrap();
            let output = child(None, runtime_dir.path()).output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(output.status.success(), "{stdout}");
            assert!(stdout.contains("PROBLEM: desktop notifications are not available"), "{stdout}");
        }

        struct KillOnDrop(Child);

        impl Drop for KillOnDrop {
            fn drop(&mut self) {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }

        /// A private session bus; its address is the first line `dbus-daemon` prints.
        fn session_bus() -> (KillOnDrop, String) {
            let daemon = Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--nopidfile", "--print-address"])
                .stdout(Stdio::piped())
                .spawn()
                .expect("dbus-daemon (Debian package dbus-daemon) is needed for this test");
            let mut daemon = KillOnDrop(daemon);
            let mut address = String::new();
            BufReader::new(daemon.0.stdout.take().unwrap()).read_line(&mut address).unwrap();
            (daemon, address.trim().to_owned())
        }

        /// Stands in for the desktop's notification service and passes on what it gets.
        struct FakeNotifications {
            received: std::sync::mpsc::Sender<(String, String, String)>,
        }

        #[zbus::interface(name = "org.freedesktop.Notifications")]
        impl FakeNotifications {
            #[allow(clippy::too_many_arguments)]
            fn notify(
                &self,
                app_name: String,
                _replaces_id: u32,
                _app_icon: String,
                summary: String,
                body: String,
                _actions: Vec<String>,
                _hints: HashMap<String, zbus::zvariant::OwnedValue>,
                _expire_timeout: i32,
            ) -> u32 {
                let _ = self.received.send((app_name, summary, body));
                1
            }

            fn get_capabilities(&self) -> Vec<String> {
                vec!["body".into()]
            }

            fn get_server_information(&self) -> (String, String, String, String) {
                ("fake".into(), "mocha tests".into(), "1".into(), "1.2".into())
            }

            fn close_notification(&self, _id: u32) {}
        }

        #[test]
        fn a_notification_reaches_the_desktop_service_cut_and_escaped() {
            let (_daemon, address) = session_bus();
            let (received, arrivals) = std::sync::mpsc::channel();
            let _service = zbus::blocking::connection::Builder::address(address.as_str())
                .unwrap()
                .name("org.freedesktop.Notifications")
                .unwrap()
                .serve_at("/org/freedesktop/Notifications", FakeNotifications { received })
                .unwrap()
                .build()
                .unwrap();

            let runtime_dir = tempfile::tempdir().unwrap();
            let _toaster = KillOnDrop(child(Some(&address), runtime_dir.path()).spawn().unwrap());
            let (app, summary, body) =
                arrivals.recv_timeout(Duration::from_secs(20)).expect("no notification arrived");
            assert_eq!(app, "Mocha Messenger");
            assert_eq!(summary, "Alice has just signed in.");
            let cut = truncate(LONG_BODY, MAX_CHARS);
            assert_eq!(cut.chars().count(), MAX_CHARS);
            assert!(cut.ends_with('…'));
            assert_eq!(body, cut.replace('&', "&amp;"));
        }
    }
}
