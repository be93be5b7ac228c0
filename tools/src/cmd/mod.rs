//! One module per subcommand; each has an `Args` (clap) and a `run`.
pub mod bench;
pub mod convert;
pub mod dtmf;
pub mod erlang;
pub mod sim;
pub mod staff;
