//! The MSNP gateway line by line, as an MSNP8 client (MSN Messenger 6) speaks it: the
//! Passport 1.4 nexus and login over plain HTTP, `VER`/`CVR`/`USR TWN`, the contact list
//! from `SYN`, a switchboard conversation with a Mocha Messenger user (`XFR SB`, `USR`,
//! `CAL`, `JOI`, `MSG` with each ack type, `BYE`), and the answers to what is wrong,
//! early, unknown or too long.

mod client_support;
mod common;
mod msnp_support;

use client_support::{in_conversation, ring, text_from};
use mocha_client::ConversationEvent;
use mocha_client::api::BanRequest;
use mocha_client::proto::im::TextFormat;
use msnp_support::{Raw, header, http_get, raw_online, text_payload, ticket};

#[tokio::test]
async fn the_nexus_names_the_login_and_the_login_checks_the_password() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await;

    let (status, headers) = http_get(&t, "/rdr/pprdr.asp", None).await;
    assert_eq!(status, 200);
    let login = format!("DALogin=http://localhost:{}/login.srf", msnp_support::http_port(&t));
    assert_eq!(header(&headers, "passporturls"), Some(login.as_str()));

    let wrong = "Passport1.4 OrgVerb=GET,sign-in=ann%40example.com,pwd=wrong,lc=1033";
    let (status, headers) = http_get(&t, "/login.srf", Some(wrong)).await;
    assert_eq!(status, 401);
    assert_eq!(header(&headers, "www-authenticate"), Some("Passport1.4 da-status=failed"));
    assert_eq!(header(&headers, "authentication-info"), None);
    let (status, _) = http_get(&t, "/login.srf", None).await;
    assert_eq!(status, 400, "no credentials at all");

    let ticket = ticket(&t, "ann%40example.com", &ann.password).await;
    assert!(ticket.starts_with("t=") && ticket.ends_with("&p="), "{ticket}");

    // The sign-in rate limit is Passport's own: the account is locked after its attempts.
    let limit = t.config.sign_in_attempts_per_account;
    let mut last = 0;
    for _ in 0..limit {
        last = http_get(&t, "/login.srf", Some(wrong)).await.0;
    }
    assert_eq!(last, 429, "past {limit} attempts the login says to wait");
}

#[tokio::test]
async fn an_msnp8_client_signs_in_and_gets_its_list() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await;
    let bob = t.user("bob").await;
    let carol = t.user("carol").await;
    let dave = t.user("dave").await;
    t.befriend(&ann, &bob).await;
    t.passport.block(ann.token(), carol.account.id).await.expect("block");
    t.passport.request_contact(dave.token(), "ann@example.com", None).await.expect("request");

    let mut ns = Raw::connect(&t).await;
    assert_eq!(ns.ask("SYN 1 0").await, "715 1", "nothing but VER before VER");
    assert_eq!(ns.ask("VER 2 MSNP8 CVR0").await, "VER 2 MSNP8 CVR0");
    assert_eq!(
        ns.ask("CVR 3 0x0409 win 4.10 i386 MSNMSGR 6.0.0602 MSMSGS ann@example.com").await,
        "CVR 3 6.0.0602 6.0.0602 6.0.0602 http://localhost/ http://localhost/"
    );
    assert_eq!(ns.ask("SYN 4 0").await, "715 4", "not signed in yet");
    let challenge = ns.ask("USR 5 TWN I ann@example.com").await;
    assert!(challenge.starts_with("USR 5 TWN S lc=1033,id=507,"), "{challenge}");
    let ticket = ticket(&t, "ann@example.com", &ann.password).await;
    assert_eq!(ns.ask(&format!("USR 6 TWN S {ticket}")).await, "USR 6 OK ann@example.com Ann 1 0");

    ns.send("SYN 7 0").await;
    let mut list = Vec::new();
    for _ in 0..7 {
        list.push(ns.line().await.expect("a SYN line"));
    }
    assert_eq!(
        list,
        [
            "SYN 7 1 3 1",
            "GTC A",
            "BLP BL",
            "LSG 0 Other%20Contacts 0",
            "LST bob@example.com Bob 11 0",  // FL AL RL, in group 0
            "LST carol@example.com Carol 4", // BL
            "LST dave@example.com Dave 8",   // RL: asked to be ann's contact
        ]
    );

    // Wrong, unknown or not-offered commands get an error code and the session goes on.
    assert_eq!(ns.ask("FOO 8 bar").await, "200 8");
    assert_eq!(ns.ask("CHG 9 FLN 0").await, "201 9", "nobody can choose offline");
    assert_eq!(ns.ask("ADG 10 Friends 0").await, "502 10", "groups stay on the client");
    assert_eq!(ns.ask("USR 11 TWN I ann@example.com").await, "207 11");
    ns.send_bytes(b"UUX 12 5\r\nhello").await;
    assert_eq!(ns.line().await.as_deref(), Some("200 12"), "no personal messages before MSNP11");
    ns.send_bytes(b"CHG \xff\xfe\r\n").await;
    assert_eq!(ns.line().await.as_deref(), Some("200 0"), "a line that is not text");
    assert_eq!(ns.ask("PNG").await, "QNG 90");
    assert_eq!(ns.ask("CHG 13 NLN 0").await, "CHG 13 NLN 0");
    assert_eq!(ns.ask("REA 14 ann@example.com Ann%20Smith").await, "REA 14 1 ann@example.com Ann%20Smith");
    assert_eq!(t.server.passport.account(ann.account.id).await.unwrap().display_name, "Ann Smith");

    // A line past the limit ends the connection; nothing else is touched.
    let mut other = Raw::connect(&t).await;
    assert_eq!(other.ask("VER 1 MSNP9 MSNP8 CVR0").await, "VER 1 MSNP9 CVR0");
    other.send(&"X".repeat(5000)).await;
    assert_eq!(other.closed().await, ["OUT"]);
    assert_eq!(ns.ask("PNG").await, "QNG 90", "the other session is unharmed");
    ns.send("OUT").await;
    assert!(ns.closed().await.is_empty());
}

