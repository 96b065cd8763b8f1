//! `mocha-bench`: the load generator. Each scenario provisions test users on the data
//! folder (a clearly-labelled fixture path, see [`fixtures`] and `mocha-passport`'s
//! `bench-fixtures` feature), starts or finds the server ([`target`]), drives it over
//! real TLS on loopback ([`wire`]), and returns a [`report::Report`]. Every run is
//! bounded in users and time and stops by itself.

pub mod cli;
pub mod clock;
pub mod cluster;
pub mod fixtures;
pub mod report;
pub mod scenario;
pub mod target;
pub mod wire;
