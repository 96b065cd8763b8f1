//! Property tests: every typed command survives encode → decode → parse, and arbitrary
//! input never panics the decoder or makes it buffer past the limits.

use bytes::{Bytes, BytesMut};
use mocha_proto::ns::{self, push};
use mocha_proto::sb;
use mocha_proto::{
    BanDetail, BanUntil, Command, ErrorCode, ErrorReply, Frame, FrameError, Limits, MessagePayload, Out,
    OutReason, Status, Token, decode_text, encode_text,
};
use proptest::prelude::*;

fn token() -> impl Strategy<Value = Token> {
    prop_oneof!["[a-z0-9:.]{1,8}", "[^ \\p{Cc}]{1,12}"]
        .prop_map(|s| Token::new(s).expect("strategy yields valid tokens"))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), Just("~".to_owned()), "[a-zA-Z ~%]{0,12}", any::<String>()]
}

fn payload() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..64).prop_map(Bytes::from)
}

fn trid() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0), 1..100u32, any::<u32>()]
}

fn settable_status() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.into_iter().filter(|s| s.is_settable()).collect::<Vec<_>>())
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![prop::sample::select(ErrorCode::ALL), any::<u16>().prop_map(ErrorCode::from_code)]
}

/// Any command name, biased towards real ones so the per-direction filters leave the
/// interesting cases: commands known elsewhere, some of them payload-bearing.
fn unknown_command() -> impl Strategy<Value = Command> {
    let known = prop::sample::select(vec![
        Command::MSG,
        Command::UUX,
        Command::SYN,
        Command::UPD,
        Command::FIL,
        Command::QNG,
        Command::VER,
        Command::IRO,
        Command::CON,
        Command::RNG,
        Command::RLY,
    ]);
    let any = "[A-Z]{3}".prop_map(|s| s.parse::<Command>().expect("three uppercase letters"));
    prop_oneof![known, any]
}

fn error_reply() -> impl Strategy<Value = ErrorReply> {
    (trid(), error_code(), text()).prop_map(|(trid, code, reason)| ErrorReply { trid, code, reason })
}

fn out() -> impl Strategy<Value = Out> {
    let until = prop_oneof![
        Just(BanUntil::Permanent),
        token().prop_filter("not the keyword", |t| t != "permanent").prop_map(BanUntil::Until),
    ];
    let ban = prop::option::of((until, text()).prop_map(|(until, reason)| BanDetail { until, reason }));
    prop_oneof![
        Just(OutReason::SignedInElsewhere),
        ban.prop_map(OutReason::Banned),
        Just(OutReason::AccountDeleted),
        Just(OutReason::ServerShutdown),
        Just(OutReason::IdleTimeout),
        Just(OutReason::TooSlow),
        Just(OutReason::SignInRevoked),
    ]
    .prop_map(|reason| Out { reason })
}

fn ns_client() -> impl Strategy<Value = ns::ClientCommand> {
    use ns::{ClientCommand as C, client::*};
    prop_oneof![
        (trid(), prop::collection::vec(token(), 1..4))
            .prop_map(|(trid, versions)| C::Ver(Ver { trid, versions })),
        (trid(), token()).prop_map(|(trid, token)| C::Usr(Usr { trid, token })),
        trid().prop_map(|trid| C::Syn(Syn { trid })),
        (trid(), settable_status()).prop_map(|(trid, status)| C::Chg(Chg { trid, status })),
        (trid(), any::<String>()).prop_map(|(trid, message)| C::Uux(Uux { trid, message })),
        (trid(), text()).prop_map(|(trid, display_name)| C::Prp(Prp { trid, display_name })),
        trid().prop_map(|trid| C::Xfr(Xfr { trid })),
        (trid(), token(), token()).prop_map(|(trid, channel, version)| C::Upd(Upd {
            trid,
            channel,
            version
        })),
        trid().prop_map(|trid| C::Png(Png { trid })),
        trid().prop_map(|trid| C::Out(Out { trid })),
        (unknown_command(), trid())
            .prop_filter("unknown only", |(c, _)| !matches!(
                c.as_str(),
                "VER" | "USR" | "SYN" | "CHG" | "UUX" | "PRP" | "XFR" | "UPD" | "PNG" | "OUT"
            ))
            .prop_map(|(command, trid)| C::Unknown { command, trid }),
    ]
}

