//! Switchboard commands against their exact wire form.

use bytes::{Bytes, BytesMut};
use mocha_proto::sb::{AckMode, ClientCommand, ServerCommand, client, server};
use mocha_proto::{ErrorCode, ErrorReply, Frame, Limits, MessagePayload, Out, OutReason, ParseError, Token};

fn frame(wire: &[u8]) -> Frame {
    let mut buf = BytesMut::from(wire);
    let frame = Frame::decode(&mut buf, &Limits::default());
    let frame = frame.expect("valid frame").expect("complete frame");
    assert!(buf.is_empty(), "one frame per test input");
    frame
}

fn t(s: &str) -> Token {
    Token::new(s).expect("valid token")
}

fn check_client(wire: &[u8], expected: Result<ClientCommand, ParseError>) {
    let got = ClientCommand::parse(frame(wire));
    assert_eq!(got, expected, "{}", String::from_utf8_lossy(wire));
    if let Ok(cmd) = got {
        assert_eq!(cmd.into_frame().to_bytes(), wire, "re-encode");
    }
}

fn check_server(wire: &[u8], expected: Result<ServerCommand, ParseError>) {
    let got = ServerCommand::parse(frame(wire));
    assert_eq!(got, expected, "{}", String::from_utf8_lossy(wire));
    if let Ok(cmd) = got {
        assert_eq!(cmd.into_frame().to_bytes(), wire, "re-encode");
    }
}

#[test]
fn client_commands() {
    use ClientCommand as C;
    check_client(b"USR 1 42 tk\r\n", Ok(C::Usr(client::Usr { trid: 1, user_id: t("42"), ticket: t("tk") })));
    check_client(
        b"ANS 2 42 tk r1\r\n",
        Ok(C::Ans(client::Ans { trid: 2, user_id: t("42"), ticket: t("tk"), room_id: t("r1") })),
    );
    check_client(b"CAL 3 bob\r\n", Ok(C::Cal(client::Cal { trid: 3, invitee: t("bob") })));
    check_client(
        b"MSG 4 A 5\r\n\r\nhey",
        Ok(C::Msg(client::Msg { trid: 4, ack: AckMode::Always, payload: Bytes::from_static(b"\r\nhey") })),
    );
    check_client(
        b"MSG 4 U 0\r\n",
        Ok(C::Msg(client::Msg { trid: 4, ack: AckMode::Unacknowledged, payload: Bytes::new() })),
    );
    check_client(
        b"MED 5 c1 2\r\n\0\x01",
        Ok(C::Med(client::Med { trid: 5, call_id: t("c1"), payload: Bytes::from_static(b"\0\x01") })),
    );
    check_client(
        b"FIL 6 f1 1024 1\r\nx",
        Ok(C::Fil(client::Fil {
            trid: 6,
            transfer_id: t("f1"),
            offset: 1024,
            payload: Bytes::from_static(b"x"),
        })),
    );
    check_client(b"OUT 7\r\n", Ok(C::Out(client::Out { trid: 7 })));
    check_client(b"VER 8\r\n", Ok(C::Unknown { command: mocha_proto::Command::VER, trid: 8 }));
}

#[test]
fn client_errors() {
    use ParseError::*;
    check_client(b"USR 1 42\r\n", Err(MissingArgument { index: 1 }));
    check_client(b"MSG 4 X 1\r\nx", Err(InvalidArgument { index: 0, expected: "AckMode" }));
    check_client(b"MSG 4 0\r\n", Err(MissingArgument { index: 0 }));
    check_client(b"FIL 6 f1 -1 0\r\n", Err(InvalidArgument { index: 1, expected: "u64" }));
    check_client(b"OUT 7 TMO\r\n", Err(ExtraArgument { index: 0 }));
}

