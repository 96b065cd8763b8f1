//! Framing: finding, validating and encoding one MENP/1 frame in a byte stream.
//!
//! A frame is one line `CMD TrID arg…\r\n`, plus, for payload-bearing commands, exactly
//! N bytes of payload where N is the line's last argument. [`Frame::check`] decides
//! whether a whole valid frame is buffered without allocating; [`Frame::parse`] and
//! [`Frame::decode`] then build it.

use std::fmt;
use std::io::Cursor;

use bytes::{BufMut, Bytes, BytesMut};

use crate::command::Command;
use crate::error_code::ErrorCode;

/// Size limits enforced before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted line in bytes, not counting the `\r\n`.
    pub max_line: usize,
    /// Largest accepted payload in bytes.
    pub max_payload: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_line: 4096, max_payload: 65536 }
    }
}

/// A malformed or oversized frame. The stream cannot be resynchronised after one, so the
/// reader should answer `ERR 0 <code>` (see [`FrameError::error_code`]) and disconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// No `\r\n` within `max_line` bytes.
    #[error("line too long")]
    LineTooLong,
    /// The declared payload length exceeds `max_payload`.
    #[error("payload too large")]
    PayloadTooLarge,
    /// A `\n` not preceded by `\r`, or a `\r` not followed by `\n`.
    #[error("line must end with CR LF")]
    BadLineEnding,
    /// The line is not UTF-8.
    #[error("line is not valid UTF-8")]
    NotUtf8,
    /// The line contains a control character.
    #[error("line contains a control character")]
    BadCharacter,
    /// The command is not three uppercase ASCII letters.
    #[error("command must be three uppercase ASCII letters")]
    BadCommand,
    /// The transaction id is missing or not a canonical decimal `u32`.
    #[error("missing or invalid transaction id")]
    BadTrId,
    /// A payload-bearing command whose last argument is not a canonical decimal length.
    #[error("missing or invalid payload length")]
    BadLength,
    /// Two consecutive spaces, or a trailing space.
    #[error("empty argument")]
    EmptyArgument,
}

impl FrameError {
    /// The code to send in the `ERR` reply before disconnecting.
    pub fn error_code(self) -> ErrorCode {
        match self {
            FrameError::LineTooLong => ErrorCode::LineTooLong,
            FrameError::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            FrameError::BadLineEnding
            | FrameError::NotUtf8
            | FrameError::BadCharacter
            | FrameError::BadCommand
            | FrameError::BadTrId
            | FrameError::BadLength
            | FrameError::EmptyArgument => ErrorCode::SyntaxError,
        }
    }
}

/// Outcome of looking for a frame in a buffer that is not a whole valid frame.
///
/// Kept apart from [`FrameError`] so "read more bytes" can never be mistaken for a
/// protocol violation, or the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// The buffer holds a valid prefix of a frame; read more and try again.
    #[error("incomplete frame")]
    Incomplete,
    /// The buffer can never become a valid frame.
    #[error(transparent)]
    Invalid(#[from] FrameError),
}

/// One frame. For payload-bearing frames the length argument is not kept in `args`: it is
/// implied by `payload` and written back by [`Frame::encode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The three-letter command.
    pub command: Command,
    /// Transaction id; 0 marks a server push.
    pub trid: u32,
    /// Arguments after the transaction id, without any payload length.
    pub args: Vec<String>,
    /// Payload bytes, for payload-bearing commands only.
    pub payload: Option<Bytes>,
}

/// Whether a line with this command and `argc` arguments after the transaction id is
/// followed by a payload whose length is its last argument.
///
/// `SYN` and `UPD` carry one only in their server form, which has exactly one argument;
/// the client forms `SYN trid` and `UPD trid <channel> <version>` carry none. This keeps
/// framing independent of which side is reading.
pub fn carries_payload(command: Command, argc: usize) -> bool {
    match command {
        Command::UUX
        | Command::UBX
        | Command::CON
        | Command::NOT
        | Command::MSG
        | Command::MED
        | Command::FIL => true,
        Command::SYN | Command::UPD => argc == 1,
        _ => false,
    }
}

/// What [`scan`] learned about a complete, valid frame at the start of a buffer.
struct Layout {
    command: Command,
    trid: u32,
    line_len: usize,
    payload_len: Option<usize>,
}

