//! The MSNP error codes the gateway answers with (`<code> <trid>`), each named for when
//! it is used.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// `200`: an unknown command or a line that cannot be parsed.
    Syntax = 200,
    /// `201`: a known command with an argument that is wrong or not allowed.
    InvalidArgument = 201,
    /// `208`: no such user, or not a handle (msnp11-sdk reads 208 as "invalid contact").
    UnknownPrincipal = 208,
    /// `207`: `USR` after signing in.
    AlreadySignedIn = 207,
    /// `215`: already on that list.
    AlreadyOnList = 215,
    /// `216`: not on that list.
    NotOnList = 216,
    /// `217`: `CAL` to someone offline (or appearing offline, or blocking the caller).
    PrincipalOffline = 217,
    /// `282`: a switchboard `MSG` refused (malformed, or text over the limit);
    /// msnp11-sdk reads it as "not delivered".
    BadMessage = 282,
    /// `500`: something broke on the server (logged there).
    Internal = 500,
    /// `502`: a command Mocha does not offer (contact groups: see docs/msnp.md).
    CommandDisabled = 502,
    /// `600`: the database cannot be reached just now; try again.
    ServerBusy = 600,
    /// `603`: the database is full; nothing was changed.
    StorageFull = 603,
    /// `712`: `CAL` into a conversation that is full.
    SessionOverloaded = 712,
    /// `715`: a command that needs another step first (signing in).
    NotExpected = 715,
    /// `800`: commands sent faster than the rate limit.
    TooFast = 800,
    /// `911`: sign-in refused (bad or expired token, banned, revoked).
    AuthenticationFailed = 911,
}

impl Code {
    pub fn number(self) -> u16 {
        self as u16
    }
}
