//! The MSNP gateway line by line, as an MSNP8 client (MSN Messenger 6) speaks it: the
//! Passport 1.4 nexus and login over plain HTTP, `VER`/`CVR`/`USR TWN`, the contact list
//! from `SYN`, and the answers to what is wrong, early, unknown or too long.

mod common;
mod msnp_support;

use msnp_support::{Raw, header, http_get, ticket};

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
