//! The task that owns the Notification Server connection: it serves the handle's
//! requests, turns pushes into state and [`Event`]s, keeps the connection alive and
//! the session token fresh, and reconnects with exponential back-off when the
//! connection drops — until a fatal sign-out ends it.

use std::time::Duration;

use mocha_api::{ContactListEvent, UserId};
use mocha_proto::ns::ServerCommand;
use mocha_proto::{ErrorCode, Status};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep_until};

use super::Shared;
use super::error::Error;
use super::event::{Event, Ring, SignOutReason};
use super::state::ConnectionState;
use crate::MenpError;
use crate::ns::{NsConnection, SwitchboardReferral};

/// The server wants a ping within 90 s by default; this leaves a wide margin.
const PING_EVERY: Duration = Duration::from_secs(45);
/// How long to wait before retrying a failed token renewal.
const RENEW_RETRY: Duration = Duration::from_secs(5);

type Reply<T> = oneshot::Sender<Result<T, Error>>;

pub(crate) enum NsRequest {
    SetStatus(Status, Reply<()>),
    SetPersonalMessage(String, Reply<()>),
    SetDisplayName(String, Reply<String>),
    Switchboard(Reply<SwitchboardReferral>),
    Ping(Reply<u32>),
    SignOut(oneshot::Sender<()>),
}

impl NsRequest {
    fn refuse(self, error: impl FnOnce() -> Error) {
        match self {
            NsRequest::SetStatus(_, reply) | NsRequest::SetPersonalMessage(_, reply) => {
                let _ = reply.send(Err(error()));
            }
            NsRequest::SetDisplayName(_, reply) => drop(reply.send(Err(error()))),
            NsRequest::Switchboard(reply) => drop(reply.send(Err(error()))),
            NsRequest::Ping(reply) => drop(reply.send(Err(error()))),
            NsRequest::SignOut(done) => drop(done.send(())),
        }
    }
}

/// Why serving a connection stopped.
enum End {
    SignOut(oneshot::Sender<()>),
    /// Every handle is gone.
    Dropped,
    Fatal(SignOutReason),
    Lost(String),
}

/// Signs in on a new connection, syncs and restores the chosen status and message.
pub(crate) async fn establish(shared: &Shared) -> Result<NsConnection, Error> {
    let token = shared.session.token().await?;
    match sign_in(shared, &token).await {
        Err(Error::Server(e)) if e.code() == Some(ErrorCode::TokenExpired) => {
            let (token, _) = shared.session.renew_now().await?;
            sign_in(shared, &token).await
        }
        other => other,
    }
}

async fn sign_in(shared: &Shared, token: &str) -> Result<NsConnection, Error> {
    let mut ns = NsConnection::connect_via(&shared.network, &shared.ns_address).await?;
    ns.sign_in(token).await?;
    let snapshot = ns.sync().await?;
    let (status, message) = {
        let state = shared.state.borrow();
        (state.status, state.personal_message.clone())
    };
    ns.set_status(status).await?;
    if !message.is_empty() {
        ns.set_personal_message(&message).await?;
    }
    shared.state.send_modify(|state| {
        state.apply_snapshot(snapshot);
        state.connection = ConnectionState::Online;
    });
    Ok(ns)
}

/// Runs until sign-out, a fatal `OUT`, or every handle is dropped.
pub(crate) async fn run(
    shared: std::sync::Arc<Shared>,
    mut requests: mpsc::Receiver<NsRequest>,
    first: NsConnection,
) {
    let mut ns = first;
    loop {
        let end = match serve(&shared, &mut ns, &mut requests).await {
            End::Lost(why) => {
                drop(ns);
                match reconnect(&shared, &mut requests, why).await {
                    Ok(fresh) => {
                        ns = fresh;
                        continue;
                    }
                    Err(end) => {
                        finish(&shared, end, None).await;
                        return;
                    }
                }
            }
            end => end,
        };
        finish(&shared, end, Some(ns)).await;
        return;
    }
}

