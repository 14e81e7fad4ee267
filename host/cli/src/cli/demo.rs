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
    /// Source folder of the shipped bundle (bundle.json, schemas/, scenarios/).
    #[arg(long, default_value = "recipes-wasm")]
    pub source: PathBuf,
    /// Where to write the demo's keys, signed bundle, ledger and evidence bundles
    /// (default: a fresh temporary folder, removed afterwards).
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}
