//! Commands a client sends to the Notification Server.

use crate::command::Command;
use crate::frame::Frame;
use crate::parse::{Parse, ParseError};
use crate::status::Status;
use crate::text::encode_text;
use crate::token::Token;

/// `VER trid <version> [<version>…]`: the versions the client speaks, preferred first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ver {
    /// Transaction id.
    pub trid: u32,
    /// At least one version, e.g. [`crate::PROTOCOL_VERSION`].
    pub versions: Vec<Token>,
}

impl Ver {
    /// Parses a `VER` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::VER)?;
        let mut versions = vec![p.next_token()?];
        while p.has_more() {
            versions.push(p.next_token()?);
        }
        let cmd = Self { trid: p.trid(), versions };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame. An empty `versions` yields a frame the server rejects.
    pub fn into_frame(self) -> Frame {
        self.versions.into_iter().fold(Frame::new(Command::VER, self.trid), Frame::arg)
    }
}

/// `USR trid TOKEN <session-token>`: sign in with a token from the passport service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usr {
    /// Transaction id.
    pub trid: u32,
    /// The session token.
    pub token: Token,
}

impl Usr {
    /// Parses a `USR` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::USR)?;
        p.next_literal("TOKEN")?;
        let cmd = Self { trid: p.trid(), token: p.next_token()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::USR, self.trid).arg("TOKEN").arg(self.token)
    }
}

/// Defines a client command that carries nothing but its transaction id.
macro_rules! bare_command {
    ($(#[$doc:meta])* $name:ident, $command:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name {
            /// Transaction id.
            pub trid: u32,
        }

        impl $name {
            /// Parses the frame.
            pub fn parse(frame: Frame) -> Result<Self, ParseError> {
                let p = Parse::expect(frame, Command::$command)?;
                let cmd = Self { trid: p.trid() };
                p.finish()?;
                Ok(cmd)
            }

            /// Builds the frame.
            pub fn into_frame(self) -> Frame {
                Frame::new(Command::$command, self.trid)
            }
        }
    };
}
pub(crate) use bare_command;

bare_command!(
    /// `SYN trid`: request the contact list and settings.
    Syn,
    SYN
);
bare_command!(
    /// `PNG trid`: keep-alive ping.
    Png,
    PNG
);
bare_command!(
    /// `OUT trid`: sign out.
    Out,
    OUT
);

/// `CHG trid <status>`: change presence. `FLN` is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chg {
    /// Transaction id.
    pub trid: u32,
    /// The new status.
    pub status: Status,
}

impl Chg {
    /// Parses a `CHG` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::CHG)?;
        let cmd = Self { trid: p.trid(), status: next_settable_status(&mut p)? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::CHG, self.trid).arg(self.status)
    }
}

/// Reads a status a client may hold: anything but `FLN`.
pub(crate) fn next_settable_status(p: &mut Parse) -> Result<Status, ParseError> {
    p.next_parsed("settable status", |s| s.parse::<Status>().ok().filter(|status| status.is_settable()))
}

/// `UUX trid <len>` + UTF-8 payload: set the personal message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uux {
    /// Transaction id.
    pub trid: u32,
    /// The personal message; may be empty.
    pub message: String,
}

impl Uux {
    /// Parses a `UUX` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::UUX)?;
        let cmd = Self { trid: p.trid(), message: p.payload_text()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::UUX, self.trid).with_payload(self.message)
    }
}

/// `PRP trid MFN <display-name-enc>`: set the display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prp {
    /// Transaction id.
    pub trid: u32,
    /// The new display name, decoded.
    pub display_name: String,
}

impl Prp {
    /// Parses a `PRP` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::PRP)?;
        p.next_literal("MFN")?;
        let cmd = Self { trid: p.trid(), display_name: p.next_text()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::PRP, self.trid).arg("MFN").arg(encode_text(&self.display_name))
    }
}

/// `XFR trid SB`: ask for a switchboard to start a conversation on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xfr {
    /// Transaction id.
    pub trid: u32,
}

impl Xfr {
    /// Parses an `XFR` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::XFR)?;
        p.next_literal("SB")?;
        let cmd = Self { trid: p.trid() };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::XFR, self.trid).arg("SB")
    }
}

/// `UPD trid <channel> <version>`: ask whether a newer client exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upd {
    /// Transaction id.
    pub trid: u32,
    /// Release channel, e.g. `stable`.
    pub channel: Token,
    /// The running client's version.
    pub version: Token,
}

impl Upd {
    /// Parses a `UPD` frame.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        let mut p = Parse::expect(frame, Command::UPD)?;
        let cmd = Self { trid: p.trid(), channel: p.next_token()?, version: p.next_token()? };
        p.finish()?;
        Ok(cmd)
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        Frame::new(Command::UPD, self.trid).arg(self.channel).arg(self.version)
    }
}

/// Anything a client may send to the Notification Server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCommand {
    /// `VER`
    Ver(Ver),
    /// `USR`
    Usr(Usr),
    /// `SYN`
    Syn(Syn),
    /// `CHG`
    Chg(Chg),
    /// `UUX`
    Uux(Uux),
    /// `PRP`
    Prp(Prp),
    /// `XFR`
    Xfr(Xfr),
    /// `UPD`
    Upd(Upd),
    /// `PNG`
    Png(Png),
    /// `OUT`
    Out(Out),
    /// A command the server does not know: reply `ERR trid 202`, do not disconnect.
    Unknown {
        /// The unrecognised command.
        command: Command,
        /// Its transaction id.
        trid: u32,
    },
}

impl ClientCommand {
    /// Dispatches on the frame's command. Unknown commands succeed as
    /// [`ClientCommand::Unknown`]; known ones with bad arguments fail.
    pub fn parse(frame: Frame) -> Result<Self, ParseError> {
        Ok(match frame.command {
            Command::VER => Self::Ver(Ver::parse(frame)?),
            Command::USR => Self::Usr(Usr::parse(frame)?),
            Command::SYN => Self::Syn(Syn::parse(frame)?),
            Command::CHG => Self::Chg(Chg::parse(frame)?),
            Command::UUX => Self::Uux(Uux::parse(frame)?),
            Command::PRP => Self::Prp(Prp::parse(frame)?),
            Command::XFR => Self::Xfr(Xfr::parse(frame)?),
            Command::UPD => Self::Upd(Upd::parse(frame)?),
            Command::PNG => Self::Png(Png::parse(frame)?),
            Command::OUT => Self::Out(Out::parse(frame)?),
            command => Self::Unknown { command, trid: frame.trid },
        })
    }

    /// Builds the frame.
    pub fn into_frame(self) -> Frame {
        match self {
            Self::Ver(cmd) => cmd.into_frame(),
            Self::Usr(cmd) => cmd.into_frame(),
            Self::Syn(cmd) => cmd.into_frame(),
            Self::Chg(cmd) => cmd.into_frame(),
            Self::Uux(cmd) => cmd.into_frame(),
            Self::Prp(cmd) => cmd.into_frame(),
            Self::Xfr(cmd) => cmd.into_frame(),
            Self::Upd(cmd) => cmd.into_frame(),
            Self::Png(cmd) => cmd.into_frame(),
            Self::Out(cmd) => cmd.into_frame(),
            Self::Unknown { command, trid } => Frame::minimal(command, trid),
        }
    }
}
