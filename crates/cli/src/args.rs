//! The command line: global connection flags and one subcommand per user action.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(name = "mocha", version, about = "Mocha Messenger from the terminal", propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Passport's HTTPS address (remembered at sign-in).
    #[arg(long, global = true, env = "MOCHA_SERVER", value_name = "https://host:port")]
    pub server: Option<String>,
    /// An extra certificate authority to trust, such as a server's mocha-data/tls/ca.pem.
    #[arg(long, global = true, env = "MOCHA_CA", value_name = "PATH")]
    pub ca: Option<PathBuf>,
    /// Go through a proxy: socks5://[user:password@]host:port or http://….
    #[arg(long, global = true, env = "MOCHA_PROXY", value_name = "URL")]
    pub proxy: Option<String>,
    /// The Notification Server's host:port, if the server does not advertise it.
    #[arg(long, global = true, env = "MOCHA_NOTIFICATION_SERVER", value_name = "HOST:PORT")]
    pub notification_server: Option<String>,
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    pub json: bool,
    /// Where the sign-in is remembered (default: the user's config folder).
    #[arg(long, global = true, env = "MOCHA_CONFIG_DIR", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create an account (the password comes from MOCHA_PASSWORD or a prompt).
    Register {
        username: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Sign in and remember the sign-in.
    SignIn { username: String },
    /// Sign out and forget the sign-in.
    SignOut,
    /// Set your status: NLN BSY AWY BRB PHN LUN HDN (kept for later sessions).
    Status { code: String },
    /// Set your personal message ("" clears it).
    Message { text: String },
    /// List contacts, requests and blocks, or change them.
    Contacts {
        #[command(subcommand)]
        action: Option<ContactsAction>,
    },
    /// Show or change who may send you contact requests.
    Privacy {
        #[arg(long, value_enum)]
        requests: Option<Policy>,
    },
    /// Send one message (an offline contact gets it as an activity alert).
    Send { user: String, message: String },
    /// Chat interactively: lines you type go out, messages come in. /nudge nudges.
    Chat { user: String },
    /// Send a file to a contact, who must accept it.
    SendFile { user: String, path: PathBuf },
    /// Stay online and accept every file sent to you into a folder.
    ReceiveFiles {
        #[arg(long)]
        into: PathBuf,
        /// Stop after this many files.
        #[arg(long)]
        count: Option<usize>,
    },
    /// What arrived while you were away (reading deletes them).
    Alerts,
    /// Stay online and print everything that happens; with --answer-calls, answer every
    /// call with the given files (or the default sound devices).
    Listen {
        /// Accept every incoming call.
        #[arg(long)]
        answer_calls: bool,
        #[command(flatten)]
        media: CallMediaArgs,
        /// With --answer-calls: stop after this many calls have ended.
        #[arg(long, requires = "answer_calls")]
        calls: Option<usize>,
    },
    /// Call a contact: plays --audio-in as your microphone and records what you hear to
    /// --audio-out (default: the machine's sound devices); prints the call's statistics.
    Call {
        user: String,
        #[command(flatten)]
        media: CallMediaArgs,
        /// Hang up after this many seconds (default: when the other side does, or Ctrl-C).
        #[arg(long, value_name = "N")]
        seconds: Option<f64>,
    },
    /// Check the channel for a newer Mocha Messenger, download it with progress, check
    /// it against the server's release key, and save it (or install it with --install).
    Update {
        /// stable, beta or dev.
        #[arg(long, default_value = "stable", value_parser = ["stable", "beta", "dev"])]
        channel: String,
        /// The version you have [default: this program's own].
        #[arg(long, value_name = "VERSION")]
        current: Option<String>,
        /// The folder to save the verified build in [default: the current folder].
        #[arg(long, value_name = "DIR")]
        into: Option<PathBuf>,
        /// Replace this program file with the verified build, atomically.
        #[arg(long, value_name = "PATH")]
        install: Option<PathBuf>,
    },
    /// List the microphones, speakers and cameras calls can use, by the names
    /// --microphone, --speakers and --camera take.
    Devices,
    /// Everything the server stores about you, as JSON.
    Export,
    /// Delete your account for good (the password confirms it).
    DeleteAccount,
    /// Administrators: ban a user.
    Ban {
        user: String,
        #[arg(long)]
        reason: Option<String>,
        /// RFC 3339 end of the ban, like 2030-01-01T00:00:00Z; permanent without it.
        #[arg(long)]
        until: Option<String>,
    },
    /// Administrators: lift a ban.
    Unban { user: String },
    /// Administrators: make a user an administrator (or not, with --revoke).
    GrantAdmin {
        user: String,
        #[arg(long)]
        revoke: bool,
    },
    /// Administrators: post a service notice to everyone online.
    Notice { text: String },
}

/// Where a call's sound and pictures come from and go to.
#[derive(Args, Debug, Clone, Default)]
pub struct CallMediaArgs {
    /// A 16-bit PCM mono WAV file (16 or 48 kHz) to use as the microphone.
    #[arg(long, value_name = "IN.wav")]
    pub audio_in: Option<PathBuf>,
    /// Where to record what you hear (48 kHz 16-bit mono WAV).
    #[arg(long, value_name = "OUT.wav")]
    pub audio_out: Option<PathBuf>,
    /// The microphone to use, by the name `mocha devices` shows (default: the system's).
    #[arg(long, value_name = "NAME", conflicts_with = "audio_in")]
    pub microphone: Option<String>,
    /// The speakers to play the call on, by the name `mocha devices` shows.
    #[arg(long, value_name = "NAME", conflicts_with = "audio_out")]
    pub speakers: Option<String>,
    /// Turn acoustic echo cancellation off (it is on by default; files need none).
    #[arg(long)]
    pub no_echo_cancellation: bool,
    /// A Y4M (4:2:0) video to use as the camera; makes the call a video call.
    #[arg(long, value_name = "IN.y4m")]
    pub video_in: Option<PathBuf>,
    /// Use a real camera (the first one, or the one called NAME); makes the call a video call.
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "", conflicts_with = "video_in")]
    pub camera: Option<String>,
    /// Where to write the other side's video (Y4M).
    #[arg(long, value_name = "OUT.y4m")]
    pub video_out: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ContactsAction {
    /// Ask someone to become a contact.
    Request {
        user: String,
        #[arg(long)]
        message: Option<String>,
    },
    /// Accept a request (by request id or the asker's address).
    Accept {
        who: String,
    },
    /// Decline a request (by request id or the asker's address).
    Decline {
        who: String,
    },
    /// Set your alias for a contact; without one, clear it.
    Alias {
        user: String,
        alias: Option<String>,
    },
    /// End a contact, for both of you.
    Remove {
        user: String,
    },
    Block {
        user: String,
    },
    Unblock {
        user: String,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Policy {
    Everyone,
    Nobody,
}