impl Layout {
    fn total_len(&self) -> usize {
        self.line_len + 2 + self.payload_len.unwrap_or(0)
    }
}

/// Validates the frame at the start of `buf` without allocating.
fn scan(buf: &[u8], limits: &Limits) -> Result<Layout, CheckError> {
    let line_len = find_line_end(buf, limits.max_line)?;
    let (command, trid, payload_len) = validate_line(&buf[..line_len], limits.max_payload)?;
    let layout = Layout { command, trid, line_len, payload_len };
    if buf.len() < layout.total_len() {
        return Err(CheckError::Incomplete);
    }
    Ok(layout)
}

/// Length of the line before its `\r\n`. Looks at no more than `max_line + 2` bytes, so a
/// peer cannot make us buffer or rescan an endless line.
fn find_line_end(buf: &[u8], max_line: usize) -> Result<usize, CheckError> {
    let window = &buf[..buf.len().min(max_line.saturating_add(1))];
    match window.iter().position(|&b| b == b'\r' || b == b'\n') {
        Some(i) if window[i] == b'\n' => Err(FrameError::BadLineEnding.into()),
        Some(i) => match buf.get(i + 1) {
            Some(b'\n') => Ok(i),
            Some(_) => Err(FrameError::BadLineEnding.into()),
            None => Err(CheckError::Incomplete),
        },
        None if buf.len() > max_line => Err(FrameError::LineTooLong.into()),
        None => Err(CheckError::Incomplete),
    }
}

fn validate_line(line: &[u8], max_payload: usize) -> Result<(Command, u32, Option<usize>), FrameError> {
    let line = std::str::from_utf8(line).map_err(|_| FrameError::NotUtf8)?;
    if line.chars().any(char::is_control) {
        return Err(FrameError::BadCharacter);
    }
    let mut parts = line.split(' ');
    let command = Command::from_bytes(parts.next().unwrap_or_default().as_bytes())
        .map_err(|_| FrameError::BadCommand)?;
    let trid = match parts.next() {
        Some("") => return Err(FrameError::EmptyArgument),
        Some(trid) => crate::parse::parse_decimal(trid)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or(FrameError::BadTrId)?,
        None => return Err(FrameError::BadTrId),
    };
    let mut argc = 0;
    let mut last = None;
    for part in parts {
        if part.is_empty() {
            return Err(FrameError::EmptyArgument);
        }
        argc += 1;
        last = Some(part);
    }
    if !carries_payload(command, argc) {
        return Ok((command, trid, None));
    }
    let len = last.ok_or(FrameError::BadLength)?;
    if !is_canonical_decimal(len) {
        return Err(FrameError::BadLength);
    }
    // Canonical digits that overflow are simply a very large length.
    match len.parse::<usize>() {
        Ok(n) if n <= max_payload => Ok((command, trid, Some(n))),
        _ => Err(FrameError::PayloadTooLarge),
    }
}

fn is_canonical_decimal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

fn cursor_rest<'a>(src: &Cursor<&'a [u8]>) -> &'a [u8] {
    let buf: &'a [u8] = src.get_ref();
    let start = usize::try_from(src.position()).map_or(buf.len(), |p| p.min(buf.len()));
    &buf[start..]
}

fn advance(src: &mut Cursor<&[u8]>, by: usize) {
    // A slice length always fits in u64.
    src.set_position(src.position() + by as u64);
}

impl Frame {
    /// A frame with no arguments and no payload.
    pub fn new(command: Command, trid: u32) -> Self {
        Self { command, trid, args: Vec::new(), payload: None }
    }

    /// The shortest valid frame for `command`: no arguments, plus an empty payload when the
    /// command always carries one. Used to echo commands this side does not understand.
    pub fn minimal(command: Command, trid: u32) -> Self {
        let frame = Self::new(command, trid);
        if carries_payload(command, 0) { frame.with_payload(Bytes::new()) } else { frame }
    }

    /// Appends one argument. The caller guarantees it is a valid argument: a
    /// [`crate::Token`], a number, a status or the output of [`crate::encode_text`].
    #[must_use]
    pub fn arg(mut self, arg: impl fmt::Display) -> Self {
        self.args.push(arg.to_string());
        self
    }

    /// Attaches a payload.
    #[must_use]
    pub fn with_payload(mut self, payload: impl Into<Bytes>) -> Self {
        self.payload = Some(payload.into());
        self
    }