#[tokio::test]
async fn sign_in_is_refused_with_a_bad_ticket_or_another_accounts() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await;
    let bob = t.user("bob").await;

    let mut ns = Raw::connect(&t).await;
    assert_eq!(ns.ask("VER 1 MSNP7 CVR0").await, "VER 1 0", "MSNP7 is too old");
    assert!(ns.closed().await.is_empty());

    let mut ns = Raw::connect(&t).await;
    ns.ask("VER 1 MSNP11 CVR0").await;
    ns.ask("USR 2 TWN I ann@example.com").await;
    assert_eq!(ns.ask("USR 3 TWN S t=forged&p=").await, "911 3");
    assert!(ns.closed().await.is_empty());

    // Bob's ticket does not sign in as ann.
    let bobs = ticket(&t, "bob@example.com", &bob.password).await;
    let mut ns = Raw::connect(&t).await;
    ns.ask("VER 1 MSNP11 CVR0").await;
    ns.ask("USR 2 TWN I ann@example.com").await;
    assert_eq!(ns.ask(&format!("USR 3 TWN S {bobs}")).await, "911 3");
    assert!(ns.closed().await.is_empty());
    assert_eq!(t.server.notification.online_users(), 0);

    // MSNP11 names no display name in USR OK; it comes with the list.
    let anns = ticket(&t, "ann@example.com", &ann.password).await;
    let mut ns = Raw::connect(&t).await;
    ns.ask("VER 1 MSNP11 CVR0").await;
    ns.ask("USR 2 TWN I ann@example.com").await;
    assert_eq!(ns.ask(&format!("USR 3 TWN S {anns}")).await, "USR 3 OK ann@example.com 1 0");
}