fn ns_server() -> impl Strategy<Value = ns::ServerCommand> {
    use ns::{ServerCommand as S, server::*};
    let replies = prop_oneof![
        (trid(), token()).prop_map(|(trid, version)| S::Ver(Ver { trid, version })),
        (trid(), token(), token(), text()).prop_map(|(trid, user_id, username, display_name)| {
            S::Usr(Usr { trid, user_id, username, display_name })
        }),
        (trid(), payload()).prop_map(|(trid, payload)| S::Syn(Syn { trid, payload })),
        (trid(), settable_status()).prop_map(|(trid, status)| S::Chg(Chg { trid, status })),
        trid().prop_map(|trid| S::Uux(Uux { trid })),
        (trid(), text()).prop_map(|(trid, display_name)| S::Prp(Prp { trid, display_name })),
        (trid(), token(), token()).prop_map(|(trid, address, ticket)| S::Xfr(Xfr { trid, address, ticket })),
        (trid(), payload()).prop_map(|(trid, payload)| S::Upd(Upd { trid, payload })),
        (trid(), any::<u32>()).prop_map(|(trid, seconds)| S::Qng(Qng { trid, seconds })),
        error_reply().prop_map(S::Err),
    ];
    let pushes =
        prop_oneof![
            (settable_status(), token(), text()).prop_map(|(status, user_id, display_name)| S::Nln(
                push::Nln { status, user_id, display_name }
            )),
            token().prop_map(|user_id| S::Fln(push::Fln { user_id })),
            (token(), any::<String>()).prop_map(|(user_id, message)| S::Ubx(push::Ubx { user_id, message })),
            payload().prop_map(|payload| S::Con(push::Con { payload })),
            any::<String>().prop_map(|text| S::Not(push::Not { text })),
            (token(), token(), token(), token(), token(), text()).prop_map(
                |(room_id, address, ticket, caller_id, caller_username, caller_display_name)| {
                    S::Rng(push::Rng {
                        room_id,
                        address,
                        ticket,
                        caller_id,
                        caller_username,
                        caller_display_name,
                    })
                }
            ),
            out().prop_map(S::Out),
            (unknown_command(), trid())
                .prop_filter("unknown only", |(c, _)| !matches!(
                    c.as_str(),
                    "VER"
                        | "USR"
                        | "SYN"
                        | "CHG"
                        | "UUX"
                        | "PRP"
                        | "XFR"
                        | "UPD"
                        | "QNG"
                        | "NLN"
                        | "FLN"
                        | "UBX"
                        | "CON"
                        | "NOT"
                        | "RNG"
                        | "OUT"
                        | "ERR"
                ))
                .prop_map(|(command, trid)| S::Unknown { command, trid }),
        ];
    prop_oneof![replies, pushes]
}

fn sb_client() -> impl Strategy<Value = sb::ClientCommand> {
    use sb::{ClientCommand as C, client::*};
    let ack = prop::sample::select(vec![AckMode::Unacknowledged, AckMode::NakOnly, AckMode::Always]);
    prop_oneof![
        (trid(), token(), token()).prop_map(|(trid, user_id, ticket)| C::Usr(Usr { trid, user_id, ticket })),
        (trid(), token(), token(), token()).prop_map(|(trid, user_id, ticket, room_id)| C::Ans(Ans {
            trid,
            user_id,
            ticket,
            room_id
        })),
        (trid(), token()).prop_map(|(trid, invitee)| C::Cal(Cal { trid, invitee })),
        (trid(), ack, payload()).prop_map(|(trid, ack, payload)| C::Msg(Msg { trid, ack, payload })),
        (trid(), token(), payload()).prop_map(|(trid, call_id, payload)| C::Med(Med {
            trid,
            call_id,
            payload
        })),
        (trid(), token(), any::<u64>(), payload()).prop_map(|(trid, transfer_id, offset, payload)| C::Fil(
            Fil { trid, transfer_id, offset, payload }
        )),
        trid().prop_map(|trid| C::Out(Out { trid })),
        (unknown_command(), trid())
            .prop_filter("unknown only", |(c, _)| !matches!(
                c.as_str(),
                "USR" | "ANS" | "CAL" | "MSG" | "MED" | "FIL" | "OUT"
            ))
            .prop_map(|(command, trid)| C::Unknown { command, trid }),
    ]
}

