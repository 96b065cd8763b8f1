//! The scenarios, and what they share: signing many users in to the Notification
//! Server with bounded concurrency, timing each.

pub mod calls;
pub mod idle;
pub mod msnp;
pub mod pair;
pub mod presence;
pub mod rooms;
pub mod storm;
pub mod transfer;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use mocha_proto::ns::client;
use mocha_proto::{Frame, PROTOCOL_VERSION, Status, Token};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::report::{histogram, record};
use crate::wire::{Conn, Dialer, WireError};

/// How long any single reply may take before the run counts it as failed.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts per sign-in before a user counts as failed.
const ATTEMPTS: u32 = 3;

/// `VER` then `USR TOKEN`: a signed-in Notification Server session.
pub async fn ns_sign_in(dialer: &Dialer, ns: SocketAddr, token: &str) -> Result<Conn, WireError> {
    let mut conn = dialer.connect(ns).await?;
    let trid = conn.writer.trid();
    let version = Token::new(PROTOCOL_VERSION).expect("valid token");
    conn.request(client::Ver { trid, versions: vec![version] }.into_frame(), REPLY_TIMEOUT, drop).await?;
    let trid = conn.writer.trid();
    let token = Token::new(token).map_err(|_| WireError::Unexpected("token with spaces".into()))?;
    conn.request(client::Usr { trid, token }.into_frame(), REPLY_TIMEOUT, drop).await?;
    Ok(conn)
}

/// `CHG`, waiting for its reply; pushes meanwhile are dropped.
pub async fn set_status(conn: &mut Conn, status: Status) -> Result<(), WireError> {
    let trid = conn.writer.trid();
    conn.request(client::Chg { trid, status }.into_frame(), REPLY_TIMEOUT, drop).await.map(drop)
}

pub fn out_frame(conn: &mut Conn) -> Frame {
    let trid = conn.writer.trid();
    client::Out { trid }.into_frame()
}

/// The result of signing many users in.
pub struct SignedIn {
    /// In the order of the tokens; `None` where every attempt failed.
    pub conns: Vec<Option<Conn>>,
    /// Connect + TLS + `VER` + `USR`, per successful user (the last attempt).
    pub latency: Histogram<u64>,
    pub elapsed: Duration,
    pub failures: u64,
    pub retries: u64,
    pub first_error: Option<String>,
}

/// Signs every token in, at most `concurrency` at a time, retrying failures briefly.
pub async fn sign_in_all(
    dialer: &Arc<Dialer>,
    ns: SocketAddr,
    tokens: &[String],
    concurrency: usize,
) -> SignedIn {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for (index, token) in tokens.iter().enumerate() {
        let (dialer, permits, token) = (dialer.clone(), permits.clone(), token.clone());
        tasks.spawn(async move {
            let mut retries = 0;
            loop {
                let permit = permits.clone().acquire_owned().await.expect("never closed");
                let begun = Instant::now();
                let result = ns_sign_in(&dialer, ns, &token).await;
                drop(permit);
                match result {
                    Ok(conn) => return (index, Ok((conn, begun.elapsed())), retries),
                    Err(error) if retries + 1 >= ATTEMPTS => return (index, Err(error), retries),
                    Err(_) => {
                        retries += 1;
                        tokio::time::sleep(Duration::from_millis(200 * u64::from(retries))).await;
                    }
                }
            }
        });
    }
    let mut conns: Vec<Option<Conn>> = (0..tokens.len()).map(|_| None).collect();
    let mut latency = histogram();
    let (mut failures, mut retries, mut first_error) = (0, 0, None);
    while let Some(joined) = tasks.join_next().await {
        let Ok((index, result, tries)) = joined else { continue };
        retries += u64::from(tries);
        match result {
            Ok((conn, took)) => {
                record(&mut latency, took);
                conns[index] = Some(conn);
            }
            Err(error) => {
                failures += 1;
                first_error.get_or_insert_with(|| error.to_string());
            }
        }
    }
    SignedIn { conns, latency, elapsed: started.elapsed(), failures, retries, first_error }
}

/// Raises the soft open-file limit to the hard one; returns the limit now in force.
pub fn raise_nofile_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0)
}

