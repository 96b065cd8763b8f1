//! The call's driver: one thread per call with its own single-threaded runtime, so the
//! 10 ms media tick is never queued behind the application's work. It follows the call
//! through ringing and connecting, then runs the media loop: every tick it moves the
//! samples that real time says are due between the devices and the engine, seals and
//! sends what the engine has to send on the path the [`PathChooser`] picks, and probes
//! the relay; datagrams from the relay and `MED` frames from the conversation are opened
//! and handed to the engine whichever path they came by.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mocha_api::UserId;
use mocha_media::MediaPacket;
use mocha_proto::im::{CallCommand, CallControl};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};

use mocha_media::engine::LiveVideo;
use mocha_media::video::Frame;
use mocha_media::{CallEngine, EngineConfig};

use super::conditioner::Direction as LinkDirection;
use super::datagram::{self, CallKey, Incoming};
use super::devices::{Capture, Playback};
use super::transport::{Path, PathChooser};
use super::video::{VideoFeed, VideoOut};
use super::{
    Call, CallDevices, CallEnd, CallOptions, CallSnapshot, CallState, CallStats, Command, DeviceSwitch,
    PeerState,
};

use crate::client::conversation::Conversation;
use crate::client::error::Error;
use crate::sb::RelayGrant;

/// The engine's clock: 48 kHz mono.
const RATE: u64 = 48_000;
const TICK: Duration = Duration::from_millis(10);
const STATS_EVERY: Duration = Duration::from_millis(100);
/// The most samples moved in one tick: after a stall longer than this the driver skips
/// ahead instead of bursting (the engine conceals what was skipped).
const MAX_CATCH_UP: u64 = RATE / 5;
/// The largest datagram read from the socket (the relay never sends more than 1,280).
const RECEIVE_BUFFER: usize = 2048;
/// How long a goodbye (`HANGUP`, `CANCEL`) may take before the driver gives up on it.
const GOODBYE_WAIT: Duration = Duration::from_secs(3);

/// Every call's engine carries the video pipeline: an audio call simply has no camera,
/// and the other side may still turn one on.
type Engine = CallEngine<LiveVideo>;

/// What the conversation task hands a call.
#[derive(Debug)]
pub(crate) enum CallSignal {
    Control {
        from: UserId,
        control: CallControl,
    },
    State {
        from: UserId,
        muted: bool,
        camera: bool,
    },
    Relay(RelayGrant),
    /// A sealed packet that came as a `MED` frame.
    Media {
        from: UserId,
        data: Bytes,
    },
    Left(UserId),
}

/// Who started the call.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Direction {
    Outgoing,
    Incoming { caller: UserId },
}

/// Starts the call's driver thread.
pub(crate) fn spawn(
    call_id: String,
    conversation: Conversation,
    direction: Direction,
    options: CallOptions,
    devices: CallDevices,
    signals: mpsc::Receiver<CallSignal>,
) -> Result<Call, Error> {
    let state = match direction {
        Direction::Outgoing => CallState::Ringing,
        Direction::Incoming { .. } => CallState::Connecting,
    };
    let peer = PeerState {
        user: match direction {
            Direction::Incoming { caller } => Some(caller),
            Direction::Outgoing => None,
        },
        ..PeerState::default()
    };
    let (snapshot, watch) = watch::channel(CallSnapshot {
        state,
        peer,
        muted: false,
        camera: options.video,
        stats: CallStats::default(),
        media_started: None,
    });
    let (commands, inbox) = mpsc::channel(16);
    let (outbound, inbound) = options.link.into_directions();
    let config = EngineConfig {
        audio: true,
        video: options.video,
        echo_cancellation: options.echo_cancellation,
        noise_suppression: options.noise_suppression,
    };
    let capture =
        Capture::new(devices.audio_in).map_err(|e| Error::Invalid(format!("the microphone: {e}")))?;
    let playback =
        Playback::new(devices.audio_out).map_err(|e| Error::Invalid(format!("the speaker: {e}")))?;
    let video_in = devices.video_in.map(VideoFeed::start).transpose().map_err(Error::Invalid)?;
    let video_out = devices.video_out.map(VideoOut::new);
    let driver = Driver {
        call_id: call_id.clone(),
        conversation,
        direction,
        config,
        ring_timeout: options.ring_timeout,
        relay_timeout: options.relay_timeout,
        capture,
        playback,
        video_in,
        video_out,
        switch_error: None,
        outbound,
        inbound,
        signals,
        commands: inbox,
        snapshot,
        hang_up_waiter: None,
    };
    std::thread::Builder::new()
        .name(format!("call {call_id}"))
        .spawn(move || match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime.block_on(driver.run()),
            Err(error) => {
                driver.publish_end(CallEnd::Failed(format!("cannot start the call's runtime: {error}")))
            }
        })
        .map_err(|error| Error::Invalid(format!("cannot start the call's thread: {error}")))?;
    Ok(Call::new(call_id, commands, watch))
}