#[tokio::test]
async fn an_msnp8_client_chats_through_the_switchboard_line_by_line() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await; // MSN Messenger 6, by hand
    let bob = t.user("bob").await; // Mocha Messenger
    t.befriend(&ann, &bob).await;
    let (menp, mut bob_events) = client_support::connect(&t, &bob).await;
    let mut ns = raw_online(&t, &ann, "MSNP8").await;

    let xfr = ns.ask("XFR 5 SB").await;
    let parts: Vec<&str> = xfr.split(' ').collect();
    let address = format!("localhost:{}", msnp_support::switchboard_port(&t));
    assert_eq!(parts[..5], ["XFR", "5", "SB", address.as_str(), "CKI"], "{xfr}");
    let cki = parts[5].to_string();
    assert_eq!(ns.ask("XFR 6 NS").await, "201 6", "no dispatch redirects");

    let mut sb = Raw::switchboard(&t).await;
    sb.send_msg(1, "A", &text_payload("too early")).await;
    assert_eq!(sb.line().await.as_deref(), Some("715 1"), "nothing before joining");
    assert_eq!(sb.ask("USR 2 ann@example.com forged").await, "911 2");
    assert_eq!(sb.ask(&format!("USR 3 bob@example.com {cki}")).await, "911 3", "the ticket is ann's alone");
    assert_eq!(sb.ask(&format!("USR 4 ann@example.com {cki}")).await, "USR 4 OK ann@example.com Ann");
    assert_eq!(sb.ask(&format!("USR 5 ann@example.com {cki}")).await, "207 5", "already in");

    assert_eq!(sb.ask("CAL 6 nobody@example.com").await, "208 6");
    let rung = sb.ask("CAL 7 bob@example.com").await;
    assert!(rung.starts_with("CAL 7 RINGING "), "{rung}");
    let bobs_ring = bob_events.expect(ring).await;
    assert_eq!(rung, format!("CAL 7 RINGING {}", bobs_ring.room), "one room, one id on both protocols");
    let conversation = menp.answer(&bobs_ring).await.expect("ANS on MENP");
    assert_eq!(sb.line().await.as_deref(), Some("JOI bob@example.com Bob"));
    assert_eq!(sb.ask("CAL 8 bob@example.com").await, "215 8", "already here");

    // N: no answer when it was delivered; A: ACK; U: never an answer.
    sb.send_msg(9, "N", &text_payload("hello in N mode")).await;
    sb.send_msg(10, "A", &text_payload("hello in A mode")).await;
    assert_eq!(sb.line().await.as_deref(), Some("ACK 10"), "N mode said nothing when delivered");
    let typing = "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: mallory@example.com\r\n\r\n\r\n";
    sb.send_msg(11, "U", typing).await;
    for expected in ["hello in N mode", "hello in A mode"] {
        let text = bob_events.expect(text_from(conversation.id(), ann.account.id)).await;
        assert_eq!(text, expected);
    }
    bob_events
        .expect(in_conversation(conversation.id(), |e| match e {
            // Whatever TypingUser the client claimed, it is ann who is typing.
            ConversationEvent::Typing { from } => (from.user_id == ann.account.id).then_some(()),
            _ => None,
        }))
        .await;

    // Mocha → MSNP8: `MSG <handle> <name> <len>`, MIME-Version first, the font in MSN's terms.
    let format =
        TextFormat { font: Some("Comic Sans MS".into()), color: Some("0000ff".into()), effects: "BU".into() };
    conversation.send_formatted("blue, bold, underlined", format).await.unwrap();
    let head = sb.line().await.expect("MSG");
    let length: usize = head.rsplit(' ').next().unwrap().parse().unwrap();
    assert_eq!(head, format!("MSG bob@example.com Bob {length}"));
    assert_eq!(
        sb.payload(length).await,
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Comic%20Sans%20MS; EF=BU; CO=ff0000; CS=0; PF=0\r\n\r\nblue, bold, underlined"
    );

    // Refusals leave the conversation going: a bad ack type, an unknown command, text
    // over the switchboard's text limit (8 KiB), a payload that is not one.
    sb.send_msg(12, "X", &text_payload("?")).await;
    assert_eq!(sb.line().await.as_deref(), Some("201 12"));
    assert_eq!(sb.ask("FOO 13 bar").await, "200 13");
    sb.send_msg(14, "A", &text_payload(&"x".repeat(9000))).await;
    assert_eq!(sb.line().await.as_deref(), Some("282 14"), "too long for a message");
    sb.send_msg(15, "A", "no headers").await;
    assert_eq!(sb.line().await.as_deref(), Some("282 15"));

    // Bob leaves: BYE; text said now reaches nobody (NAK in N and A mode) and becomes
    // an activity alert for him.
    conversation.leave().await;
    assert_eq!(sb.line().await.as_deref(), Some("BYE bob@example.com"));
    sb.send_msg(16, "N", &text_payload("still there?")).await;
    assert_eq!(sb.line().await.as_deref(), Some("NAK 16"));
    let alerts = t.passport.poll_alerts(bob.token()).await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].text, "still there?");

    // A payload past the line protocol's limit (64 KiB) ends this connection only.
    sb.send_bytes(format!("MSG 17 A {}\r\n", 70_000).as_bytes()).await;
    assert_eq!(sb.closed().await, ["OUT"]);
    assert_eq!(ns.ask("PNG").await, "QNG 90", "the Notification Server session is unharmed");

    // OUT leaves cleanly; a second connection may join the same room with the ticket.
    let mut again = Raw::switchboard(&t).await;
    assert_eq!(again.ask(&format!("USR 1 ann@example.com {cki}")).await, "USR 1 OK ann@example.com Ann");
    again.send("OUT").await;
    assert!(again.closed().await.is_empty());
}

