//! `andon inspect` arguments.

use std::path::PathBuf;

use clap::Args;

use super::Format;

/// Arguments of `andon inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The component (.wasm) to describe.
    pub component: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