fn sb_server() -> impl Strategy<Value = sb::ServerCommand> {
    use sb::{ServerCommand as S, server::*};
    prop_oneof![
        (trid(), token(), text()).prop_map(|(trid, user_id, display_name)| S::Usr(Usr {
            trid,
            user_id,
            display_name
        })),
        (trid(), any::<u32>(), any::<u32>(), token(), text()).prop_map(
            |(trid, index, count, user_id, display_name)| {
                S::Iro(Iro { trid, index, count, user_id, display_name })
            }
        ),
        trid().prop_map(|trid| S::Ans(Ans { trid })),
        (trid(), token()).prop_map(|(trid, room_id)| S::Cal(Cal { trid, room_id })),
        (token(), text()).prop_map(|(user_id, display_name)| S::Joi(Joi { user_id, display_name })),
        (token(), prop::option::of(token())).prop_map(|(user_id, reason)| S::Bye(Bye { user_id, reason })),
        (token(), text(), payload()).prop_map(|(sender_id, sender_display_name, payload)| {
            S::Msg(Msg { sender_id, sender_display_name, payload })
        }),
        trid().prop_map(|trid| S::Ack(Ack { trid })),
        trid().prop_map(|trid| S::Nak(Nak { trid })),
        (token(), token(), payload()).prop_map(|(sender_id, call_id, payload)| S::Med(Med {
            sender_id,
            call_id,
            payload
        })),
        (token(), token(), any::<u64>(), payload()).prop_map(|(sender_id, transfer_id, offset, payload)| {
            S::Fil(Fil { sender_id, transfer_id, offset, payload })
        }),
        (token(), token(), any::<u32>(), token(), token()).prop_map(
            |(call_id, relay, member_id, bind_token, media_key)| S::Rly(Rly {
                call_id,
                relay,
                member_id,
                bind_token,
                media_key
            })
        ),
        error_reply().prop_map(S::Err),
        out().prop_map(S::Out),
        (unknown_command(), trid())
            .prop_filter("unknown only", |(c, _)| !matches!(
                c.as_str(),
                "USR"
                    | "RLY"
                    | "IRO"
                    | "ANS"
                    | "CAL"
                    | "JOI"
                    | "BYE"
                    | "MSG"
                    | "ACK"
                    | "NAK"
                    | "MED"
                    | "FIL"
                    | "ERR"
                    | "OUT"
            ))
            .prop_map(|(command, trid)| S::Unknown { command, trid }),
    ]
}

/// Encodes `frame`, then decodes it back, split at `split` to exercise `Incomplete`.
fn wire_round_trip(frame: &Frame, split: prop::sample::Index) -> Frame {
    let bytes = frame.to_bytes();
    let split = split.index(bytes.len());
    let limits = Limits::default();
    let mut buf = BytesMut::from(&bytes[..split]);
    assert_eq!(Frame::decode(&mut buf, &limits), Ok(None), "prefix of {frame}");
    buf.extend_from_slice(&bytes[split..]);
    let decoded = Frame::decode(&mut buf, &limits).expect("valid").expect("complete");
    assert!(buf.is_empty());
    decoded
}

