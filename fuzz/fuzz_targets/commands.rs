//! Each command's arguments: a frame of a known command with arbitrary (well-formed)
//! arguments and payload goes straight to the typed parsers, past the line decoder, so
//! the fuzzer spends its time on argument grammars rather than on framing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mocha_proto::{Command, Frame, Limits, carries_payload, ns, sb, token::is_valid_arg};
use mocha_proto_fuzz::assert_round_trip;

const COMMANDS: [Command; 29] = [
    Command::ACK,
    Command::ANS,
    Command::BYE,
    Command::CAL,
    Command::CHG,
    Command::CON,
    Command::ERR,
    Command::FIL,
    Command::FLN,
    Command::IRO,
    Command::JOI,
    Command::MED,
    Command::MSG,
    Command::NAK,
    Command::NLN,
    Command::NOT,
    Command::OUT,
    Command::PNG,
    Command::PRP,
    Command::QNG,
    Command::RLY,
    Command::RNG,
    Command::SYN,
    Command::UBX,
    Command::UPD,
    Command::USR,
    Command::UUX,
    Command::VER,
    Command::XFR,
];

fuzz_target!(|input: (u8, u32, Vec<String>, Vec<u8>)| {
    let (which, trid, args, payload) = input;
    let command = COMMANDS[usize::from(which) % COMMANDS.len()];
    let mut frame = Frame::new(command, trid);
    // The decoder only ever hands over arguments without spaces or control characters.
    frame.args = args.into_iter().filter(|arg| is_valid_arg(arg)).collect();
    // The payload length is the line's last argument, counted here.
    if carries_payload(command, frame.args.len() + 1) {
        frame = frame.with_payload(payload);
    }
    let limits = Limits { max_line: 8192, max_payload: 8192 };
    assert_round_trip!(ns::ClientCommand, frame, &limits);
    assert_round_trip!(ns::ServerCommand, frame, &limits);
    assert_round_trip!(sb::ClientCommand, frame, &limits);
    assert_round_trip!(sb::ServerCommand, frame, &limits);
});