struct Driver {
    call_id: String,
    conversation: Conversation,
    direction: Direction,
    config: EngineConfig,
    ring_timeout: Duration,
    relay_timeout: Duration,
    capture: Capture,
    playback: Playback,
    video_in: Option<VideoFeed>,
    video_out: Option<VideoOut>,
    /// A device put in mid-call that could not be started.
    switch_error: Option<String>,
    outbound: LinkDirection,
    inbound: LinkDirection,
    signals: mpsc::Receiver<CallSignal>,
    commands: mpsc::Receiver<Command>,
    snapshot: watch::Sender<CallSnapshot>,
    hang_up_waiter: Option<oneshot::Sender<()>>,
}

/// What ends a phase early.
enum Stop {
    End(CallEnd),
    /// We end it: tell the others with this command first.
    Goodbye(CallCommand, CallEnd),
}

impl Driver {
    async fn run(mut self) {
        let stop = match self.connect().await {
            Ok(grant) => self.media(grant).await,
            Err(stop) => stop,
        };
        let end = match stop {
            Stop::End(end) => end,
            Stop::Goodbye(command, end) => {
                let goodbye = self.conversation.call_control(&self.call_id, command, None);
                if let Ok(Err(error)) = tokio::time::timeout(GOODBYE_WAIT, goodbye).await {
                    tracing::debug!(call = %self.call_id, %error, "could not say goodbye");
                }
                end
            }
        };
        self.publish_end(end);
    }

    fn publish_end(mut self, end: CallEnd) {
        // The speaker finishes (a WAV file gets its final length) before anyone hears it is over.
        self.playback.finish();
        // Likewise the video output: dropping it flushes a file before the end is announced.
        let video_error = self.video_error();
        drop(self.video_out.take());
        let error = self.capture.error.take().or(self.playback.error.take()).or(video_error);
        let Driver { snapshot, hang_up_waiter, .. } = self;
        snapshot.send_modify(|s| {
            s.state = CallState::Ended(end);
            if s.stats.device_error.is_none() {
                s.stats.device_error = error;
            }
        });
        if let Some(waiter) = hang_up_waiter {
            let _ = waiter.send(());
        }
    }

    fn video_error(&self) -> Option<String> {
        let camera = self.video_in.as_ref().and_then(|feed| feed.error.clone());
        camera
            .or_else(|| self.video_out.as_ref().and_then(|out| out.error.clone()))
            .or_else(|| self.switch_error.clone())
    }

    /// Puts a new device in place of the old one; a device that cannot start is kept
    /// as the call's device error, and the old one stays.
    fn switch(&mut self, device: DeviceSwitch) {
        self.switch_error = None;
        match device {
            DeviceSwitch::Microphone(source) => match Capture::new(source) {
                Ok(capture) => self.capture = capture,
                Err(error) => self.switch_error = Some(format!("the new microphone: {error}")),
            },
            DeviceSwitch::Speaker(sink) => match Playback::new(sink) {
                Ok(playback) => {
                    // The old speaker finishes (a WAV file gets its length) before it goes.
                    let mut old = std::mem::replace(&mut self.playback, playback);
                    old.finish();
                }
                Err(error) => self.switch_error = Some(format!("the new speaker: {error}")),
            },
            DeviceSwitch::Camera(camera) => match camera.map(VideoFeed::start).transpose() {
                Ok(feed) => self.video_in = feed,
                Err(error) => {
                    self.video_in = None;
                    self.switch_error = Some(error);
                }
            },
        }
    }

    fn is_peer(&self, user: UserId) -> bool {
        self.snapshot.borrow().peer.user.is_none_or(|peer| peer == user)
    }

