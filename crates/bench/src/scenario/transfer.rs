//! `transfer`: one file of S MiB from one user to another through the switchboard
//! (`OFFER`, `ACCEPT`, `FIL` chunks, `COMPLETE` after checking SHA-256). Reports MB/s
//! from the first chunk sent to the last chunk received.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail, ensure};
use bytes::Bytes;
use clap::Args;
use mocha_proto::im::{FileCommand, FileControl, ImPayload};
use mocha_proto::sb::client::{self as sb, AckMode};
use mocha_proto::{MessagePayload, Token};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{REPLY_TIMEOUT, keep_alive, open_room, raise_nofile_limit, sign_in_all};
use crate::clock::now_micros;
use crate::fixtures::provision;
use crate::report::Report;
use crate::target::TargetOptions;
use crate::wire::{Dialer, Reader, WireError};

const TRANSFER_ID: &str = "bench-transfer";
/// The longest wait for the next chunk before the run is called stuck.
const STALL: Duration = Duration::from_secs(60);

#[derive(Args, Clone, Debug, Serialize)]
pub struct TransferArgs {
    /// File size in MiB.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub size_mib: u64,
    /// Chunk size in bytes (at most 65536, the payload limit).
    #[arg(long, default_value_t = 65536, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub chunk: u64,
    /// Transfers, one after another in the same conversation.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub repeat: u64,
}

fn file_message(control: FileControl) -> sb::Msg {
    sb::Msg {
        trid: 0,
        ack: AckMode::Unacknowledged,
        payload: ImPayload::File(control).to_message().to_bytes(),
    }
}

fn control(command: FileCommand, transfer_id: &str) -> FileControl {
    FileControl { command, transfer_id: transfer_id.into(), to: None, name: None, size: None, sha256: None }
}

/// The first refusal the sender is told of while its chunks go out (or the end of its
/// connection).
async fn refusal(reader: &mut Reader) -> anyhow::Error {
    loop {
        match reader.frame().await {
            Ok(frame) if matches!(frame.command.as_str(), "ERR" | "OUT" | "BYE") => {
                return anyhow!("the switchboard stopped the transfer: {frame}");
            }
            Ok(_) => {}
            Err(e) => return anyhow::Error::new(e).context("the sender's connection failed"),
        }
    }
}

/// Waits for a file-control message with `command`.
async fn expect_file(reader: &mut Reader, command: FileCommand) -> Result<FileControl, WireError> {
    reader
        .until(
            REPLY_TIMEOUT,
            |frame| {
                let payload = frame.payload.clone().filter(|_| frame.command.as_str() == "MSG")?;
                match ImPayload::parse(&MessagePayload::parse(payload, usize::MAX).ok()?) {
                    Ok(ImPayload::File(file)) if file.command == command => Some(file),
                    _ => None,
                }
            },
            drop,
        )
        .await
}