#[tokio::test]
async fn a_classic_client_is_rung_into_a_mocha_room_and_answers() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await;
    let bob = t.user("bob").await;
    t.befriend(&ann, &bob).await;
    let (menp, mut bob_events) = client_support::connect(&t, &bob).await;
    let mut ns = raw_online(&t, &ann, "MSNP8").await;

    let conversation = menp.start_conversation("ann@example.com").await.expect("a MENP room, ann invited");
    let rng = loop {
        let line = ns.line().await.expect("RNG");
        if line.starts_with("RNG ") {
            break line;
        }
    };
    let parts: Vec<&str> = rng.split(' ').collect();
    let address = format!("localhost:{}", msnp_support::switchboard_port(&t));
    assert_eq!(
        (parts[2], parts[3], parts[5], parts[6]),
        (address.as_str(), "CKI", "bob@example.com", "Bob"),
        "{rng}"
    );
    let (room, cki) = (parts[1], parts[4]);

    let mut sb = Raw::switchboard(&t).await;
    assert_eq!(sb.ask(&format!("ANS 1 ann@example.com {cki} someone-elses-room")).await, "911 1");
    sb.send(&format!("ANS 2 ann@example.com {cki} {room}")).await;
    assert_eq!(sb.line().await.as_deref(), Some("IRO 2 1 1 bob@example.com Bob"));
    assert_eq!(sb.line().await.as_deref(), Some("ANS 2 OK"));
    bob_events
        .expect(in_conversation(conversation.id(), |e| match e {
            ConversationEvent::Joined(who) => (who.user_id == ann.account.id).then_some(()),
            _ => None,
        }))
        .await;
    sb.send_msg(3, "A", &text_payload("answered")).await;
    assert_eq!(sb.line().await.as_deref(), Some("ACK 3"));
}

#[tokio::test]
async fn a_ban_takes_a_classic_client_out_of_a_mixed_conversation_at_once() {
    let t = msnp_support::start().await;
    let ann = t.user("ann").await;
    let bob = t.user("bob").await;
    let admin = t.make_admin(&t.user("root").await).await;
    t.befriend(&ann, &bob).await;
    let (menp, mut bob_events) = client_support::connect(&t, &bob).await;
    let mut ns = raw_online(&t, &ann, "MSNP11").await;
    let xfr = ns.ask("XFR 5 SB").await;
    let cki = xfr.split(' ').nth(5).expect("a ticket").to_string();
    let mut sb = Raw::switchboard(&t).await;
    assert_eq!(sb.ask(&format!("USR 1 ann@example.com {cki}")).await, "USR 1 OK ann@example.com Ann");
    assert!(sb.ask("CAL 2 bob@example.com").await.starts_with("CAL 2 RINGING "));
    let conversation = menp.answer(&bob_events.expect(ring).await).await.expect("ANS");
    assert_eq!(sb.line().await.as_deref(), Some("JOI bob@example.com Bob"));

    let ban = BanRequest { user_id: ann.account.id, reason: Some("spam".into()), until: None };
    t.passport.ban(admin.token(), &ban).await.expect("ban");
    assert_eq!(sb.closed().await, ["OUT"], "out of the conversation");
    assert_eq!(ns.closed().await.last().map(String::as_str), Some("OUT"), "and signed out");
    bob_events
        .expect(in_conversation(conversation.id(), |e| match e {
            ConversationEvent::Left { user, .. } => (*user == ann.account.id).then_some(()),
            _ => None,
        }))
        .await;
    // Her ticket no longer lets her back in.
    let mut again = Raw::switchboard(&t).await;
    assert_eq!(again.ask(&format!("USR 1 ann@example.com {cki}")).await, "911 1");
}
