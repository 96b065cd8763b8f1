//! `mocha`: Mocha Messenger from the terminal. Parses flags and runs one command;
//! everything that talks to the network is in `mocha-client`.

mod args;
mod commands;
mod context;
mod media;
mod output;
mod profile;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};
use commands::{account, admin, calls, contacts, files, talk, update};
use context::Context;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.global.json;
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return fail(json, &anyhow::anyhow!(error)),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(json, &error),
    }
}

fn fail(json: bool, error: &anyhow::Error) -> ExitCode {
    eprintln!("mocha: error: {error:#}");
    if json {
        let code = error.chain().find_map(|cause| {
            cause
                .downcast_ref::<mocha_client::ClientError>()
                .and_then(|e| e.code().map(str::to_string))
                .or_else(|| {
                    cause
                        .downcast_ref::<mocha_client::Error>()
                        .and_then(|e| e.passport_code().map(str::to_string))
                })
        });
        println!("{}", serde_json::json!({"error": {"message": format!("{error:#}"), "code": code}}));
    }
    ExitCode::FAILURE
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut cx = Context::new(cli.global)?;
    match cli.command {
        Command::Register { username, display_name } => {
            account::register(&cx, &username, display_name.as_deref()).await
        }
        Command::SignIn { username } => account::sign_in(&mut cx, &username).await,
        Command::SignOut => account::sign_out(&cx).await,
        Command::Status { code } => account::status(&mut cx, &code).await,
        Command::Message { text } => account::message(&mut cx, &text).await,
        Command::Contacts { action } => contacts::run(&cx, action).await,
        Command::Privacy { requests } => account::privacy(&cx, requests).await,
        Command::Send { user, message } => talk::send(&cx, &user, &message).await,
        Command::Chat { user } => talk::chat(&cx, &user).await,
        Command::SendFile { user, path } => files::send_file(&cx, &user, &path).await,
        Command::ReceiveFiles { into, count } => files::receive_files(&cx, &into, count).await,
        Command::Alerts => account::alerts(&cx).await,
        Command::Listen { answer_calls: false, .. } => talk::listen(&cx).await,
        Command::Listen { answer_calls: true, media, calls: count } => {
            calls::answer_calls(&cx, &media, count).await
        }
        Command::Call { user, media, seconds } => calls::call(&cx, &user, &media, seconds).await,
        Command::Devices => calls::devices(&cx),
        Command::Update { channel, current, into, install } => {
            update::run(&cx, &channel, current.as_deref(), into, install).await
        }
        Command::Export => account::export(&cx).await,
        Command::DeleteAccount => account::delete_account(&cx).await,
        Command::Ban { user, reason, until } => admin::ban(&cx, &user, reason, until.as_deref()).await,
        Command::Unban { user } => admin::unban(&cx, &user).await,
        Command::GrantAdmin { user, revoke } => admin::grant_admin(&cx, &user, revoke).await,
        Command::Notice { text } => admin::notice(&cx, &text).await,
    }
}