async fn finish(shared: &Shared, end: End, ns: Option<NsConnection>) {
    let reason = match end {
        End::SignOut(done) => {
            if let Some(ns) = ns {
                let _ = ns.sign_out().await;
            }
            signed_out(shared, SignOutReason::Requested).await;
            let _ = done.send(());
            return;
        }
        End::Dropped => {
            if let Some(ns) = ns {
                let _ = ns.sign_out().await;
            }
            return;
        }
        End::Fatal(reason) => reason,
        End::Lost(why) => SignOutReason::Refused(why),
    };
    tracing::info!(reason = %reason, "signed out by the server");
    signed_out(shared, reason).await;
}

async fn signed_out(shared: &Shared, reason: SignOutReason) {
    shared.state.send_modify(|state| state.connection = ConnectionState::SignedOut(reason.clone()));
    shared.emit(Event::SignedOut(reason)).await;
}

enum Step {
    Request(Option<NsRequest>),
    Push(Result<Option<ServerCommand>, MenpError>),
    Ping,
    Renew,
}

async fn serve(shared: &Shared, ns: &mut NsConnection, requests: &mut mpsc::Receiver<NsRequest>) -> End {
    let mut ping_at = Instant::now() + PING_EVERY;
    let mut renew_not_before = Instant::now();
    loop {
        let renew_at = instant_at(shared.session.renew_at().await).max(renew_not_before);
        let step = tokio::select! {
            request = requests.recv() => Step::Request(request),
            push = ns.next_push(PING_EVERY) => Step::Push(push),
            _ = sleep_until(ping_at) => Step::Ping,
            _ = sleep_until(renew_at) => Step::Renew,
        };
        let failure = match step {
            Step::Request(None) => return End::Dropped,
            Step::Request(Some(NsRequest::SignOut(done))) => return End::SignOut(done),
            Step::Request(Some(request)) => {
                ping_at = Instant::now() + PING_EVERY;
                handle(shared, ns, request).await
            }
            Step::Push(Ok(Some(push))) => match apply_push(shared, ns, push).await {
                Ok(()) => None,
                Err(end) => return end,
            },
            Step::Push(Ok(None)) => None,
            Step::Push(Err(error)) => Some(error),
            Step::Ping => {
                ping_at = Instant::now() + PING_EVERY;
                ns.ping().await.err()
            }
            Step::Renew => {
                match shared.session.renew_now().await {
                    Ok((_, expires_at)) => shared.emit(Event::SessionRefreshed { expires_at }).await,
                    Err(error) => {
                        let error = Error::from(error);
                        if let Some(reason) = fatal(&error) {
                            return End::Fatal(reason);
                        }
                        tracing::warn!(%error, "cannot renew the session token yet");
                        renew_not_before = Instant::now() + RENEW_RETRY;
                    }
                }
                None
            }
        };
        if let Some(error) = failure {
            let error = Error::from(error);
            return match fatal(&error) {
                Some(reason) => End::Fatal(reason),
                None => End::Lost(error.to_string()),
            };
        }
    }
}

/// Serves one request; returns the error if it broke the connection.
async fn handle(shared: &Shared, ns: &mut NsConnection, request: NsRequest) -> Option<MenpError> {
    match request {
        NsRequest::SetStatus(status, reply) => {
            let result = ns.set_status(status).await;
            if result.is_ok() {
                shared.state.send_modify(|state| state.status = status);
            }
            answer(reply, result)
        }
        NsRequest::SetPersonalMessage(message, reply) => {
            let result = ns.set_personal_message(&message).await;
            if result.is_ok() {
                shared.state.send_modify(|state| state.personal_message = message.trim().to_string());
            }
            answer(reply, result)
        }
        NsRequest::SetDisplayName(name, reply) => {
            let result = ns.set_display_name(&name).await;
            if let Ok(stored) = &result {
                shared.state.send_modify(|state| state.account.display_name = stored.clone());
            }
            answer(reply, result)
        }
        NsRequest::Switchboard(reply) => answer(reply, ns.request_switchboard().await),
        NsRequest::Ping(reply) => answer(reply, ns.ping().await),
        NsRequest::SignOut(done) => {
            let _ = done.send(());
            None
        }
    }
}