/// A deterministic pseudo-random phase in [0, period) for client `index`, so clients'
/// timers do not all fire at once.
pub fn phase(index: usize, period: Duration) -> Duration {
    let mut x = (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 31;
    let nanos = u64::try_from(period.as_nanos()).unwrap_or(u64::MAX).max(1);
    Duration::from_nanos(x % nanos)
}

/// Opens a switchboard room for `members` (their signed-in NS sessions, creator first,
/// who must be a contact of everyone else): the creator asks the NS for a switchboard
/// (`XFR`), joins (`USR`) and invites (`CAL`) each other member, who answers the `RNG`
/// on their NS session (`ANS`). Returns each member's switchboard connection, in order,
/// once everyone has joined.
pub async fn open_room(
    dialer: &Dialer,
    ns_addr: SocketAddr,
    members: &mut [(mocha_auth::UserId, Conn)],
) -> Result<Vec<Conn>, WireError> {
    use mocha_proto::ns::ServerCommand as Ns;
    use mocha_proto::sb::client as sb;
    for (_, conn) in members.iter_mut() {
        set_status(conn, Status::Online).await?;
    }
    let unexpected = |f: &Frame| WireError::Unexpected(f.to_string());
    let (creator, ns) = &mut members[0];
    let creator = *creator;
    let trid = ns.writer.trid();
    let reply = ns.request(client::Xfr { trid }.into_frame(), REPLY_TIMEOUT, drop).await?;
    let Ok(Ns::Xfr(xfr)) = Ns::parse(reply.clone()) else { return Err(unexpected(&reply)) };
    let sb_addr = switchboard_address(xfr.address.as_str(), ns_addr)?;
    let mut owner = dialer.connect(sb_addr).await?;
    let trid = owner.writer.trid();
    let usr = sb::Usr { trid, user_id: user_token(creator), ticket: xfr.ticket };
    owner.writer.send(&usr.into_frame()).await?;
    owner
        .reader
        .until(REPLY_TIMEOUT, |f| (f.trid == trid && f.command.as_str() == "USR").then_some(()), drop)
        .await?;
    let mut conns = vec![owner];
    for (user, ns) in members.iter_mut().skip(1) {
        let owner = &mut conns[0];
        let trid = owner.writer.trid();
        owner.request(sb::Cal { trid, invitee: user_token(*user) }.into_frame(), REPLY_TIMEOUT, drop).await?;
        let rng = ns
            .reader
            .until(
                REPLY_TIMEOUT,
                |f| match Ns::parse(f.clone()) {
                    Ok(Ns::Rng(rng)) => Some(rng),
                    _ => None,
                },
                drop,
            )
            .await?;
        let mut guest = dialer.connect(switchboard_address(rng.address.as_str(), ns_addr)?).await?;
        let trid = guest.writer.trid();
        let ans = sb::Ans { trid, user_id: user_token(*user), ticket: rng.ticket, room_id: rng.room_id };
        guest.writer.send(&ans.into_frame()).await?;
        guest
            .reader
            .until(REPLY_TIMEOUT, |f| (f.trid == trid && f.command.as_str() == "ANS").then_some(()), drop)
            .await?;
        conns.push(guest);
    }
    Ok(conns)
}

/// The switchboard's `host:port` as the NS names it, dialled on the NS's own address
/// (the name is usually `localhost`, which may resolve to an address it does not bind).
fn switchboard_address(advertised: &str, ns_addr: SocketAddr) -> Result<SocketAddr, WireError> {
    let port = advertised
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .ok_or_else(|| WireError::Unexpected(format!("switchboard address {advertised}")))?;
    Ok(SocketAddr::new(ns_addr.ip(), port))
}

pub fn user_token(user: mocha_auth::UserId) -> Token {
    Token::new(user.to_string()).expect("user ids are tokens")
}

/// Keeps NS sessions alive (draining pushes, pinging) until `stop`.
pub fn keep_alive(conns: Vec<Conn>, stop: tokio_util::sync::CancellationToken) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    for mut conn in conns {
        let stop = stop.clone();
        tasks.spawn(async move {
            let period = Duration::from_secs(60);
            let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    frame = conn.reader.frame() => if frame.is_err() { break },
                    _ = ping.tick() => {
                        let trid = conn.writer.trid();
                        if conn.writer.send(&client::Png { trid }.into_frame()).await.is_err() { break }
                    }
                }
            }
            let out = out_frame(&mut conn);
            let _ = conn.writer.send(&out).await;
            conn.writer.shutdown().await;
        });
    }
    tasks
}
