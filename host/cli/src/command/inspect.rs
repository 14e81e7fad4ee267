//! `andon inspect`: hash, world, imports and exports of a component.

use andon_core::MAX_COMPONENT_BYTES;
use andon_core::{AndonEngine, LoadedComponent, component};
use serde_json::json;

use super::{print_json, read_input};
use crate::cli::Format;
use crate::cli::inspect::InspectArgs;
use crate::exit::Exit;

pub fn run(args: &InspectArgs) -> anyhow::Result<Exit> {
    let bytes = read_input(&args.component, MAX_COMPONENT_BYTES)?;
    let engine = AndonEngine::with_options(&andon_core::EngineOptions { pooling: false, ..Default::default() })?;
    let info = component::inspect(&engine, &bytes)?;
    // Say whether the host would load it, and why not.
    let verdict = match LoadedComponent::load(&engine, &bytes) {
        Ok(_) => None,
        Err(err) => Some(err.to_string()),
    };
    match args.format {
        Format::Json => print_json(&json!({
            "path": args.component.display().to_string(),
            "sha256": info.sha256,
            "size": info.size,
            "world": info.world,
            "imports": info.imports,
            "type_imports": info.type_imports,
            "exports": info.exports,
            "loadable": verdict.is_none(),
            "refusal": verdict,
        }))?,
        Format::Text => {
            outln!("path     {}", args.component.display());
            outln!("sha256   {}", info.sha256);
            outln!("size     {} bytes", info.size);
            outln!("world    {}", info.world.as_deref().unwrap_or("(none)"));
            outln!("imports  {}", if info.imports.is_empty() { "(none)".to_string() } else { info.imports.join(", ") });
            outln!(
                "types    {}",
                if info.type_imports.is_empty() {
                    "(none)".to_string()
                } else {
                    info.type_imports.join(", ") + " (type-only)"
                }
            );
            outln!("exports  {}", info.exports.join(", "));
            if let Some(reason) = &verdict {
                outln!("refused  {reason}");
            }
        }
    }
    Ok(if verdict.is_some() { Exit::ComponentRefused } else { Exit::Ok })
}
