//! Notification Server commands against their exact wire form.

use bytes::{Bytes, BytesMut};
use mocha_proto::ns::{ClientCommand, ServerCommand, client, push, server};
use mocha_proto::{
    BanDetail, BanUntil, Command, ErrorCode, ErrorReply, Frame, Limits, Out, OutReason, ParseError, Status,
    Token,
};

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

/// Parses `wire` as a client command; a successful parse must re-encode to `wire`.
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
    check_client(b"VER 1 MENP1\r\n", Ok(C::Ver(client::Ver { trid: 1, versions: vec![t("MENP1")] })));
    check_client(
        b"VER 1 MENP2 MENP1\r\n",
        Ok(C::Ver(client::Ver { trid: 1, versions: vec![t("MENP2"), t("MENP1")] })),
    );
    check_client(b"USR 2 TOKEN abc.def\r\n", Ok(C::Usr(client::Usr { trid: 2, token: t("abc.def") })));
    check_client(b"SYN 3\r\n", Ok(C::Syn(client::Syn { trid: 3 })));
    check_client(b"CHG 4 AWY\r\n", Ok(C::Chg(client::Chg { trid: 4, status: Status::Away })));
    check_client(b"UUX 5 3\r\nhi!", Ok(C::Uux(client::Uux { trid: 5, message: "hi!".into() })));
    check_client(b"UUX 5 0\r\n", Ok(C::Uux(client::Uux { trid: 5, message: String::new() })));
    check_client(
        b"PRP 6 MFN Al%20%F0%9F%99%82\r\n",
        Ok(C::Prp(client::Prp { trid: 6, display_name: "Al 🙂".into() })),
    );
    check_client(b"XFR 7 SB\r\n", Ok(C::Xfr(client::Xfr { trid: 7 })));
    check_client(
        b"UPD 8 stable 0.1.0\r\n",
        Ok(C::Upd(client::Upd { trid: 8, channel: t("stable"), version: t("0.1.0") })),
    );
    check_client(b"PNG 9\r\n", Ok(C::Png(client::Png { trid: 9 })));
    check_client(b"OUT 10\r\n", Ok(C::Out(client::Out { trid: 10 })));
}

#[test]
fn client_unknown_commands_parse() {
    check_client(
        b"ZAP 11\r\n",
        Ok(ClientCommand::Unknown { command: "ZAP".parse().expect("cmd"), trid: 11 }),
    );
    // Arguments of unknown commands are dropped; the server only needs the trid.
    let got = ClientCommand::parse(frame(b"QNG 12 a b\r\n"));
    assert_eq!(got, Ok(ClientCommand::Unknown { command: Command::QNG, trid: 12 }));
}

#[test]
fn client_errors() {
    use ParseError::*;
    check_client(b"VER 1\r\n", Err(MissingArgument { index: 0 }));
    check_client(b"USR 2 PASSWORD x\r\n", Err(InvalidArgument { index: 0, expected: "TOKEN" }));
    check_client(b"USR 2 TOKEN\r\n", Err(MissingArgument { index: 1 }));
    check_client(b"SYN 3 5\r\nabcde", Err(UnexpectedPayload));
    check_client(b"CHG 4 FLN\r\n", Err(InvalidArgument { index: 0, expected: "settable status" }));
    check_client(b"CHG 4 IDL\r\n", Err(InvalidArgument { index: 0, expected: "settable status" }));
    check_client(b"UUX 5 1\r\n\xff", Err(PayloadNotUtf8));
    check_client(b"UUX 5 x 0\r\n", Err(ExtraArgument { index: 0 }));
    check_client(
        b"PRP 6 MFN %zz\r\n",
        Err(BadText { index: 1, source: mocha_proto::TextError::InvalidEscape { at: 0 } }),
    );
    check_client(b"XFR 7 NS\r\n", Err(InvalidArgument { index: 0, expected: "SB" }));
    check_client(b"UPD 8 stable 1 x\r\n", Err(ExtraArgument { index: 2 }));
    // One argument is the server's payload form, so a truncated client UPD is a framing error.
    let mut buf = BytesMut::from(&b"UPD 8 stable\r\n"[..]);
    assert_eq!(Frame::decode(&mut buf, &Limits::default()), Err(mocha_proto::FrameError::BadLength));
    check_client(b"PNG 9 x\r\n", Err(ExtraArgument { index: 0 }));
    assert_eq!(ExtraArgument { index: 0 }.error_code(), ErrorCode::SyntaxError);
    assert_eq!(PayloadNotUtf8.error_code(), ErrorCode::InvalidArgument);
}

