//! `client-options.json`: every local setting the privacy policy lists, in the
//! platform config folder. Fields this version does not know are kept on save (each
//! section flattens them into a map), a file that cannot be read as settings is moved
//! aside as `client-options.json.corrupt-<timestamp>` and defaults are used with a
//! notice — loading never fails and never panics.

use std::io;
use std::path::{Path, PathBuf};

// Not through `mocha_client`: `fuzz/` compiles this file with only `mocha-proto` and serde.
use mocha_proto::Status;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const FILE_NAME: &str = "client-options.json";
/// The most recent sign-in addresses remembered.
pub const MAX_RECENT_ADDRESSES: usize = 8;
/// The most activity alerts kept in the local history.
pub const MAX_ALERT_HISTORY: usize = 200;

/// Unknown keys of one section, written back as they were read.
type Unknown = Map<String, Value>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientOptions {
    /// Display name and personal message preferences.
    pub profile: ProfileOptions,
    /// Message font and graphics.
    pub messages: MessageOptions,
    /// Audio and video devices and acoustic echo cancellation.
    pub audio_video: AudioVideoOptions,
    /// Country/region and phone number.
    pub personal: PersonalOptions,
    /// Run in background and inactivity.
    pub general: GeneralOptions,
    /// Notifications and sounds.
    pub notifications: NotificationOptions,
    /// Activity alerts received at sign-in, kept locally.
    pub alerts: AlertOptions,
    /// Update checks and the deferral of an offered update.
    pub updates: UpdateOptions,
    /// Where accepted files are written.
    pub files: FileOptions,
    /// Blocked contact ids, mirrored from Passport at every sign-in and change.
    pub blocked_contact_ids: Vec<String>,
    /// Sign-in addresses, server, remembered and automatic sign-in.
    pub sign_in: SignInOptions,
    /// Contact sorting, grouping and local contact groups.
    pub contacts: ContactListOptions,
    /// Outbound proxy.
    pub proxy: ProxyOptions,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            profile: ProfileOptions::default(),
            messages: MessageOptions::default(),
            audio_video: AudioVideoOptions::default(),
            personal: PersonalOptions::default(),
            general: GeneralOptions::default(),
            notifications: NotificationOptions::default(),
            alerts: AlertOptions::default(),
            updates: UpdateOptions::default(),
            files: FileOptions::default(),
            blocked_contact_ids: Vec::new(),
            sign_in: SignInOptions::default(),
            contacts: ContactListOptions::default(),
            proxy: ProxyOptions::default(),
            unknown: Unknown::new(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileOptions {
    /// The display name to set at sign-in; empty keeps the one Passport has.
    pub display_name: String,
    /// The personal message to set at sign-in.
    pub personal_message: String,
    #[serde(flatten)]
    pub unknown: Unknown,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageOptions {
    /// The font others see your messages in.
    pub font_family: String,
    pub font_size: f32,
    /// `#rrggbb`.
    pub font_color: String,
    pub bold: bool,
    pub italic: bool,
    /// Show emoticon text codes such as `:)` as pictures.
    pub emoticons_as_graphics: bool,
    pub show_timestamps: bool,
    /// Tell others when you are typing.
    pub send_typing: bool,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl Default for MessageOptions {
    fn default() -> Self {
        Self {
            font_family: "Segoe UI".into(),
            font_size: 14.0,
            font_color: "#000000".into(),
            bold: false,
            italic: false,
            emoticons_as_graphics: true,
            show_timestamps: true,
            send_typing: true,
            unknown: Unknown::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AudioVideoOptions {
    /// Device names; empty means the system default.
    pub microphone: String,
    pub speakers: String,
    pub camera: String,
    pub acoustic_echo_cancellation: bool,
    /// Take steady background noise (fans, hum) out of the microphone in calls.
    pub noise_suppression: bool,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl Default for AudioVideoOptions {
    fn default() -> Self {
        Self {
            microphone: String::new(),
            speakers: String::new(),
            camera: String::new(),
            acoustic_echo_cancellation: true,
            noise_suppression: true,
            unknown: Unknown::new(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PersonalOptions {
    pub country_region: String,
    pub phone_number: String,
    #[serde(flatten)]
    pub unknown: Unknown,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GeneralOptions {
    /// Keep running (signed in) when the main window is closed.
    pub run_in_background: bool,
    /// Show me as Away after `away_after_minutes` without input.
    pub auto_away: bool,
    pub away_after_minutes: u32,
    /// Show me as On the phone while I am in a call (when I was Online).
    pub on_the_phone_in_calls: bool,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl Default for GeneralOptions {
    fn default() -> Self {
        Self {
            run_in_background: false,
            auto_away: true,
            away_after_minutes: 5,
            on_the_phone_in_calls: true,
            unknown: Unknown::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotificationOptions {
    pub contact_signs_in: bool,
    pub message_received: bool,
    pub show_service_notices: bool,
    pub play_sounds: bool,
    pub sound_on_message: bool,
    pub sound_on_contact_signs_in: bool,
    pub sound_on_nudge: bool,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl Default for NotificationOptions {
    fn default() -> Self {
        Self {
            contact_signs_in: true,
            message_received: true,
            show_service_notices: true,
            play_sounds: true,
            sound_on_message: true,
            sound_on_contact_signs_in: true,
            sound_on_nudge: true,
            unknown: Unknown::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertOptions {
    /// Keep the activity alerts polled at sign-in in `history`.
    pub keep_history: bool,
    pub history: Vec<AlertRecord>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl Default for AlertOptions {
    fn default() -> Self {
        Self { keep_history: true, history: Vec::new(), unknown: Unknown::new() }
    }
}

/// One activity alert as kept locally.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertRecord {
    pub id: String,
    pub kind: String,
    pub sender_id: String,
    pub sender_name: String,
    pub text: String,
    /// RFC 3339.
    pub received_at: String,
    #[serde(flatten)]
    pub unknown: Unknown,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpdateOptions {
    pub check_at_sign_in: bool,
    pub channel: String,
    /// "Remind me later": this version is not offered again before `remind_after`.
    pub deferred_version: Option<String>,
    /// RFC 3339.
    pub remind_after: Option<String>,
    /// Each server's release key (base64url), pinned the first time an update from it
    /// was offered: a build signed by another key is refused.
    pub release_keys: std::collections::BTreeMap<String, String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        Self {
            check_at_sign_in: true,
            channel: "stable".into(),
            deferred_version: None,
            remind_after: None,
            release_keys: Default::default(),
            unknown: Unknown::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileOptions {
    pub receive_folder: PathBuf,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl Default for FileOptions {
    fn default() -> Self {
        Self { receive_folder: crate::platform::default_receive_folder(), unknown: Unknown::new() }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignInOptions {
    /// Most recent first.
    pub recent_addresses: Vec<String>,
    /// Passport's HTTPS root.
    pub server: String,
    /// An extra certificate authority to trust (a self-hosted server's CA), PEM.
    pub ca_certificate: Option<PathBuf>,
    pub initial_status: InitialStatus,
    /// Fill in the last address next time.
    pub remember_me: bool,
    /// Keep a revocable sign-in in the OS secret store (never the password itself).
    pub remember_password: bool,
    /// Sign in with the remembered sign-in when the app starts.
    pub auto_sign_in: bool,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl Default for SignInOptions {
    fn default() -> Self {
        Self {
            recent_addresses: Vec::new(),
            server: "https://localhost:8443".into(),
            ca_certificate: None,
            initial_status: InitialStatus::Online,
            remember_me: true,
            remember_password: false,
            auto_sign_in: false,
            unknown: Unknown::new(),
        }
    }
}

impl SignInOptions {
    /// Puts `address` first in the recent list (once, case-insensitively), keeping at most
    /// [`MAX_RECENT_ADDRESSES`].
    pub fn remember_address(&mut self, address: &str) {
        let address = address.trim();
        if address.is_empty() {
            return;
        }
        self.recent_addresses.retain(|a| !a.eq_ignore_ascii_case(address));
        self.recent_addresses.insert(0, address.to_string());
        self.recent_addresses.truncate(MAX_RECENT_ADDRESSES);
    }

    pub fn forget_address(&mut self, address: &str) {
        self.recent_addresses.retain(|a| !a.eq_ignore_ascii_case(address));
    }
}

/// The statuses one may sign in with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitialStatus {
    #[default]
    Online,
    Busy,
    Away,
    BeRightBack,
    OnThePhone,
    OutToLunch,
    AppearOffline,
}

impl InitialStatus {
    pub const ALL: [InitialStatus; 7] = [
        InitialStatus::Online,
        InitialStatus::Busy,
        InitialStatus::Away,
        InitialStatus::BeRightBack,
        InitialStatus::OnThePhone,
        InitialStatus::OutToLunch,
        InitialStatus::AppearOffline,
    ];

    pub fn status(self) -> Status {
        match self {
            InitialStatus::Online => Status::Online,
            InitialStatus::Busy => Status::Busy,
            InitialStatus::Away => Status::Away,
            InitialStatus::BeRightBack => Status::BeRightBack,
            InitialStatus::OnThePhone => Status::OnThePhone,
            InitialStatus::OutToLunch => Status::OutToLunch,
            InitialStatus::AppearOffline => Status::Hidden,
        }
    }

    pub fn from_status(status: Status) -> Self {
        match status {
            Status::Online => InitialStatus::Online,
            Status::Busy => InitialStatus::Busy,
            Status::Away => InitialStatus::Away,
            Status::BeRightBack => InitialStatus::BeRightBack,
            Status::OnThePhone => InitialStatus::OnThePhone,
            Status::OutToLunch => InitialStatus::OutToLunch,
            Status::Hidden | Status::Offline => InitialStatus::AppearOffline,
        }
    }

    pub fn label(self) -> &'static str {
        crate::model::status_label(self.status())
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    Name,
    Status,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// "Online" and "Offline".
    #[default]
    Status,
    /// The local groups below, then "Other contacts".
    Groups,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactListOptions {
    pub sort_by: SortBy,
    pub group_by: GroupBy,
    pub show_offline: bool,
    /// Local contact groups: never sent to the server.
    pub groups: Vec<ContactGroup>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl Default for ContactListOptions {
    fn default() -> Self {
        Self {
            sort_by: SortBy::Name,
            group_by: GroupBy::Status,
            show_offline: true,
            groups: Vec::new(),
            unknown: Unknown::new(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactGroup {
    pub name: String,
    /// Contact user ids (`u7`).
    pub members: Vec<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl ContactListOptions {
    /// The local group `user` is in, if any.
    pub fn group_of(&self, user: &str) -> Option<&str> {
        self.groups.iter().find(|g| g.members.iter().any(|m| m == user)).map(|g| g.name.as_str())
    }

    /// Moves `user` into `group` (creating it), or out of every group with `None`.
    pub fn assign(&mut self, user: &str, group: Option<&str>) {
        for g in &mut self.groups {
            g.members.retain(|m| m != user);
        }
        if let Some(name) = group.map(str::trim).filter(|n| !n.is_empty()) {
            match self.groups.iter_mut().find(|g| g.name == name) {
                Some(g) => g.members.push(user.to_string()),
                None => self.groups.push(ContactGroup {
                    name: name.to_string(),
                    members: vec![user.to_string()],
                    unknown: Unknown::new(),
                }),
            }
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyKind {
    #[default]
    None,
    Socks5,
    Http,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProxyOptions {
    pub kind: ProxyKind,
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Kept in this file as the privacy policy says, only if entered.
    pub password: String,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        Self {
            kind: ProxyKind::None,
            host: String::new(),
            port: 1080,
            user: String::new(),
            password: String::new(),
            unknown: Unknown::new(),
        }
    }
}

// The proxy password never reaches a log line.
impl std::fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyOptions")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &if self.password.is_empty() { "" } else { "***" })
            .finish()
    }
}

impl ClientOptions {
    /// Adds alerts to the local history (newest last), without duplicates, bounded.
    pub fn record_alerts(&mut self, alerts: impl IntoIterator<Item = AlertRecord>) {
        if !self.alerts.keep_history {
            return;
        }
        for alert in alerts {
            if !self.alerts.history.iter().any(|a| a.id == alert.id) {
                self.alerts.history.push(alert);
            }
        }
        let excess = self.alerts.history.len().saturating_sub(MAX_ALERT_HISTORY);
        self.alerts.history.drain(..excess);
    }
}

/// What loading found.
#[derive(Debug)]
pub struct Loaded {
    pub options: ClientOptions,
    /// Something the user should be told (a corrupt file moved aside).
    pub notice: Option<String>,
}

/// The settings file in one folder.
#[derive(Clone, Debug)]
pub struct OptionsFile {
    dir: PathBuf,
}

impl OptionsFile {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// In the platform config folder (or `MOCHA_MESSENGER_CONFIG_DIR`).
    pub fn in_config_dir() -> Self {
        Self::new(crate::platform::config_dir())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Reads the settings; a missing file gives defaults, an unreadable one is moved
    /// aside and gives defaults with a notice.
    pub fn load(&self) -> Loaded {
        let path = self.path();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Loaded { options: ClientOptions::default(), notice: None };
            }
            Err(e) => {
                return Loaded {
                    options: ClientOptions::default(),
                    notice: Some(format!("Your settings could not be read ({e}); defaults are used.")),
                };
            }
        };
        match serde_json::from_slice::<ClientOptions>(&bytes) {
            Ok(options) => Loaded { options, notice: None },
            Err(error) => {
                let notice = match self.move_aside() {
                    Ok(backup) => format!(
                        "Your settings file was damaged ({error}). It was kept as {} and the default settings are used.",
                        backup.display()
                    ),
                    Err(e) => format!(
                        "Your settings file was damaged ({error}) and could not be moved aside ({e}); the default settings are used."
                    ),
                };
                tracing::warn!(path = %path.display(), %error, "corrupt settings file");
                Loaded { options: ClientOptions::default(), notice: Some(notice) }
            }
        }
    }

    fn move_aside(&self) -> io::Result<PathBuf> {
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut backup = self.dir.join(format!("{FILE_NAME}.corrupt-{stamp}"));
        let mut n = 1;
        while backup.exists() {
            backup = self.dir.join(format!("{FILE_NAME}.corrupt-{stamp}-{n}"));
            n += 1;
        }
        std::fs::rename(self.path(), &backup)?;
        Ok(backup)
    }

    /// Writes the settings: to a temporary file first, then renamed over the old one,
    /// so a crash mid-write never leaves a half file.
    pub fn save(&self, options: &ClientOptions) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let json = serde_json::to_vec_pretty(options).map_err(io::Error::other)?;
        let temporary = self.dir.join(format!("{FILE_NAME}.tmp"));
        std::fs::write(&temporary, json)?;
        std::fs::rename(&temporary, self.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> (tempfile::TempDir, OptionsFile) {
        let dir = tempfile::tempdir().unwrap();
        let file = OptionsFile::new(dir.path());
        (dir, file)
    }

    #[test]
    fn a_missing_file_gives_defaults_without_a_notice() {
        let (_dir, file) = folder();
        let loaded = file.load();
        assert_eq!(loaded.options, ClientOptions::default());
        assert!(loaded.notice.is_none());
    }

    #[test]
    fn every_policy_setting_is_written_and_read_back() {
        let (_dir, file) = folder();
        let mut options = ClientOptions::default();
        options.profile.display_name = "Alice A.".into();
        options.profile.personal_message = "at the beach".into();
        options.messages.font_family = "Comic Sans MS".into();
        options.messages.font_color = "#ff0000".into();
        options.messages.emoticons_as_graphics = false;
        options.audio_video.microphone = "USB Mic".into();
        options.audio_video.camera = "Webcam".into();
        options.audio_video.acoustic_echo_cancellation = false;
        options.personal.country_region = "Portugal".into();
        options.personal.phone_number = "+351 555 0100".into();
        options.general.run_in_background = true;
        options.general.away_after_minutes = 12;
        options.notifications.play_sounds = false;
        options.record_alerts([AlertRecord { id: "a1".into(), text: "hi".into(), ..Default::default() }]);
        options.updates.deferred_version = Some("1.2.0".into());
        options.files.receive_folder = "/tmp/received".into();
        options.blocked_contact_ids = vec!["u9".into()];
        options.sign_in.remember_address("alice@example.com");
        options.sign_in.auto_sign_in = true;
        options.sign_in.initial_status = InitialStatus::AppearOffline;
        options.contacts.sort_by = SortBy::Status;
        options.contacts.group_by = GroupBy::Groups;
        options.contacts.assign("u2", Some("Family"));
        options.proxy = ProxyOptions {
            kind: ProxyKind::Socks5,
            host: "proxy.lan".into(),
            port: 1080,
            user: "me".into(),
            password: "pw".into(),
            unknown: Unknown::new(),
        };
        file.save(&options).unwrap();

        let json: Value = serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
        for pointer in [
            "/profile/display_name",
            "/profile/personal_message",
            "/messages/font_family",
            "/messages/emoticons_as_graphics",
            "/audio_video/microphone",
            "/audio_video/speakers",
            "/audio_video/camera",
            "/audio_video/acoustic_echo_cancellation",
            "/audio_video/noise_suppression",
            "/personal/country_region",
            "/personal/phone_number",
            "/general/run_in_background",
            "/general/away_after_minutes",
            "/general/on_the_phone_in_calls",
            "/notifications/play_sounds",
            "/alerts/history/0/text",
            "/updates/deferred_version",
            "/files/receive_folder",
            "/blocked_contact_ids/0",
            "/sign_in/recent_addresses/0",
            "/sign_in/auto_sign_in",
            "/sign_in/remember_password",
            "/contacts/sort_by",
            "/contacts/groups/0/members/0",
            "/proxy/host",
            "/proxy/port",
            "/proxy/user",
            "/proxy/password",
        ] {
            assert!(json.pointer(pointer).is_some(), "{pointer} is in the file");
        }
        assert_eq!(json.pointer("/sign_in/initial_status").unwrap(), "appear_offline");
        assert_eq!(file.load().options, options);
    }

    #[test]
    fn unknown_fields_survive_a_save_at_every_level() {
        let (_dir, file) = folder();
        std::fs::write(
            file.path(),
            r#"{"future_section": {"x": 1}, "profile": {"display_name": "A", "nickname_colour": "red"},
               "contacts": {"groups": [{"name": "Work", "members": ["u3"], "icon": "briefcase"}]}}"#,
        )
        .unwrap();
        let loaded = file.load();
        assert!(loaded.notice.is_none());
        let mut options = loaded.options;
        assert_eq!(options.profile.display_name, "A");
        assert_eq!(options.messages, MessageOptions::default(), "missing sections take defaults");
        options.profile.personal_message = "new".into();
        file.save(&options).unwrap();

        let json: Value = serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
        assert_eq!(json["future_section"]["x"], 1);
        assert_eq!(json["profile"]["nickname_colour"], "red");
        assert_eq!(json["profile"]["personal_message"], "new");
        assert_eq!(json["contacts"]["groups"][0]["icon"], "briefcase");
    }

    /// Found by fuzzing (`fuzz/corpus/client_options/big-number`): without serde_json's
    /// correctly rounded float parsing, a large number in an unknown key came back as a
    /// different number after one save.
    #[test]
    fn a_large_number_in_an_unknown_key_is_the_same_number_after_a_save() {
        let (_dir, file) = folder();
        std::fs::write(file.path(), r#"{"pro":111111105555555555555, "tiny": 2.2250738585072011e-308}"#)
            .unwrap();
        let loaded = file.load();
        assert!(loaded.notice.is_none());
        file.save(&loaded.options).unwrap();
        let again = file.load();
        assert_eq!(again.options, loaded.options);
        assert_eq!(again.options.unknown["pro"].as_f64(), Some(111111105555555555555.0));
        assert_eq!(again.options.unknown["tiny"].as_f64(), Some(2.2250738585072011e-308));
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_and_defaults_are_used() {
        for garbage in
            ["{not json", "[1, 2, 3]", r#"{"general": {"away_after_minutes": "soon"}}"#, "\u{0}\u{1}"]
        {
            let (dir, file) = folder();
            std::fs::write(file.path(), garbage).unwrap();
            let loaded = file.load();
            assert_eq!(loaded.options, ClientOptions::default(), "{garbage:?}");
            let notice = loaded.notice.expect("the user is told");
            assert!(notice.contains("corrupt-"), "{notice}");
            assert!(!file.path().exists(), "the damaged file is no longer in the way");
            let backups: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n.starts_with("client-options.json.corrupt-"))
                .collect();
            assert_eq!(backups.len(), 1, "{backups:?}");
            assert_eq!(
                std::fs::read(dir.path().join(&backups[0])).unwrap(),
                garbage.as_bytes(),
                "kept as it was"
            );

            // Saving afterwards writes a good file; the backup stays.
            file.save(&loaded.options).unwrap();
            assert!(file.load().notice.is_none());
        }
    }

    #[test]
    fn two_corrupt_files_in_the_same_second_keep_both_backups() {
        let (dir, file) = folder();
        std::fs::write(file.path(), "{").unwrap();
        file.load();
        std::fs::write(file.path(), "{{").unwrap();
        file.load();
        let count = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(count, 2);
    }

    #[test]
    fn recent_addresses_are_most_recent_first_unique_and_bounded() {
        let mut sign_in = SignInOptions::default();
        for n in 0..12 {
            sign_in.remember_address(&format!("user{n}@example.com"));
        }
        sign_in.remember_address("USER5@example.com");
        assert_eq!(sign_in.recent_addresses.len(), MAX_RECENT_ADDRESSES);
        assert_eq!(sign_in.recent_addresses[0], "USER5@example.com");
        assert_eq!(
            sign_in.recent_addresses.iter().filter(|a| a.eq_ignore_ascii_case("user5@example.com")).count(),
            1
        );
        sign_in.forget_address("user5@example.com");
        assert!(!sign_in.recent_addresses.iter().any(|a| a.eq_ignore_ascii_case("user5@example.com")));
    }

    #[test]
    fn contacts_move_between_local_groups() {
        let mut contacts = ContactListOptions::default();
        contacts.assign("u2", Some("Family"));
        contacts.assign("u3", Some("Family"));
        contacts.assign("u2", Some("Work"));
        assert_eq!(contacts.group_of("u2"), Some("Work"));
        assert_eq!(contacts.group_of("u3"), Some("Family"));
        contacts.assign("u3", None);
        assert_eq!(contacts.group_of("u3"), None);
    }

    #[test]
    fn alert_history_is_deduplicated_and_bounded() {
        let mut options = ClientOptions::default();
        let alert = |n: usize| AlertRecord { id: format!("a{n}"), ..Default::default() };
        options.record_alerts((0..MAX_ALERT_HISTORY + 10).map(alert));
        options.record_alerts([alert(MAX_ALERT_HISTORY + 9)]);
        assert_eq!(options.alerts.history.len(), MAX_ALERT_HISTORY);
        assert_eq!(options.alerts.history.last().unwrap().id, format!("a{}", MAX_ALERT_HISTORY + 9));
        options.alerts.keep_history = false;
        options.record_alerts([alert(1000)]);
        assert!(!options.alerts.history.iter().any(|a| a.id == "a1000"));
    }

    #[test]
    fn proxy_settings_become_a_client_proxy_and_hide_the_password() {
        let mut proxy = ProxyOptions::default();
        assert_eq!(proxy.to_proxy().unwrap(), None);
        proxy.kind = ProxyKind::Http;
        assert!(proxy.to_proxy().is_err(), "a host is needed");
        proxy.host = "proxy.lan".into();
        proxy.port = 3128;
        proxy.user = "me".into();
        proxy.password = "secret-pw".into();
        let built = proxy.to_proxy().unwrap().unwrap();
        assert_eq!(built.port, 3128);
        assert_eq!(built.credentials.unwrap().password, "secret-pw");
        assert!(!format!("{proxy:?}").contains("secret-pw"));
    }
}
