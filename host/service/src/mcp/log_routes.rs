//! The ledger's log, published read-only over HTTP for monitors and witnesses: the
//! C2SP tlog-tiles read path (`docs/log.md`).
//!
//! - `GET /checkpoint`: the newest checkpoint note (`tiles/checkpoint`), `text/plain`,
//!   not cached;
//! - `GET /tile/<L>/<N>[.p/<W>]`: a tile's hashes, `application/octet-stream`; a full
//!   tile is immutable, a partial one is served when at least `W` hashes are stored.
//!
//! Entry bundles are not served (receipts carry evidence; see the deviation in
//! `docs/log.md`). Nothing here writes; paths are parsed strictly, so nothing outside
//! the tiles can be named.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use andon_ledger::ledger::LATEST_CHECKPOINT;
use andon_ledger::tlog::{FileTileStore, HASH_BYTES, TILES_DIR, Tile, TileStore};

/// The routes, serving the tiles of the ledger at `ledger_dir`.
pub(crate) fn routes(ledger_dir: PathBuf) -> axum::Router {
    let tiles = Arc::new(ledger_dir.join(TILES_DIR));
    let for_checkpoint = Arc::clone(&tiles);
    axum::Router::new()
        .route(
            "/checkpoint",
            axum::routing::get(move || {
                let tiles = Arc::clone(&for_checkpoint);
                async move { checkpoint(&tiles) }
            }),
        )
        .route(
            "/tile/{*path}",
            axum::routing::get(move |Path(path): Path<String>| {
                let tiles = Arc::clone(&tiles);
                async move { tile(&tiles, &path) }
            }),
        )
}

fn not_found(what: String) -> Response {
    (StatusCode::NOT_FOUND, format!("{what}\n")).into_response()
}

fn checkpoint(tiles: &std::path::Path) -> Response {
    let file = tiles.join(LATEST_CHECKPOINT);
    match andon_ledger::note::read_file(&file, andon_ledger::note::MAX_NOTE_BYTES) {
        Ok(bytes) => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], bytes)
                .into_response()
        }
        Err(_) => not_found("no checkpoint has been signed yet".into()),
    }
}

fn tile(tiles: &std::path::Path, path: &str) -> Response {
    let Ok(tile) = Tile::parse_path(&format!("tile/{path}")) else {
        return (StatusCode::BAD_REQUEST, format!("`tile/{path}` is not a tile path\n")).into_response();
    };
    let Ok(store) = FileTileStore::open(tiles, false) else {
        return not_found("no tiles are stored yet".into());
    };
    let width = usize::from(tile.width);
    match store.read_tile(tile.level, tile.index) {
        Ok(Some(bytes)) if bytes.len() >= width * HASH_BYTES => {
            let cache = if tile.is_full() { "public, max-age=31536000, immutable" } else { "no-cache" };
            (
                [(header::CONTENT_TYPE, "application/octet-stream"), (header::CACHE_CONTROL, cache)],
                bytes[..width * HASH_BYTES].to_vec(),
            )
                .into_response()
        }
        Ok(_) => not_found(format!("{} is not stored", tile.path())),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}