#[test]
fn server_commands() {
    use ServerCommand as S;
    check_server(
        b"USR 1 OK 42 Al\r\n",
        Ok(S::Usr(server::Usr { trid: 1, user_id: t("42"), display_name: "Al".into() })),
    );
    check_server(
        b"IRO 2 1 2 43 Bo%20B\r\n",
        Ok(S::Iro(server::Iro {
            trid: 2,
            index: 1,
            count: 2,
            user_id: t("43"),
            display_name: "Bo B".into(),
        })),
    );
    check_server(b"ANS 2 OK\r\n", Ok(S::Ans(server::Ans { trid: 2 })));
    check_server(b"CAL 3 RINGING r1\r\n", Ok(S::Cal(server::Cal { trid: 3, room_id: t("r1") })));
    check_server(b"JOI 0 43 Bo\r\n", Ok(S::Joi(server::Joi { user_id: t("43"), display_name: "Bo".into() })));
    check_server(b"BYE 0 43\r\n", Ok(S::Bye(server::Bye { user_id: t("43"), reason: None })));
    check_server(b"BYE 0 43 TMO\r\n", Ok(S::Bye(server::Bye { user_id: t("43"), reason: Some(t("TMO")) })));
    check_server(
        b"MSG 0 42 Al 3\r\n\r\nx",
        Ok(S::Msg(server::Msg {
            sender_id: t("42"),
            sender_display_name: "Al".into(),
            payload: Bytes::from_static(b"\r\nx"),
        })),
    );
    check_server(b"ACK 4\r\n", Ok(S::Ack(server::Ack { trid: 4 })));
    check_server(b"NAK 4\r\n", Ok(S::Nak(server::Nak { trid: 4 })));
    check_server(
        b"MED 0 42 c1 1\r\n\xff",
        Ok(S::Med(server::Med {
            sender_id: t("42"),
            call_id: t("c1"),
            payload: Bytes::from_static(b"\xff"),
        })),
    );
    check_server(
        b"FIL 0 42 f1 0 2\r\nab",
        Ok(S::Fil(server::Fil {
            sender_id: t("42"),
            transfer_id: t("f1"),
            offset: 0,
            payload: Bytes::from_static(b"ab"),
        })),
    );
    check_server(
        b"ERR 5 211 ~\r\n",
        Ok(S::Err(ErrorReply { trid: 5, code: ErrorCode::NotInConversation, reason: String::new() })),
    );
    check_server(b"OUT 0 TMO\r\n", Ok(S::Out(Out { reason: OutReason::IdleTimeout })));
    check_server(b"QNG 6\r\n", Ok(S::Unknown { command: mocha_proto::Command::QNG, trid: 6 }));
}

#[test]
fn server_errors() {
    use ParseError::*;
    check_server(b"ANS 2 NO\r\n", Err(InvalidArgument { index: 0, expected: "OK" }));
    check_server(b"CAL 3 BUSY r1\r\n", Err(InvalidArgument { index: 0, expected: "RINGING" }));
    check_server(b"JOI 1 43 Bo\r\n", Err(NonZeroTrId));
    check_server(b"MSG 7 42 Al 0\r\n", Err(NonZeroTrId));
    check_server(b"IRO 2 1 x 43 Bo\r\n", Err(InvalidArgument { index: 1, expected: "u64" }));
    check_server(b"BYE 0 43 TMO x\r\n", Err(ExtraArgument { index: 2 }));
}

#[test]
fn message_payload_inside_msg() {
    let message = MessagePayload::text("hello there").with_header("X-Mocha-Typing", "0");
    let cmd = client::Msg { trid: 9, ack: AckMode::NakOnly, payload: message.to_bytes() };
    let got = ClientCommand::parse(frame(&cmd.clone().into_frame().to_bytes()));
    assert_eq!(got, Ok(ClientCommand::Msg(cmd.clone())));
    let parsed = MessagePayload::parse(cmd.payload, Limits::default().max_payload);
    assert_eq!(parsed.as_ref().map(|m| m.body_text()), Ok(Some("hello there")));
    assert_eq!(parsed, Ok(message));
}
