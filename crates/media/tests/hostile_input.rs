//! Whatever arrives from the network, in whatever order: no panic, bounded memory, and
//! the call goes on.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use mocha_media::audio::{BLOCK_SAMPLES, JitterBuffer};
use mocha_media::control::{self, ControlMessage, ReceiverReport};
use mocha_media::{CallEngine, EngineConfig, MediaPacket, Stream};
use proptest::prelude::*;

fn message() -> impl Strategy<Value = ControlMessage> {
    prop_oneof![
        (0u8..3, any::<u32>(), any::<u8>(), any::<u32>(), any::<u32>()).prop_map(|(s, h, f, c, j)| {
            ControlMessage::Report(ReceiverReport {
                stream: Stream::from_code(s).unwrap(),
                highest_seq: h,
                fraction_lost: f,
                cumulative_lost: c,
                jitter: j,
            })
        }),
        Just(ControlMessage::KeyframeRequest),
        (any::<u32>(), any::<u64>()).prop_map(|(id, sent_us)| ControlMessage::Ping { id, sent_us }),
        (any::<u32>(), any::<u64>(), any::<u32>()).prop_map(|(id, sent_us, held_us)| ControlMessage::Pong {
            id,
            sent_us,
            held_us
        }),
    ]
}

proptest! {
    #[test]
    fn control_round_trips(messages in prop::collection::vec(message(), 0..16)) {
        prop_assert_eq!(control::decode(&control::encode(&messages)).unwrap(), messages);
    }

    #[test]
    fn control_decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = control::decode(&bytes);
    }

    #[test]
    fn the_jitter_buffer_takes_any_order_and_stays_bounded(
        packets in prop::collection::vec((any::<u32>(), 0u64..3000), 0..400),
    ) {
        let start = Instant::now();
        let mut buffer = JitterBuffer::new();
        for (i, (timestamp, at)) in packets.iter().enumerate() {
            buffer.insert(*timestamp, Bytes::from_static(&[1, 2]), start + Duration::from_millis(*at));
            if i % 3 == 0 {
                let _ = buffer.next(start + Duration::from_millis(*at));
            }
        }
        prop_assert!(buffer.delay_ms() >= 0.0);
        prop_assert!((20.0..=120.0).contains(&buffer.target_ms()));
    }
}

#[test]
fn an_engine_survives_a_flood_of_garbage_and_keeps_playing() {
    let start = Instant::now();
    let config =
        EngineConfig { audio: true, video: false, echo_cancellation: false, noise_suppression: false };
    let mut engine = CallEngine::new_seeded(config, start, 1).unwrap();
    let mut seed = 12345u64;
    let mut out = [0.0f32; BLOCK_SAMPLES];
    for tick in 0..500u32 {
        let now = start + Duration::from_millis(10) * tick;
        for _ in 0..5 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let length = (seed % 1300) as usize;
            let payload: Vec<u8> = (0..length).map(|i| (seed >> (i % 56)) as u8).collect();
            let stream = Stream::from_code((seed % 3) as u8).unwrap();
            engine.receive(
                MediaPacket {
                    stream,
                    seq: seed as u32,
                    timestamp: (seed >> 32) as u32,
                    payload: Bytes::from(payload),
                },
                now,
            );
        }
        engine.pull_playback(&mut out, now);
        assert!(out.iter().all(|s| s.is_finite() && s.abs() <= 1.0));
        let _ = engine.poll_transmit(now);
    }
    let stats = engine.stats();
    assert!(stats.packets_received == 2500);
    assert!(stats.bad_packets > 0);
}
