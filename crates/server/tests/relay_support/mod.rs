//! Helpers for the media relay tests: a call set up through the switchboard, each side's
//! `RLY` grant, a plain UDP socket on loopback, and datagrams built with the project's
//! own header and sealing code.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use mocha_auth::MediaKey;
use mocha_client::RelayGrant;
use mocha_client::proto::im::{CallCommand, CallControl, CallMedia, ImPayload};
use mocha_client::proto::media::{Bind, Bound, MediaHeader};
use mocha_client::proto::sb::client::AckMode;
use mocha_client::sb::{SbConnection, SbEvent};
use tokio::net::UdpSocket;

use crate::common::TestServer;
use crate::switchboard_support::{WAIT, expect_message};

pub const CALL: &str = "call-1";

pub fn call(command: CallCommand, media: Option<CallMedia>) -> ImPayload {
    ImPayload::Call(CallControl { command, call_id: CALL.into(), media, body: String::new() })
}

/// One member of a call: its switchboard connection, its grant and key, a UDP socket.
pub struct Side {
    pub sb: SbConnection,
    pub grant: RelayGrant,
    pub key: MediaKey,
    pub udp: UdpSocket,
    pub relay: SocketAddr,
    next_seq: u32,
}

pub async fn expect_grant(sb: &mut SbConnection) -> RelayGrant {
    sb.expect_event(WAIT, |e| match e {
        SbEvent::Relay(grant) => Some(grant.clone()),
        _ => None,
    })
    .await
    .expect("RLY")
}

impl Side {
    pub async fn new(t: &TestServer, mut sb: SbConnection) -> Self {
        let grant = expect_grant(&mut sb).await;
        Self::with_grant(t, sb, grant).await
    }

    pub async fn with_grant(t: &TestServer, sb: SbConnection, grant: RelayGrant) -> Self {
        let key = MediaKey::from_base64url(&grant.media_key).expect("a 32-byte key");
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        Self { sb, grant, key, udp, relay: t.server.relay_addr.unwrap(), next_seq: 1000 }
    }

    /// BIND from this side's socket; the relay's answer, if any came.
    pub async fn bind(&self, probe: u64) -> Option<Bound> {
        let mut token = [0u8; 22];
        token.copy_from_slice(self.grant.bind_token.as_bytes());
        let bind = Bind { member: self.grant.member_id, probe, token };
        self.udp.send_to(&bind.encode(), self.relay).await.unwrap();
        let answer = recv(&self.udp, Duration::from_millis(500)).await?;
        Some(Bound::decode(&answer).expect("a BOUND"))
    }

    pub async fn bind_ok(&self) {
        let bound = self.bind(0x5eed).await.expect("BOUND");
        assert_eq!(bound, Bound { member: self.grant.member_id, probe: 0x5eed }, "the probe is echoed");
    }

    /// The next audio packet of this side, sealed.
    pub fn packet(&mut self, payload: &[u8]) -> Vec<u8> {
        self.next_seq += 1;
        let header =
            MediaHeader { member: self.grant.member_id, stream: 0, seq: self.next_seq, timestamp: 960 };
        self.key.seal(&header, payload)
    }

    pub async fn send_udp(&self, datagram: &[u8]) {
        self.udp.send_to(datagram, self.relay).await.unwrap();
    }

    pub async fn send_tls(&mut self, datagram: &[u8]) {
        self.sb.send_media(CALL, Bytes::copy_from_slice(datagram)).await.unwrap();
    }

    /// The next datagram from the relay, if one comes within `within`.
    pub async fn recv_udp(&self, within: Duration) -> Option<Vec<u8>> {
        recv(&self.udp, within).await
    }

    /// The next `MED` frame's bytes on the switchboard connection.
    pub async fn recv_tls(&mut self, within: Duration) -> Option<Bytes> {
        self.sb
            .expect_event(within, |e| match e {
                SbEvent::Media { call_id, data, .. } if call_id == CALL => Some(data.clone()),
                _ => None,
            })
            .await
            .ok()
    }
}

pub async fn recv(udp: &UdpSocket, within: Duration) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 2048];
    match tokio::time::timeout(within, udp.recv_from(&mut buf)).await {
        Ok(Ok((len, _))) => {
            buf.truncate(len);
            Some(buf)
        }
        _ => None,
    }
}

/// `a` calls, `b` accepts: both get their grant.
pub async fn start_call(t: &TestServer, mut a: SbConnection, mut b: SbConnection) -> (Side, Side) {
    a.send(&call(CallCommand::Invite, Some(CallMedia::Audio)), AckMode::Always).await.unwrap();
    expect_message(&mut b).await;
    b.send(&call(CallCommand::Accept, None), AckMode::Always).await.unwrap();
    expect_message(&mut a).await;
    (Side::new(t, a).await, Side::new(t, b).await)
}
