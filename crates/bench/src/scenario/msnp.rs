//! `msnp-pair`: the `pair` scenario through the MSNP gateway. Two classic (MSNP12)
//! clients over plain TCP sign in with their session tokens (`USR TWN S t=…`), one opens
//! a conversation at the gateway's switchboard (`XFR SB`, `USR`, `CAL`) and the other
//! answers its `RNG`; then one sends chat text (`MSG U`) to the other as fast as the
//! window allows. Reported: deliveries per second, latency, and server CPU per relayed
//! message, to set beside `pair`'s MENP/1 figure. Only against a server this tool
//! starts in-process (it turns the gateway on).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::REPLY_TIMEOUT;
use super::pair::{Flow, PairArgs, STALL};
use crate::clock::now_micros;
use crate::fixtures::provision;
use crate::report::{Report, histogram};
use crate::target::TargetOptions;

/// One classic connection: lines (and `MSG` payloads) in, bytes out.
struct Line {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Line {
    async fn connect(addr: SocketAddr) -> anyhow::Result<Line> {
        let tcp = TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
        tcp.set_nodelay(true)?;
        let (read, writer) = tcp.into_split();
        Ok(Line { reader: BufReader::new(read), writer })
    }

    async fn send(&mut self, line: &str) -> anyhow::Result<()> {
        self.writer.write_all(format!("{line}\r\n").as_bytes()).await?;
        Ok(())
    }

    /// The next line and, for a `MSG`, its payload.
    async fn next(&mut self) -> anyhow::Result<(String, Option<Vec<u8>>)> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).await? == 0 {
            bail!("the gateway closed the connection");
        }
        let line = line.trim_end().to_string();
        if !line.starts_with("MSG ") {
            return Ok((line, None));
        }
        let length: usize = line.rsplit(' ').next().unwrap_or_default().parse().context("MSG length")?;
        let mut payload = vec![0; length];
        self.reader.read_exact(&mut payload).await?;
        Ok((line, Some(payload)))
    }

    /// Lines until one starts with `prefix` (pushes before it are skipped).
    async fn until(&mut self, prefix: &str) -> anyhow::Result<String> {
        let wait = async {
            loop {
                let (line, _) = self.next().await?;
                if line.starts_with(prefix) {
                    return Ok(line);
                }
            }
        };
        tokio::time::timeout(REPLY_TIMEOUT, wait).await.with_context(|| format!("waiting for {prefix}"))?
    }

    async fn ask(&mut self, line: &str, prefix: &str) -> anyhow::Result<String> {
        self.send(line).await?;
        self.until(prefix).await
    }
}

/// `VER`, `USR TWN I`, `USR TWN S t=<token>`, `CHG NLN`.
async fn sign_in(ns: SocketAddr, username: &str, token: &str) -> anyhow::Result<Line> {
    let mut line = Line::connect(ns).await?;
    line.ask("VER 1 MSNP12 CVR0", "VER 1 MSNP12").await?;
    line.ask(&format!("USR 2 TWN I {username}"), "USR 2 TWN S").await?;
    line.ask(&format!("USR 3 TWN S t={token}&p="), "USR 3 OK").await?;
    line.ask("CHG 4 NLN 0", "CHG 4").await?;
    Ok(line)
}