/// A refusal goes back to the caller; a broken connection also ends this one.
fn answer<T>(reply: Reply<T>, result: Result<T, MenpError>) -> Option<MenpError> {
    match result {
        Ok(value) => {
            let _ = reply.send(Ok(value));
            None
        }
        Err(error @ (MenpError::Refused(_) | MenpError::Protocol(_))) => {
            let _ = reply.send(Err(error.into()));
            None
        }
        Err(error) => {
            let _ = reply.send(Err(Error::NotConnected));
            Some(error)
        }
    }
}

async fn apply_push(shared: &Shared, ns: &mut NsConnection, push: ServerCommand) -> Result<(), End> {
    match push {
        ServerCommand::Nln(nln) => {
            let Some(user) = user_id(nln.user_id.as_str()) else { return Ok(()) };
            let mut presence = None;
            shared
                .state
                .send_modify(|state| presence = state.set_online(user, nln.status, &nln.display_name));
            if presence.is_some() {
                shared.emit(Event::Presence { user, presence }).await;
            }
        }
        ServerCommand::Fln(fln) => {
            let Some(user) = user_id(fln.user_id.as_str()) else { return Ok(()) };
            shared.state.send_modify(|state| state.set_offline(user));
            shared.emit(Event::Presence { user, presence: None }).await;
        }
        ServerCommand::Ubx(ubx) => {
            let Some(user) = user_id(ubx.user_id.as_str()) else { return Ok(()) };
            shared.state.send_modify(|state| state.set_personal_message_of(user, &ubx.message));
            shared.emit(Event::PersonalMessage { user, message: ubx.message }).await;
        }
        ServerCommand::Con(con) => {
            // A change of the list is rare; a fresh SYN is simpler and surer than
            // replaying each kind of change on the local copy.
            match ns.sync().await {
                Ok(snapshot) => shared.state.send_modify(|state| state.apply_snapshot(snapshot)),
                Err(error) => {
                    let error = Error::from(error);
                    return Err(match fatal(&error) {
                        Some(reason) => End::Fatal(reason),
                        None => End::Lost(error.to_string()),
                    });
                }
            }
            match serde_json::from_slice::<ContactListEvent>(&con.payload) {
                Ok(event) => shared.emit(Event::ContactList(event)).await,
                Err(error) => tracing::warn!(%error, "unreadable contact-list event"),
            }
        }
        ServerCommand::Not(notice) => shared.emit(Event::Notice(notice.text)).await,
        ServerCommand::Rng(rng) => {
            let Some(caller) = user_id(rng.caller_id.as_str()) else { return Ok(()) };
            let ring = Ring {
                room: rng.room_id.into_string(),
                caller: mocha_api::UserSummary {
                    id: caller,
                    username: rng.caller_username.into_string(),
                    display_name: rng.caller_display_name,
                },
                address: rng.address.into_string(),
                ticket: rng.ticket.into_string(),
            };
            shared.emit(Event::Ring(ring)).await;
        }
        ServerCommand::Out(out) => {
            return Err(match SignOutReason::from_out(&out.reason) {
                Some(reason) => End::Fatal(reason),
                None => End::Lost(format!("the server ended the connection ({})", out.reason.code())),
            });
        }
        ServerCommand::Err(reply) => {
            tracing::warn!(code = ?reply.code, reason = %reply.reason, "server error")
        }
        _ => {}
    }
    Ok(())
}