    /// A command from the handle, in any phase. `Some` ends the call.
    async fn on_command(&mut self, command: Option<Command>, engine: Option<&mut Engine>) -> Option<Stop> {
        let goodbye = match self.snapshot.borrow().state {
            CallState::Ringing => CallCommand::Cancel,
            _ => CallCommand::Hangup,
        };
        match command {
            None => Some(Stop::Goodbye(goodbye, CallEnd::HungUp)),
            Some(Command::HangUp(done)) => {
                self.hang_up_waiter = Some(done);
                Some(Stop::Goodbye(goodbye, CallEnd::HungUp))
            }
            Some(Command::Mute(muted)) => {
                if let Some(engine) = engine {
                    engine.set_muted(muted);
                }
                self.snapshot.send_modify(|s| s.muted = muted);
                self.tell_state().await;
                None
            }
            Some(Command::Camera(on)) => {
                if let Some(engine) = engine {
                    engine.set_camera(on);
                }
                self.snapshot.send_modify(|s| s.camera = on);
                self.tell_state().await;
                None
            }
            Some(Command::Switch(device)) => {
                self.switch(device);
                None
            }
        }
    }

    async fn tell_state(&self) {
        let (muted, camera) = {
            let s = self.snapshot.borrow();
            (s.muted, s.camera)
        };
        if let Err(error) = self.conversation.send_call_state(&self.call_id, muted, camera).await {
            tracing::debug!(call = %self.call_id, %error, "could not tell the call's state");
        }
    }

    /// A signal that means the same in every phase; `Some` ends the call.
    fn on_common_signal(&self, signal: &CallSignal) -> Option<Stop> {
        match signal {
            CallSignal::Control { from, control } if self.is_peer(*from) => match control.command {
                // The relay details can come before the acceptance itself.
                CallCommand::Accept => {
                    self.snapshot.send_modify(|s| {
                        s.peer.user.get_or_insert(*from);
                    });
                    None
                }
                CallCommand::Hangup => Some(Stop::End(CallEnd::PeerHungUp)),
                CallCommand::Cancel => Some(Stop::End(CallEnd::Cancelled)),
                _ => None,
            },
            CallSignal::State { from, muted, camera } if self.is_peer(*from) => {
                self.snapshot.send_modify(|s| {
                    s.peer.muted = *muted;
                    s.peer.camera = *camera;
                });
                None
            }
            CallSignal::Left(user) if self.snapshot.borrow().peer.user == Some(*user) => {
                Some(Stop::End(CallEnd::PeerLeft))
            }
            _ => None,
        }
    }