pub async fn run(target: &TargetOptions, args: &PairArgs) -> anyhow::Result<Report> {
    if args.both_ways {
        bail!("msnp-pair sends one way only");
    }
    if target.spawn || target.ns.is_some() {
        bail!("msnp-pair runs against a server it starts in this process (it turns the MSNP gateway on)");
    }
    let mut prepared = target.prepare().await?;
    let rate_limit = prepared.set_switchboard_rate(args.sb_rate, args.sb_burst);
    prepared.enable_msnp();
    let fixture = provision(&prepared.passport, 2, &[(0, 1)]).await?;
    let target = prepared.start().await?;
    let (ns, sb) = target.msnp_addrs().context("the MSNP gateway is not on")?;
    let (first, second) = (&fixture.usernames[0], &fixture.usernames[1]);
    let mut first_ns = sign_in(ns, first, &fixture.tokens[0]).await.context("signing in the sender")?;
    let mut second_ns = sign_in(ns, second, &fixture.tokens[1]).await.context("signing in the receiver")?;

    let xfr = first_ns.ask("XFR 5 SB", "XFR 5 SB").await?;
    let ticket = xfr.split(' ').nth(5).context("XFR without a ticket")?.to_string();
    let mut sender = Line::connect(sb).await?;
    sender.ask(&format!("USR 1 {first} {ticket}"), "USR 1 OK").await?;
    sender.ask(&format!("CAL 2 {second}"), "CAL 2 RINGING").await?;
    let rng = second_ns.until("RNG ").await?;
    let parts: Vec<&str> = rng.split(' ').collect();
    let (room, ticket) = (parts.get(1).context("RNG")?, parts.get(4).context("RNG")?);
    let mut receiver = Line::connect(sb).await?;
    receiver.ask(&format!("ANS 1 {second} {ticket} {room}"), "ANS 1 OK").await?;
    sender.until("JOI ").await?;

    let flow = Arc::new(Flow::default());
    let (messages, window, batch, bytes) =
        (args.messages, args.window, args.batch, usize::try_from(args.bytes)?);
    let cpu_before = target.cpu_seconds();
    let started = Instant::now();
    let receiving = tokio::spawn(receive(receiver, flow.clone(), messages));
    let sent = send(sender.writer, flow.clone(), messages, window, batch, bytes).await;
    let latency =
        tokio::time::timeout(STALL, receiving).await.ok().and_then(Result::ok).unwrap_or_else(histogram);
    let elapsed = started.elapsed();
    let cpu_after = target.cpu_seconds();
    let delivered = flow.received.load(Ordering::Acquire);

    let mut report = Report::new("msnp-pair", args);
    report
        .figure("messages sent", sent as f64, "")
        .figure("delivered", delivered as f64, "")
        .figure("delivered/s", delivered as f64 / elapsed.as_secs_f64(), "1/s")
        .figure("lost", sent.saturating_sub(delivered) as f64, "")
        .figure("duplicated", flow.duplicated.load(Ordering::Relaxed) as f64, "")
        .figure("out of order", flow.reordered.load(Ordering::Relaxed) as f64, "")
        .figure("errors", flow.errors.load(Ordering::Relaxed) as f64, "")
        .figure(
            "server CPU per relayed message",
            crate::target::cpu_ms_per(cpu_before, cpu_after, delivered).unwrap_or(f64::NAN) * 1000.0,
            "µs",
        )
        .latency("delivery (send → receive)", &latency)
        .note(format!(
            "server: {} (MSNP12 over plain TCP, both clients in this process); {rate_limit}",
            target.kind
        ))
        .note(format!("window {window}, {batch} per write, {:.2} s", elapsed.as_secs_f64()));
    drop((first_ns, second_ns));
    target.stop().await;
    Ok(report)
}

/// Sends `messages` (`MSG U`), keeping at most `window` unanswered.
async fn send(
    mut writer: OwnedWriteHalf,
    flow: Arc<Flow>,
    messages: u64,
    window: u64,
    batch: u64,
    bytes: usize,
) -> u64 {
    let mut sent = 0u64;
    let mut wire = Vec::new();
    let mut body = String::with_capacity(bytes);
    'send: while sent < messages {
        let count = batch.min(messages - sent);
        loop {
            let room = flow.room.notified();
            if sent - flow.received.load(Ordering::Acquire) + count <= window {
                break;
            }
            if tokio::time::timeout(STALL, room).await.is_err() {
                break 'send;
            }
        }
        wire.clear();
        for seq in sent..sent + count {
            body.clear();
            body.push_str(&format!("{seq} {} ", now_micros()));
            while body.len() < bytes {
                body.push('x');
            }
            let payload = format!(
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22\r\n\r\n{body}"
            );
            wire.extend_from_slice(format!("MSG {} U {}\r\n{payload}", seq + 10, payload.len()).as_bytes());
        }
        if writer.write_all(&wire).await.is_err() {
            break;
        }
        sent += count;
    }
    sent
}

/// Reads the receiver's switchboard connection until `messages` arrived (or it closes).
async fn receive(mut line: Line, flow: Arc<Flow>, messages: u64) -> Histogram<u64> {
    let mut local = histogram();
    let mut next = 0u64;
    while flow.received.load(Ordering::Acquire) < messages {
        let Ok((_, payload)) = line.next().await else { break };
        let Some(payload) = payload else { continue };
        let body = payload.split(|&b| b == b'\n').next_back().unwrap_or_default();
        let mut words = std::str::from_utf8(body).unwrap_or_default().split(' ');
        let (seq, sent_at) =
            (words.next().and_then(|w| w.parse::<u64>().ok()), words.next().and_then(|w| w.parse().ok()));
        let (Some(seq), Some(sent_at)) = (seq, sent_at) else {
            flow.errors.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        flow.arrived(seq, sent_at, &mut next, &mut local);
    }
    local
}
