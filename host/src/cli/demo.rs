//! `andon demo` arguments.

use std::path::PathBuf;

use clap::Args;

use super::Format;

/// Arguments of `andon demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder of golden cases: `<component-id>/<case>.json`.
    #[arg(long, default_value = "recipes-wasm/golden")]
    pub golden: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}