    /// Ringing (outgoing) and connecting: until the switchboard sends the relay details.
    async fn connect(&mut self) -> Result<RelayGrant, Stop> {
        let ringing = matches!(self.direction, Direction::Outgoing);
        let mut deadline =
            tokio::time::Instant::now() + if ringing { self.ring_timeout } else { self.relay_timeout };
        loop {
            tokio::select! {
                command = self.commands.recv() => {
                    if let Some(stop) = self.on_command(command, None).await {
                        return Err(stop);
                    }
                }
                signal = self.signals.recv() => {
                    let Some(signal) = signal else { return Err(Stop::End(CallEnd::ConversationEnded)) };
                    if let Some(stop) = self.on_common_signal(&signal) {
                        return Err(stop);
                    }
                    match signal {
                        CallSignal::Relay(grant) => return Ok(grant),
                        CallSignal::Control { from, control } if self.snapshot.borrow().state == CallState::Ringing => {
                            match control.command {
                                CallCommand::Accept => {
                                    self.snapshot.send_modify(|s| {
                                        s.peer.user = Some(from);
                                        s.state = CallState::Connecting;
                                    });
                                    deadline = tokio::time::Instant::now() + self.relay_timeout;
                                }
                                CallCommand::Decline => return Err(Stop::End(CallEnd::Declined)),
                                _ => {}
                            }
                        }
                        _ => {}
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    return Err(match self.snapshot.borrow().state {
                        CallState::Ringing => Stop::Goodbye(CallCommand::Cancel, CallEnd::NoAnswer),
                        _ => Stop::Goodbye(
                            CallCommand::Hangup,
                            CallEnd::Failed("the switchboard sent no media relay details (RLY)".into()),
                        ),
                    });
                }
            }
        }
    }

    async fn media(&mut self, grant: RelayGrant) -> Stop {
        let fail = |why: String| Stop::Goodbye(CallCommand::Hangup, CallEnd::Failed(why));
        let Some(key) = CallKey::new(grant.member_id, &grant.media_key, &grant.bind_token) else {
            return fail("the switchboard sent an unusable call key or bind token".into());
        };
        let relay = match resolve(&grant.relay).await {
            Ok(relay) => relay,
            Err(why) => return fail(why),
        };
        let any = if relay.is_ipv4() {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        };
        let local = SocketAddr::new(any, 0);
        let socket = match UdpSocket::bind(local).await {
            Ok(socket) => socket,
            Err(error) => return fail(format!("cannot open a UDP socket: {error}")),
        };
        let started = Instant::now();
        let mut engine = match Engine::new_video(self.config, started) {
            Ok(engine) => engine,
            Err(error) => return fail(error.to_string()),
        };
        let (muted, camera) = {
            let s = self.snapshot.borrow();
            (s.muted, s.camera)
        };
        engine.set_muted(muted);
        engine.set_camera(camera);
        let mut media = Media {
            key,
            relay,
            socket,
            chooser: PathChooser::new(started),
            started,
            moved: 0,
            peer_member: None,
            last_stats: started,
            stats: CallStats::default(),
            capture: Vec::new(),
            playback: Vec::new(),
            frames: Vec::new(),
        };
        self.snapshot.send_modify(|s| {
            s.state = CallState::Active;
            s.media_started = Some(started);
        });
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut buffer = vec![0u8; RECEIVE_BUFFER];
        loop {
            tokio::select! {
                command = self.commands.recv() => {
                    if let Some(stop) = self.on_command(command, Some(&mut engine)).await {
                        self.publish_stats(&mut media, &engine, Instant::now());
                        return stop;
                    }
                }
                signal = self.signals.recv() => {
                    let Some(signal) = signal else {
                        self.publish_stats(&mut media, &engine, Instant::now());
                        return Stop::End(CallEnd::ConversationEnded);
                    };
                    if let Some(stop) = self.on_common_signal(&signal) {
                        self.publish_stats(&mut media, &engine, Instant::now());
                        return stop;
                    }
                    match signal {
                        CallSignal::Media { from, data } if self.is_peer(from) => {
                            media.open(&data, Path::Tls, &mut engine, Instant::now());
                        }
                        CallSignal::Relay(grant) => {
                            // A fresh grant (the switchboard re-issued it): use it from now on.
                            if let Some(key) = CallKey::new(grant.member_id, &grant.media_key, &grant.bind_token) {
                                media.key = key;
                            }
                        }
                        _ => {}
                    }
                }
                received = media.socket.recv_from(&mut buffer) => match received {
                    Ok((len, from)) if from == media.relay => {
                        self.inbound.push(buffer[..len].to_vec(), Instant::now());
                    }
                    Ok(_) => media.stats.rejected += 1,
                    // ICMP "port unreachable" surfaces here on some systems; the probes decide.
                    Err(error) => tracing::trace!(call = %self.call_id, %error, "UDP receive failed"),
                },
                _ = tick.tick() => {
                    let now = Instant::now();
                    self.tick(&mut media, &mut engine, now);
                    if now.saturating_duration_since(media.last_stats) >= STATS_EVERY {
                        self.publish_stats(&mut media, &engine, now);
                    }
                }
            }
            let now = Instant::now();
            while let Some(datagram) = self.inbound.pop(now) {
                media.on_datagram(&datagram, &mut engine, now);
            }
        }
    }

    fn tick(&mut self, media: &mut Media, engine: &mut Engine, now: Instant) {
        while let Some(datagram) = self.inbound.pop(now) {
            media.on_datagram(&datagram, engine, now);
        }
        // Audio: exactly as many samples as real time says are due, both ways.
        let due = (now.saturating_duration_since(media.started).as_nanos() * u128::from(RATE) / 1_000_000_000)
            as u64;
        let mut count = due.saturating_sub(media.moved);
        if count > MAX_CATCH_UP {
            media.moved += count - MAX_CATCH_UP;
            count = MAX_CATCH_UP;
        }
        if count > 0 {
            let count = count as usize;
            media.capture.clear();
            self.capture.take(count, &mut media.capture);
            engine.push_capture(&media.capture, now);
            media.playback.resize(count, 0.0);
            engine.pull_playback(&mut media.playback, now);
            self.playback.give(&media.playback);
            media.moved += count as u64;
        }
        // Video: camera frames as their time comes; the other side's, when their sound plays.
        if let Some(feed) = &mut self.video_in {
            media.frames.clear();
            feed.due(now.saturating_duration_since(media.started), &mut media.frames);
            for frame in media.frames.drain(..) {
                engine.push_video_frame(frame, now);
            }
        }
        if let Some(frame) = engine.pull_video_frame(now)
            && let Some(out) = &mut self.video_out
        {
            out.show(&frame);
        }
        // Network: the engine's packets on the chosen path, then probes.
        for packet in engine.poll_transmit(now) {
            media.send(&packet, &self.conversation, &self.call_id, &mut self.outbound, now);
        }
        if let Some(probe) = media.chooser.poll(now) {
            self.outbound.push(media.key.bind(probe), now);
        }
        while let Some(datagram) = self.outbound.pop(now) {
            if media.socket.try_send_to(&datagram, media.relay).is_err() {
                media.stats.send_failures += 1;
            }
        }
    }

    fn publish_stats(&self, media: &mut Media, engine: &Engine, now: Instant) {
        media.last_stats = now;
        media.stats.path = Some(media.chooser.sending());
        media.stats.path_switches = media.chooser.switches();
        media.stats.relay_round_trip_ms =
            media.chooser.relay_round_trip().map(|rtt| rtt.as_secs_f32() * 1000.0);
        media.stats.media = engine.stats();
        media.stats.duration = now.saturating_duration_since(media.started);
        media.stats.device_error =
            self.capture.error.clone().or_else(|| self.playback.error.clone()).or_else(|| self.video_error());
        media.stats.frames_shown = self.video_out.as_ref().map_or(0, |out| out.shown);
        let stats = media.stats.clone();
        self.snapshot.send_modify(|s| s.stats = stats);
    }
}

/// The media loop's state.
struct Media {
    key: CallKey,
    relay: SocketAddr,
    socket: UdpSocket,
    chooser: PathChooser,
    started: Instant,
    /// Samples moved each way since `started`.
    moved: u64,
    /// The other side's member id, from its first packet that verified.
    peer_member: Option<u32>,
    last_stats: Instant,
    stats: CallStats,
    capture: Vec<f32>,
    playback: Vec<f32>,
    frames: Vec<Frame>,
}

impl Media {
    fn send(
        &mut self,
        packet: &MediaPacket,
        conversation: &Conversation,
        call_id: &str,
        outbound: &mut LinkDirection,
        now: Instant,
    ) {
        let datagram = match self.key.seal(packet) {
            Ok(datagram) => datagram,
            Err(error) => {
                tracing::debug!(call = %call_id, %error, "media packet not sent");
                self.stats.send_failures += 1;
                return;
            }
        };
        match self.chooser.sending() {
            Path::Udp => {
                outbound.push(datagram, now);
                self.stats.sent_udp += 1;
            }
            Path::Tls => {
                if conversation.send_media_nowait(call_id, Bytes::from(datagram)) {
                    self.stats.sent_tls += 1;
                } else {
                    self.stats.send_failures += 1;
                }
            }
        }
    }

