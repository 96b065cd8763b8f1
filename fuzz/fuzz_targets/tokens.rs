//! The `mst1.` session token and `mtk1.` switchboard ticket parser, as every service
//! runs it on what a client presents (`USR`, `ANS`, `CAL`, `Authorization: Bearer`), and
//! `Token`, the protocol argument that carries them.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use mocha_auth::{SessionClaims, SignedClaims, SigningKey, SwitchboardTicket, TokenError, UserId};
use mocha_proto::Token;

static KEY: LazyLock<SigningKey> = LazyLock::new(SigningKey::generate);

fuzz_target!(|input: (&str, i64, String, i64)| {
    let (text, sub, text_claim, exp) = input;
    let key = KEY.verifying_key();
    // Nobody but the key's holder can produce a valid token, so anything the fuzzer
    // makes up must be refused, never accepted, never a panic.
    assert!(SessionClaims::verify(text, &key, 0).is_err(), "forged session token accepted: {text:?}");
    assert!(SwitchboardTicket::verify(text, &key, 0).is_err(), "forged ticket accepted: {text:?}");

    if let Ok(token) = text.parse::<Token>() {
        assert_eq!(token.as_str(), text);
    }

    // Any claims, signed, come back exactly; the other kind and a later clock refuse them.
    if exp == i64::MIN {
        return;
    }
    let Ok(sub_id) = u64::try_from(sub) else { return };
    let Some(sub) = sub_id.checked_add(1).and_then(|n| i64::try_from(n).ok()) else { return };
    let session = SessionClaims { sub: UserId(sub), sid: text_claim.clone(), iat: 0, exp };
    let token = session.sign(&KEY);
    assert_eq!(SessionClaims::verify(&token, &key, exp.saturating_sub(1)), Ok(session));
    assert_eq!(SessionClaims::verify(&token, &key, exp), Err(TokenError::Expired));
    assert_eq!(SwitchboardTicket::verify(&token, &key, 0), Err(TokenError::WrongKind));
    let ticket = SwitchboardTicket { sub: UserId(sub), room: text_claim, exp };
    let token = ticket.sign(&KEY);
    assert_eq!(SwitchboardTicket::verify(&token, &key, exp.saturating_sub(1)), Ok(ticket));
});
