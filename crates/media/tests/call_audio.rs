//! Two engines through simulated links: latency, quality under loss, FEC, the jitter
//! buffer's adaptation, reports and round trip. Deterministic: seeded links, simulated
//! time. Figures are printed (`--nocapture`) and recorded in docs/media.md.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use mocha_media::link::{LinkProfile, Loss};
use mocha_media::{EngineConfig, MediaPacket, Stream};

const ONE_WAY: Duration = Duration::from_millis(20);

fn lossy(loss: Loss) -> LinkProfile {
    LinkProfile::clean(ONE_WAY)
        .with_loss(loss)
        .with_jitter(Duration::from_millis(20))
        .with_reordering(0.02, Duration::from_millis(30))
}

#[test]
fn mouth_to_ear_delay_on_a_clean_link_is_under_150_ms() {
    let input = speech(6.0, 140.0);
    // The whole send and receive path, echo cancellation and noise suppression included.
    let mut call =
        Call::new(EngineConfig::voice(), LinkProfile::clean(ONE_WAY), LinkProfile::clean(ONE_WAY), 11);
    call.run(&input, 50);
    let full_ms = envelope_lag_ms(&input[RATE..5 * RATE], &call.b_speaker[RATE..], 250);
    let shape = envelope_correlation(&input[RATE..5 * RATE], &call.b_speaker[RATE..], full_ms);
    let stats = call.b_stats();
    // The transport alone (no echo canceller or noise suppressor), by waveform.
    let mut plain = Call::new(transport_only(), LinkProfile::clean(ONE_WAY), LinkProfile::clean(ONE_WAY), 11);
    plain.run(&input, 50);
    let lag = find_lag(&input[RATE..5 * RATE], &plain.b_speaker[RATE..], RATE / 4);
    let plain_ms = lag as f64 * 1000.0 / RATE as f64;
    let plain_quality = quality(&input, &plain.b_speaker, lag, 1.0);
    eprintln!(
        "clean link, one-way network {} ms: mouth-to-ear {full_ms} ms with EC+NS (envelope correlation {shape:.3}, \
         buffer {:.0} ms), {plain_ms:.1} ms without (waveform correlation {:.3})",
        ONE_WAY.as_millis(),
        stats.buffer_ms,
        plain_quality.mean_correlation,
    );
    for delay in [full_ms as f64, plain_ms] {
        assert!(delay <= 150.0, "mouth-to-ear {delay} ms");
        assert!(delay >= ONE_WAY.as_millis() as f64, "faster than the network: {delay} ms");
    }
    // Through echo cancellation, noise suppression and Opus the speech is intact.
    // (0.90 measured: the noise suppressor trims quiet syllable edges.)
    assert!(shape > 0.85, "envelope correlation {shape}");
    assert!(plain_quality.usable > 0.97, "{plain_quality:?}");
    assert_eq!(stats.concealed_frames, 0);
}

fn quality_at(loss: Loss, seed: u64) -> (Quality, mocha_media::CallStats) {
    let input = speech(12.0, 140.0);
    let mut call = Call::new(transport_only(), lossy(loss), lossy(loss), seed);
    call.run(&input, 50);
    // Align on the first second, before the adaptation has anything to do.
    let lag = find_lag(&input[RATE / 2..2 * RATE], &call.b_speaker[RATE / 2..], RATE / 4);
    (quality(&input, &call.b_speaker, lag, 0.5), call.b_stats())
}

#[test]
fn speech_stays_usable_under_random_and_bursty_loss() {
    let mut table = Vec::new();
    for rate in [0.0, 0.05, 0.10, 0.20] {
        for (kind, loss) in
            [("random", Loss::Random(rate)), ("bursty", Loss::Bursty { rate, mean_burst: 3.0 })]
        {
            if rate == 0.0 && kind == "bursty" {
                continue;
            }
            let (quality, stats) = quality_at(loss, 42);
            eprintln!(
                "{kind:>6} {:>4.0} %: correlation {:.3}, usable {:.3} ({} segments), measured loss {:.1} %, \
                 FEC recoveries {}, concealed {}, late {}, buffer {:.0} ms",
                rate * 100.0,
                quality.mean_correlation,
                quality.usable,
                quality.segments,
                stats.loss_percent,
                stats.fec_recoveries,
                stats.concealed_frames,
                stats.late_packets,
                stats.buffer_ms,
            );
            table.push((kind, rate, quality, stats));
        }
    }
    for (kind, rate, quality, stats) in &table {
        let measured = f64::from(stats.loss_percent) / 100.0;
        assert!((measured - rate).abs() < 0.04, "{kind} {rate}: link lost {measured}");
        if *rate == 0.0 {
            assert!(quality.usable > 0.97, "{kind} {rate}: {quality:?}");
        }
        if (*rate - 0.10).abs() < 1e-9 {
            // The gate: at 10 % loss nearly every speech segment still matches what was
            // said, more than the link delivered intact, thanks to FEC and concealment.
            assert!(quality.usable >= 0.9, "{kind} 10 %: {quality:?}");
            assert!(quality.mean_correlation >= 0.8, "{kind} 10 %: {quality:?}");
        }
        if *rate > 0.0 {
            assert!(stats.fec_recoveries > 0, "{kind} {rate}: no FEC recovery");
        }
    }
    // Quality falls as loss rises (the metric sees the damage).
    let random: Vec<f64> = table.iter().filter(|t| t.0 == "random").map(|t| t.2.mean_correlation).collect();
    assert!(random[0] > random[3], "{random:?}");
}