    fn on_datagram(&mut self, datagram: &[u8], engine: &mut Engine, now: Instant) {
        match datagram::classify(datagram) {
            Ok(Incoming::Bound { member, probe }) if member == self.key.member() => {
                self.chooser.heard(now);
                self.chooser.on_bound(probe, now);
            }
            Ok(Incoming::Media(sealed)) => {
                self.chooser.heard(now);
                self.open(sealed, Path::Udp, engine, now);
            }
            Ok(Incoming::Bound { .. }) | Err(_) => self.stats.rejected += 1,
        }
    }

    fn open(&mut self, sealed: &[u8], path: Path, engine: &mut Engine, now: Instant) {
        let Ok((member, packet)) = self.key.open(sealed) else {
            self.stats.rejected += 1;
            return;
        };
        // Two-party calls: the first other member heard is the one played.
        if member == self.key.member() || *self.peer_member.get_or_insert(member) != member {
            self.stats.rejected += 1;
            return;
        }
        match path {
            Path::Udp => self.stats.received_udp += 1,
            Path::Tls => self.stats.received_tls += 1,
        }
        engine.receive(packet, now);
    }
}

/// The relay's `host:port` as a socket address, IPv4 first (the relay binds IPv4 unless
/// configured otherwise, and `localhost` often resolves to `::1` first).
async fn resolve(relay: &str) -> Result<SocketAddr, String> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host(relay)
        .await
        .map_err(|error| format!("cannot resolve the media relay {relay}: {error}"))?
        .collect();
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(|| format!("the media relay {relay} has no address"))
}
