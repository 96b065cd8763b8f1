//! Switchboard commands: joining a conversation and exchanging messages, media and files.

pub mod client;
pub mod server;

pub use client::{AckMode, ClientCommand};
pub use server::ServerCommand;
