//! MENP/1 codec: decoding and encoding the frames a busy server handles most —
//! presence pushes, chat messages, file chunks — and parsing chat payloads.

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mocha_proto::im::ImPayload;
use mocha_proto::{Frame, Limits, MessagePayload};
use std::hint::black_box;

fn chat_payload() -> Bytes {
    MessagePayload::text("hey, are we still on for lunch tomorrow? the new place on 5th street looks good")
        .with_header("X-MMS-IM-Format", "FN=Segoe%20UI; EF=B; CO=1f6feb")
        .to_bytes()
}

fn samples() -> Vec<(&'static str, Bytes)> {
    let msg = Frame::decode(
        &mut BytesMut::from(
            [
                b"MSG 0 u1234 Alice%20Smith ".as_slice(),
                chat_payload().len().to_string().as_bytes(),
                b"\r\n",
                &chat_payload(),
            ]
            .concat()
            .as_slice(),
        ),
        &Limits::default(),
    )
    .expect("valid")
    .expect("complete");
    let mut fil = BytesMut::from(b"FIL 0 u1234 t-42 65536 65536\r\n".as_slice());
    fil.extend_from_slice(&vec![7u8; 65536]);
    vec![
        ("NLN push", Bytes::from_static(b"NLN 0 BSY u1234 Alice%20Smith\r\n")),
        ("PNG", Bytes::from_static(b"PNG 17\r\n")),
        ("MSG chat (relayed)", msg.to_bytes()),
        ("FIL 64 KiB chunk", fil.freeze()),
    ]
}

fn codec(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("decode");
    for (name, bytes) in samples() {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut buf = BytesMut::from(bytes.as_ref());
                black_box(Frame::decode(&mut buf, &limits).expect("valid"))
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("encode");
    for (name, bytes) in samples() {
        let frame =
            Frame::decode(&mut BytesMut::from(bytes.as_ref()), &limits).expect("valid").expect("complete");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let mut out = BytesMut::with_capacity(bytes.len() + 64);
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                black_box(&frame).encode(&mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("typed");
    let nln = Frame::decode(&mut BytesMut::from(b"NLN 0 BSY u1234 Alice%20Smith\r\n".as_slice()), &limits)
        .expect("valid")
        .expect("complete");
    group.bench_function("parse NS NLN push", |b| {
        b.iter(|| black_box(mocha_proto::ns::ServerCommand::parse(nln.clone()).expect("valid")))
    });
    let payload = chat_payload();
    group.bench_function("parse chat payload (MessagePayload + ImPayload)", |b| {
        b.iter(|| {
            let message = MessagePayload::parse(payload.clone(), usize::MAX).expect("valid");
            black_box(ImPayload::parse(&message).expect("valid"))
        })
    });
    let text = ImPayload::Text {
        text: "hey, are we still on for lunch tomorrow?".into(),
        format: Default::default(),
    };
    group.bench_function("encode chat payload", |b| b.iter(|| black_box(text.to_message().to_bytes())));
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
