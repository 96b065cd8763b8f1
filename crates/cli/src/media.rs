//! A call's devices from the command line's flags: WAV and Y4M files, or the machine's
//! default microphone and speaker when no file is given.

use anyhow::{Result, bail};
use mocha_client::CallDevices;

use crate::args::CallMediaArgs;

/// Opens what call number `nth` of this run uses (recordings of later calls get numbered
/// names, so one run of `listen --answer-calls` never overwrites an earlier call).
pub fn open(args: &CallMediaArgs, nth: usize) -> Result<CallDevices> {
    // STAND-IN until mocha-media's WAV/Y4M files and cpal devices are merged.
    let _ = (args, nth);
    bail!("calls from the terminal need mocha-media's file and device support, which this build lacks")
}