    /// Checks whether a whole valid frame starts at the cursor's position, without
    /// allocating. On success the cursor is moved past it; otherwise it is left untouched.
    pub fn check(src: &mut Cursor<&[u8]>, limits: &Limits) -> Result<(), CheckError> {
        let layout = scan(cursor_rest(src), limits)?;
        advance(src, layout.total_len());
        Ok(())
    }

    /// Parses the frame at the cursor's position and moves the cursor past it. Copies the
    /// payload; [`Frame::decode`] avoids that copy.
    pub fn parse(src: &mut Cursor<&[u8]>, limits: &Limits) -> Result<Frame, CheckError> {
        let rest = cursor_rest(src);
        let layout = scan(rest, limits)?;
        let payload_start = layout.line_len + 2;
        let frame = Self::build(&layout, &rest[..layout.line_len], |len| {
            Bytes::copy_from_slice(&rest[payload_start..payload_start + len])
        });
        advance(src, layout.total_len());
        Ok(frame)
    }

    /// The whole length of the frame starting `buf` (line, `\r\n` and payload) once its
    /// line is complete and valid; `Ok(None)` while the line is still arriving. Lets a
    /// reader make room for a large payload in one step. Never more than `limits` allow.
    pub fn wanted_len(buf: &[u8], limits: &Limits) -> Result<Option<usize>, FrameError> {
        let line_len = match find_line_end(buf, limits.max_line) {
            Ok(line_len) => line_len,
            Err(CheckError::Incomplete) => return Ok(None),
            Err(CheckError::Invalid(error)) => return Err(error),
        };
        let (command, trid, payload_len) = validate_line(&buf[..line_len], limits.max_payload)?;
        Ok(Some(Layout { command, trid, line_len, payload_len }.total_len()))
    }

    /// Takes one frame off the front of `buf`, the way a connection's read loop wants it:
    /// `Ok(None)` means "read more", `Err` means the connection is beyond repair.
    pub fn decode(buf: &mut BytesMut, limits: &Limits) -> Result<Option<Frame>, FrameError> {
        let layout = match scan(buf, limits) {
            Ok(layout) => layout,
            Err(CheckError::Incomplete) => return Ok(None),
            Err(CheckError::Invalid(error)) => return Err(error),
        };
        let bytes = buf.split_to(layout.total_len()).freeze();
        let payload_start = layout.line_len + 2;
        Ok(Some(Self::build(&layout, &bytes[..layout.line_len], |len| {
            bytes.slice(payload_start..payload_start + len)
        })))
    }

    fn build(layout: &Layout, line: &[u8], payload: impl FnOnce(usize) -> Bytes) -> Frame {
        // scan() has already proven the line UTF-8.
        let line = std::str::from_utf8(line).unwrap_or_default();
        let mut args: Vec<String> = line.split(' ').skip(2).map(str::to_owned).collect();
        let payload = layout.payload_len.map(|len| {
            args.pop();
            payload(len)
        });
        Frame { command: layout.command, trid: layout.trid, args, payload }
    }

    /// Writes the frame in wire form, appending the payload length when there is a payload.
    pub fn encode<B: BufMut>(&self, dst: &mut B) {
        self.encode_line(dst);
        if let Some(payload) = &self.payload {
            dst.put_slice(payload);
        }
    }

    /// Writes the frame's line and its `\r\n` — everything but the payload, which a
    /// writer can then send from where it already is instead of copying it.
    pub fn encode_line<B: BufMut>(&self, dst: &mut B) {
        dst.put_slice(self.command.as_bytes());
        dst.put_u8(b' ');
        dst.put_slice(self.trid.to_string().as_bytes());
        for arg in &self.args {
            dst.put_u8(b' ');
            dst.put_slice(arg.as_bytes());
        }
        if let Some(payload) = &self.payload {
            dst.put_u8(b' ');
            dst.put_slice(payload.len().to_string().as_bytes());
        }
        dst.put_slice(b"\r\n");
    }

    /// The frame in wire form.
    pub fn to_bytes(&self) -> Bytes {
        let mut buf = BytesMut::new();
        self.encode(&mut buf);
        buf.freeze()
    }
}

/// The line without its payload, for logs.
impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.command, self.trid)?;
        for arg in &self.args {
            write!(f, " {arg}")?;
        }
        if let Some(payload) = &self.payload {
            write!(f, " {} (payload)", payload.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