pub async fn run(target: &TargetOptions, args: &TransferArgs) -> anyhow::Result<Report> {
    let limit = raise_nofile_limit();
    let size = usize::try_from(args.size_mib)? * 1024 * 1024;
    let chunk = usize::try_from(args.chunk)?;
    let prepared = target.prepare().await?;
    let fixture = provision(&prepared.passport, 2, &[(0, 1)]).await?;
    let target = prepared.start().await?;
    let dialer = Arc::new(Dialer::new(&target.ca, &target.server_name(), Vec::new())?);
    let signed = sign_in_all(&dialer, target.ns_addr, &fixture.tokens, 2).await;
    if signed.failures > 0 {
        bail!("sign-in failed: {}", signed.first_error.unwrap_or_default());
    }
    let mut members: Vec<_> = fixture.ids.iter().copied().zip(signed.conns.into_iter().flatten()).collect();
    let mut conns =
        open_room(&dialer, target.ns_addr, &mut members).await.context("opening the conversation")?;
    let stop_ns = CancellationToken::new();
    let mut keeper = keep_alive(members.into_iter().map(|(_, conn)| conn).collect(), stop_ns.clone());
    let receiver_conn = conns.pop().context("no receiver")?;
    let mut sender = conns.pop().context("no sender")?;
    let crate::wire::Conn { reader: mut receiver, writer: mut receiver_writer } = receiver_conn;

    let data = Bytes::from(pattern(size));
    let sha256 = hex(ring::digest::digest(&ring::digest::SHA256, &data).as_ref());
    let mut seconds = Vec::new();
    let cpu_before = target.cpu_seconds();
    for round in 0..args.repeat {
        let id = format!("{TRANSFER_ID}-{round}");
        let offer = FileControl {
            name: Some("bench.bin".into()),
            size: Some(size as u64),
            sha256: Some(sha256.clone()),
            ..control(FileCommand::Offer, &id)
        };
        let mut msg = file_message(offer);
        msg.trid = sender.writer.trid();
        sender.writer.send(&msg.into_frame()).await?;
        expect_file(&mut receiver, FileCommand::Offer).await.context("the offer did not arrive")?;
        let mut msg = file_message(control(FileCommand::Accept, &id));
        msg.trid = receiver_writer.trid();
        receiver_writer.send(&msg.into_frame()).await?;
        expect_file(&mut sender.reader, FileCommand::Accept).await.context("the accept did not arrive")?;

        let started = now_micros();
        let chunks = data.clone();
        let transfer_id = Token::new(id.clone())?;
        let mut writer = sender.writer;
        let sending = tokio::spawn(async move {
            let mut offset = 0;
            while offset < chunks.len() {
                let end = (offset + chunk).min(chunks.len());
                let trid = writer.trid();
                let fil = sb::Fil {
                    trid,
                    transfer_id: transfer_id.clone(),
                    offset: offset as u64,
                    payload: chunks.slice(offset..end),
                };
                writer.send(&fil.into_frame()).await?;
                offset = end;
            }
            Ok::<_, WireError>(writer)
        });
        let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
        let mut received = 0usize;
        let receive = async {
            while received < size {
                let frame = tokio::time::timeout(STALL, receiver.frame()).await.map_err(|_| {
                    anyhow!("no chunk for {} s with {received} of {size} bytes received", STALL.as_secs())
                })??;
                match frame.command.as_str() {
                    "FIL" => {
                        let offset: usize =
                            frame.args.get(2).and_then(|o| o.parse().ok()).unwrap_or(usize::MAX);
                        ensure!(offset == received, "chunk at {offset}, expected {received}");
                        let payload = frame.payload.unwrap_or_default();
                        digest.update(&payload);
                        received += payload.len();
                    }
                    "ERR" | "OUT" | "BYE" => bail!("the transfer failed: {frame}"),
                    _ => {}
                }
            }
            Ok(())
        };
        // The switchboard answers a refused chunk to its sender, not the receiver.
        tokio::select! {
            received = receive => received?,
            refused = refusal(&mut sender.reader) => return Err(refused),
        }
        let elapsed = (now_micros() - started) as f64 / 1e6;
        sender.writer = sending.await.context("the sender panicked")??;
        ensure!(hex(digest.finish().as_ref()) == sha256, "the file arrived corrupted");
        let mut msg = file_message(control(FileCommand::Complete, &id));
        msg.trid = receiver_writer.trid();
        receiver_writer.send(&msg.into_frame()).await?;
        expect_file(&mut sender.reader, FileCommand::Complete).await.context("COMPLETE did not arrive")?;
        seconds.push(elapsed);
    }
    let cpu_after = target.cpu_seconds();
    stop_ns.cancel();
    while keeper.join_next().await.is_some() {}

    let best = seconds.iter().copied().fold(f64::INFINITY, f64::min);
    let total: f64 = seconds.iter().sum();
    let mb = size as f64 / 1e6;
    let mut report = Report::new("transfer", args);
    report
        .figure("file size", size as f64 / (1024.0 * 1024.0), "MiB")
        .figure("transfers", seconds.len() as f64, "")
        .figure("throughput (mean)", mb * seconds.len() as f64 / total, "MB/s")
        .figure("throughput (best)", mb / best, "MB/s")
        .figure("time per transfer (mean)", total / seconds.len() as f64, "s")
        .figure(
            "server CPU per MB",
            crate::target::cpu_ms_per(cpu_before, cpu_after, (mb * seconds.len() as f64) as u64)
                .unwrap_or(f64::NAN),
            "ms",
        )
        .note(format!("server: {}; open-file limit {limit}; SHA-256 checked on arrival", target.kind));
    target.stop().await;
    Ok(report)
}

/// Incompressible-looking bytes (xorshift), the same every run.
fn pattern(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
