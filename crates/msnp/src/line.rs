//! MSNP command lines: `CMD [trid] args…\r\n`, some followed by a payload whose length is
//! the line's last argument. Pure: no I/O (the reader in `reader.rs` feeds it bytes).

/// One command line from a client, split on spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The command, as sent (commands are three upper-case letters; anything else is
    /// answered as unknown).
    pub command: String,
    /// Everything after the command, the transaction id (if any) first.
    pub args: Vec<String>,
    /// The payload, for the commands that carry one.
    pub payload: Option<Vec<u8>>,
}

/// Why a line could not be read. Only [`LineError::NotText`] leaves the stream in step;
/// the others end the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("the line is longer than {max} bytes")]
    LineTooLong { max: usize },
    #[error("the payload is larger than {max} bytes")]
    PayloadTooLarge { max: usize },
    #[error("the payload length is not a number")]
    BadPayloadLength,
    #[error("the line is not UTF-8 text")]
    NotText,
}

impl Line {
    /// The transaction id, when the first argument is one.
    pub fn trid(&self) -> Option<u32> {
        self.args.first().and_then(|arg| arg.parse().ok())
    }

    /// The `n`th argument after the transaction id.
    pub fn arg(&self, n: usize) -> Option<&str> {
        self.args.get(n + 1).map(String::as_str)
    }
}

/// Client commands followed by a payload: `UUX trid len` and `QRY trid id len` on the
/// Notification Server, `MSG trid ack len` on the Switchboard.
pub fn carries_payload(command: &str) -> bool {
    matches!(command, "UUX" | "QRY" | "MSG")
}

/// Splits a line (without its `\r\n`) into command and arguments, and says how long its
/// payload is, if it has one.
pub fn parse_line(line: &[u8], max_payload: usize) -> Result<(Line, Option<usize>), LineError> {
    let text = std::str::from_utf8(line).map_err(|_| LineError::NotText)?;
    let mut words = text.split(' ').filter(|word| !word.is_empty());
    let command = words.next().unwrap_or_default().to_string();
    let args: Vec<String> = words.map(str::to_string).collect();
    let payload = if carries_payload(&command) {
        // The length comes after the transaction id, never in its place.
        let length: usize = args
            .last()
            .filter(|_| args.len() >= 2)
            .and_then(|last| last.parse().ok())
            .ok_or(LineError::BadPayloadLength)?;
        if length > max_payload {
            return Err(LineError::PayloadTooLarge { max: max_payload });
        }
        Some(length)
    } else {
        None
    };
    Ok((Line { command, args, payload: None }, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_into_command_trid_and_arguments() {
        let (line, payload) = parse_line(b"USR 3 TWN I ann@example.org", 100).unwrap();
        assert_eq!(line.command, "USR");
        assert_eq!(line.trid(), Some(3));
        assert_eq!((line.arg(0), line.arg(2), line.arg(3)), (Some("TWN"), Some("ann@example.org"), None));
        assert_eq!(payload, None);

        let (line, payload) = parse_line(b"PNG", 100).unwrap();
        assert_eq!((line.command.as_str(), line.trid(), payload), ("PNG", None, None));

        let (line, payload) = parse_line(b"UUX 9 53", 100).unwrap();
        assert_eq!((line.trid(), payload), (Some(9), Some(53)));
    }

    #[test]
    fn bad_payload_lengths_and_non_text_are_refused() {
        assert_eq!(parse_line(b"UUX 9 lots", 100), Err(LineError::BadPayloadLength));
        assert_eq!(parse_line(b"UUX 9", 100), Err(LineError::BadPayloadLength));
        assert_eq!(parse_line(b"MSG 1 N 101", 100), Err(LineError::PayloadTooLarge { max: 100 }));
        assert_eq!(parse_line(b"CHG 1 \xff", 100), Err(LineError::NotText));
        let (line, _) = parse_line(b"", 100).unwrap();
        assert_eq!(line.command, "");
    }
}