proptest! {
    #[test]
    fn ns_client_round_trip(cmd in ns_client(), split: prop::sample::Index) {
        let frame = wire_round_trip(&cmd.clone().into_frame(), split);
        prop_assert_eq!(ns::ClientCommand::parse(frame), Ok(cmd));
    }

    #[test]
    fn ns_server_round_trip(cmd in ns_server(), split: prop::sample::Index) {
        let frame = wire_round_trip(&cmd.clone().into_frame(), split);
        prop_assert_eq!(ns::ServerCommand::parse(frame), Ok(cmd));
    }

    #[test]
    fn sb_client_round_trip(cmd in sb_client(), split: prop::sample::Index) {
        let frame = wire_round_trip(&cmd.clone().into_frame(), split);
        prop_assert_eq!(sb::ClientCommand::parse(frame), Ok(cmd));
    }

    #[test]
    fn sb_server_round_trip(cmd in sb_server(), split: prop::sample::Index) {
        let frame = wire_round_trip(&cmd.clone().into_frame(), split);
        prop_assert_eq!(sb::ServerCommand::parse(frame), Ok(cmd));
    }

    #[test]
    fn text_round_trip(s in any::<String>()) {
        let wire = encode_text(&s);
        prop_assert!(Token::new(wire.clone()).is_ok());
        prop_assert!(wire.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._%~".contains(&b)));
        prop_assert_eq!(decode_text(&wire), Ok(s));
    }

    #[test]
    fn message_round_trip(
        headers in prop::collection::vec(("[!-9;-~]{1,10}", "[^\\p{Cc}]{0,10}"), 0..4),
        body in payload(),
    ) {
        let message = MessagePayload { headers, body };
        prop_assert_eq!(MessagePayload::parse(message.to_bytes(), 1024), Ok(message));
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..300)) {
        decode_all(&input);
    }

    #[test]
    fn frame_like_bytes_never_panic(
        pieces in prop::collection::vec(
            prop_oneof![
                "[A-Z]{3} [0-9]{1,3}( [a-zA-Z0-9~%]{0,4}){0,4}\r\n",
                "(UUX|MSG|SYN|UPD|FIL|MED|UBX) 0( [0-9]{1,3}){1,3}\r\n",
                prop::collection::vec(any::<u8>(), 0..8).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            ],
            0..8,
        )
    ) {
        decode_all(pieces.concat().as_bytes());
    }

    #[test]
    fn oversize_line_is_rejected_early(line in "[A-Z ]{41,200}") {
        let limits = Limits { max_line: 40, max_payload: 100 };
        let mut buf = BytesMut::from(line.as_bytes());
        prop_assert_eq!(Frame::decode(&mut buf, &limits), Err(FrameError::LineTooLong));
    }

    #[test]
    fn oversize_payload_is_rejected_before_it_arrives(len in 101usize..10_000_000) {
        let limits = Limits { max_line: 40, max_payload: 100 };
        let mut buf = BytesMut::from(format!("MSG 1 A {len}\r\n").as_bytes());
        prop_assert_eq!(Frame::decode(&mut buf, &limits), Err(FrameError::PayloadTooLarge));
    }
}

/// Decodes frames until the input runs out or fails, checking the limits hold and feeding
/// every frame to every typed parser.
fn decode_all(input: &[u8]) {
    let limits = Limits { max_line: 64, max_payload: 32 };
    let mut buf = BytesMut::from(input);
    loop {
        let before = buf.len();
        match Frame::decode(&mut buf, &limits) {
            Ok(Some(frame)) => {
                assert!(buf.len() < before, "progress");
                assert!(frame.to_string().len() <= limits.max_line + 16);
                assert!(frame.payload.as_ref().is_none_or(|p| p.len() <= limits.max_payload));
                let _ = ns::ClientCommand::parse(frame.clone());
                let _ = ns::ServerCommand::parse(frame.clone());
                let _ = sb::ClientCommand::parse(frame.clone());
                let _ = sb::ServerCommand::parse(frame);
            }
            Ok(None) => {
                // Waiting for more is only allowed while a frame within limits could still fit.
                assert!(buf.len() < limits.max_line + 2 + limits.max_payload);
                assert_eq!(buf.len(), before);
                break;
            }
            Err(_) => break,
        }
    }
}
