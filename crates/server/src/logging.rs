//! The server's log: `MOCHA_LOG` picks what is written (default `info`), the format is
//! text or JSON lines, and colour codes are written only to a terminal (a log file or
//! a journal would keep them as noise; `NO_COLOR` turns them off at a terminal too).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the process's log subscriber, writing to standard output.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("MOCHA_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.with_ansi(colour_wanted()).init(),
        // JSON has no colour: a value with escape codes would not be the text logged.
        LogFormat::Json => builder.json().with_ansi(false).with_current_span(false).init(),
    }
}

fn colour_wanted() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