#[test]
fn server_replies() {
    use ServerCommand as S;
    check_server(b"VER 1 MENP1\r\n", Ok(S::Ver(server::Ver { trid: 1, version: t("MENP1") })));
    check_server(
        b"USR 2 OK 42 alice Alice%20A\r\n",
        Ok(S::Usr(server::Usr {
            trid: 2,
            user_id: t("42"),
            username: t("alice"),
            display_name: "Alice A".into(),
        })),
    );
    check_server(b"SYN 3 2\r\n{}", Ok(S::Syn(server::Syn { trid: 3, payload: Bytes::from_static(b"{}") })));
    check_server(b"CHG 4 HDN\r\n", Ok(S::Chg(server::Chg { trid: 4, status: Status::Hidden })));
    check_server(b"UUX 5 0\r\n", Ok(S::Uux(server::Uux { trid: 5 })));
    check_server(b"PRP 6 MFN ~\r\n", Ok(S::Prp(server::Prp { trid: 6, display_name: String::new() })));
    check_server(
        b"XFR 7 SB sb.example:1864 t1ck3t\r\n",
        Ok(S::Xfr(server::Xfr { trid: 7, address: t("sb.example:1864"), ticket: t("t1ck3t") })),
    );
    check_server(b"UPD 8 2\r\n[]", Ok(S::Upd(server::Upd { trid: 8, payload: Bytes::from_static(b"[]") })));
    check_server(b"QNG 9 60\r\n", Ok(S::Qng(server::Qng { trid: 9, seconds: 60 })));
    check_server(
        b"ERR 10 913 banned%20for%20spam\r\n",
        Ok(S::Err(ErrorReply { trid: 10, code: ErrorCode::AccountBanned, reason: "banned for spam".into() })),
    );
}

#[test]
fn server_pushes() {
    use ServerCommand as S;
    check_server(
        b"NLN 0 BRB 42 Al\r\n",
        Ok(S::Nln(push::Nln { status: Status::BeRightBack, user_id: t("42"), display_name: "Al".into() })),
    );
    check_server(b"FLN 0 42\r\n", Ok(S::Fln(push::Fln { user_id: t("42") })));
    check_server(b"UBX 0 42 2\r\nyo", Ok(S::Ubx(push::Ubx { user_id: t("42"), message: "yo".into() })));
    check_server(b"CON 0 2\r\n{}", Ok(S::Con(push::Con { payload: Bytes::from_static(b"{}") })));
    check_server(b"NOT 0 4\r\nbye!", Ok(S::Not(push::Not { text: "bye!".into() })));
    check_server(
        b"RNG 0 r1 sb:1 tk 42 alice Alice\r\n",
        Ok(S::Rng(push::Rng {
            room_id: t("r1"),
            address: t("sb:1"),
            ticket: t("tk"),
            caller_id: t("42"),
            caller_username: t("alice"),
            caller_display_name: "Alice".into(),
        })),
    );
    check_server(
        b"OUT 0 BAN permanent ~\r\n",
        Ok(S::Out(Out {
            reason: OutReason::Banned(Some(BanDetail { until: BanUntil::Permanent, reason: String::new() })),
        })),
    );
    check_server(b"OUT 0 SSD\r\n", Ok(S::Out(Out { reason: OutReason::ServerShutdown })));
    check_server(b"ZZZ 0\r\n", Ok(S::Unknown { command: "ZZZ".parse().expect("cmd"), trid: 0 }));
}

#[test]
fn server_errors() {
    use ParseError::*;
    check_server(b"USR 2 NO 42 alice Al\r\n", Err(InvalidArgument { index: 0, expected: "OK" }));
    check_server(b"SYN 3\r\n", Err(MissingPayload));
    check_server(b"UUX 5 1\r\nx", Err(UnexpectedPayload));
    check_server(b"QNG 9 -1\r\n", Err(InvalidArgument { index: 0, expected: "u64" }));
    check_server(b"NLN 1 NLN 42 Al\r\n", Err(NonZeroTrId));
    check_server(b"NLN 0 FLN 42 Al\r\n", Err(InvalidArgument { index: 0, expected: "settable status" }));
    check_server(b"NOT 0 1\r\n\xc3", Err(PayloadNotUtf8));
    check_server(b"RNG 0 r1 sb:1 tk 42 alice\r\n", Err(MissingArgument { index: 5 }));
}
