//! Integration tests of the Andon host: one binary, one module per area.

mod cli;
mod golden;
mod hostile;
mod intake;
mod support;