async fn reconnect(
    shared: &Shared,
    requests: &mut mpsc::Receiver<NsRequest>,
    mut why: String,
) -> Result<NsConnection, End> {
    let mut delay = shared.backoff.initial;
    let mut attempt = 0;
    loop {
        attempt += 1;
        tracing::info!(attempt, reason = %why, "Notification Server connection lost; reconnecting");
        shared.state.send_modify(|state| state.connection = ConnectionState::Reconnecting { attempt });
        let wait = jittered(delay);
        shared.emit(Event::Disconnected { reason: why.clone(), attempt, retry_in: wait }).await;
        let deadline = Instant::now() + wait;
        loop {
            tokio::select! {
                _ = sleep_until(deadline) => break,
                request = requests.recv() => match request {
                    None => return Err(End::Dropped),
                    Some(NsRequest::SignOut(done)) => return Err(End::SignOut(done)),
                    Some(other) => other.refuse(|| Error::NotConnected),
                },
            }
        }
        match establish(shared).await {
            Ok(ns) => {
                let account = shared.state.borrow().account.clone();
                shared.emit(Event::Connected { account }).await;
                return Ok(ns);
            }
            Err(error) => {
                if let Some(reason) = fatal(&error) {
                    return Err(End::Fatal(reason));
                }
                why = error.to_string();
                delay = (delay * 2).min(shared.backoff.max);
            }
        }
    }
}

/// `delay` less up to half of it, at random. When a node dies, every client on it sees
/// the drop at the same moment; without this they would all come back at the same
/// moments too (0.5 s, 1 s, 2 s…), each wave a burst of TLS handshakes on the others.
fn jittered(delay: Duration) -> Duration {
    let mut bytes = [0u8; 2];
    // Without randomness (never seen) the full delay is used: as before, just unspread.
    let fraction = match ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes) {
        Ok(()) => f64::from(u16::from_le_bytes(bytes)) / f64::from(u16::MAX),
        Err(_) => 1.0,
    };
    delay.mul_f64(0.5 + fraction / 2.0)
}

/// Whether an error ends the session for good, and why.
pub(crate) fn fatal(error: &Error) -> Option<SignOutReason> {
    match error {
        Error::SignedOut(reason) => Some(reason.clone()),
        Error::Server(MenpError::SignedOut(reason)) => SignOutReason::from_out(reason),
        Error::Server(MenpError::Refused(reply)) => match reply.code {
            ErrorCode::AccountBanned => {
                Some(SignOutReason::Banned { until: None, reason: Some(reply.reason.clone()) })
            }
            ErrorCode::AuthenticationFailed => Some(SignOutReason::Refused(reply.reason.clone())),
            _ => None,
        },
        Error::Passport(e) => {
            let detail = e.detail()?;
            match detail.code.as_str() {
                "banned" => Some(SignOutReason::Banned {
                    until: detail.ban.as_ref().and_then(|b| b.until).map(rfc3339),
                    reason: detail.ban.as_ref().and_then(|b| b.reason.clone()),
                }),
                "sign_in_revoked" | "refresh_token_reused" => Some(SignOutReason::Revoked),
                "invalid_refresh_token"
                | "refresh_token_expired"
                | "invalid_token"
                | "invalid_credentials" => Some(SignOutReason::Refused(detail.message.clone())),
                _ => None,
            }
        }
        _ => None,
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| at.to_string())
}

fn user_id(text: &str) -> Option<UserId> {
    text.parse().ok()
}

/// A wall-clock time as a timer deadline (clamped to now … a day ahead).
fn instant_at(at: OffsetDateTime) -> Instant {
    let millis = (at - OffsetDateTime::now_utc()).whole_milliseconds().clamp(0, 86_400_000);
    Instant::now() + Duration::from_millis(millis as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnects_are_spread_over_the_second_half_of_the_delay() {
        let delay = Duration::from_millis(500);
        let waits: Vec<Duration> = (0..64).map(|_| jittered(delay)).collect();
        assert!(waits.iter().all(|wait| (delay / 2..=delay).contains(wait)), "{waits:?}");
        let (longest, shortest) =
            (waits.iter().max().expect("64 waits"), waits.iter().min().expect("64 waits"));
        let spread = longest.saturating_sub(*shortest);
        assert!(spread > Duration::from_millis(100), "64 clients would come back together: {waits:?}");
    }
}