#[test]
fn fec_rebuilds_most_isolated_losses() {
    // 10 % random loss, no jitter: most losses are single packets, which the next
    // packet's FEC copy rebuilds.
    let input = speech(10.0, 180.0);
    let profile = LinkProfile::clean(ONE_WAY).with_loss(Loss::Random(0.10));
    let mut call = Call::new(transport_only(), profile, profile, 5);
    call.run(&input, 50);
    let stats = call.b_stats();
    let lost = call.a_to_b.stats().lost;
    eprintln!(
        "FEC at 10 % random: {lost} audio+control lost, {} rebuilt by FEC, {} concealed",
        stats.fec_recoveries, stats.concealed_frames
    );
    assert!(stats.fec_recoveries as f64 >= 0.6 * lost as f64, "{} of {lost}", stats.fec_recoveries);
    // The sender learnt of the loss from B's reports and raised its FEC.
    let a = call.a.stats();
    assert!((6..=20).contains(&a.expected_loss_percent), "expected loss {}", a.expected_loss_percent);
    assert!((a.remote_loss_percent - 10.0).abs() < 8.0, "{a:?}");
}

#[test]
fn the_jitter_buffer_grows_under_jitter_and_shrinks_after() {
    let input = speech(24.0, 150.0);
    let jittery = LinkProfile::clean(ONE_WAY).with_jitter(Duration::from_millis(70));
    let mut call = Call::new(transport_only(), LinkProfile::clean(ONE_WAY), LinkProfile::clean(ONE_WAY), 9);
    let silence = [0.0; mocha_media::audio::BLOCK_SAMPLES];
    let mut delays = Vec::new();
    for (i, block) in input.chunks(mocha_media::audio::BLOCK_SAMPLES).enumerate() {
        match i {
            200 => call.a_to_b.set_profile(jittery),
            1000 => call.a_to_b.set_profile(LinkProfile::clean(ONE_WAY)),
            _ => {}
        }
        call.tick(block, &silence);
        delays.push(call.b_stats().buffer_ms);
    }
    let mean = |from: usize, to: usize| delays[from..to].iter().sum::<f32>() / (to - from) as f32;
    let (before, during, after) = (mean(100, 200), mean(800, 1000), mean(2200, 2400));
    let stats = call.b.jitter_stats();
    eprintln!(
        "jitter buffer: {before:.0} ms clean, {during:.0} ms under 0-70 ms jitter, {after:.0} ms 12 s after; \
         stretched {}, compressed {}, late {}",
        stats.stretched, stats.compressed, stats.late
    );
    assert!(before <= 40.0, "{before}");
    assert!(during >= before + 25.0 && during <= 140.0, "{during}");
    assert!(after <= 45.0, "{after}");
    // Under jitter the buffer kept nearly every packet (late ones are dropped).
    assert!(stats.late <= 20, "{} late of 400", stats.late);
    assert!(stats.compressed >= 2);
}

#[test]
fn round_trip_is_measured_and_bad_packets_are_counted_not_fatal() {
    let input = speech(3.0, 140.0);
    let mut call = Call::new(transport_only(), LinkProfile::clean(ONE_WAY), LinkProfile::clean(ONE_WAY), 3);
    call.run(&input[..RATE], 0);
    let now = call.now;
    for payload in [&b""[..], &[0xff; 1300][..], &[9, 9, 9][..], &[1, 1, 14, 0][..]] {
        let stream = if payload.len() == 4 || payload.len() == 3 { Stream::Control } else { Stream::Audio };
        call.b.receive(
            MediaPacket { stream, seq: 1, timestamp: 0, payload: bytes::Bytes::copy_from_slice(payload) },
            now,
        );
    }
    // An audio packet that is not Opus: counted, concealed, the call goes on.
    call.b.receive(
        MediaPacket {
            stream: Stream::Audio,
            seq: 2,
            timestamp: 0,
            payload: bytes::Bytes::from_static(&[0xff; 40]),
        },
        now,
    );
    call.run(&input[RATE..], 50);
    let a = call.a.stats();
    let b = call.b.stats();
    let rtt = a.round_trip_ms.unwrap();
    eprintln!("round trip {rtt:.1} ms over 2 x {} ms", ONE_WAY.as_millis());
    assert!((40.0..=55.0).contains(&rtt), "{rtt}");
    assert!(b.bad_packets >= 4, "{b:?}");
    let quality = quality(&input, &call.b_speaker, find_lag(&input[..RATE], &call.b_speaker, RATE / 4), 0.5);
    assert!(quality.usable > 0.9, "{quality:?}");
}
