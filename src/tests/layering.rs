//! The modules form layers, and a module only uses modules of its own layer or below, as the
//! README's Development section draws them. Read from the source, so a new `use` that points
//! upwards fails here rather than turning the layers into a tangle.

use std::collections::BTreeSet;
use std::path::Path;

/// The read engine's own modules, lowest first: each uses only those before it.
const READ_LAYERS: &[&str] =
    &["state", "plan", "dedupe", "events", "context", "pages", "window", "months", "stream", "progress", "output"];

/// The streams module's own modules, lowest first (the table, mod.rs, uses them all).
const STREAMS_LAYERS: &[&str] = &["records", "shape", "transcode", "codec"];

/// Top-level modules, lowest layer first.
const LAYERS: &[&[&str]] = &[
    &["error", "escape", "time", "schema", "settings", "buffers", "allocator"],
    &["protocol"],
    &["config"],
    &["streams"],
    &["http"],
    &["read"],
];

fn layer_of(module: &str) -> usize {
    LAYERS.iter().position(|l| l.contains(&module)).unwrap_or_else(|| panic!("module `{module}` is in no layer"))
}

/// The top-level module a source file belongs to (`src/read/window.rs` → `read`).
fn module_of(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("src")).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_string())
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_uses_a_module_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut upward = BTreeSet::new();
    for file in files {
        let Some(module) = module_of(&file) else { continue };
        // The commands (lib.rs, main.rs) and the tests of committed files sit above everything.
        if ["lib", "main", "tests", "cli"].contains(&module.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, _) in text.match_indices("crate::") {
            let used: String = text[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if used.is_empty() || used == module || used.chars().next().is_some_and(char::is_uppercase) {
                continue;
            }
            if layer_of(&used) > layer_of(&module) {
                upward.insert(format!("{} uses {used}", file.strip_prefix(&src).unwrap().display()));
            }
        }
    }
    assert!(upward.is_empty(), "modules using a layer above their own: {upward:#?}");
}

/// Checks that the modules of `src/<parent>/` use only those listed before them in `order`,
/// and that every file there is listed.
fn submodules_form_a_line(parent: &str, order: &[&str]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(parent);
    let mut upward = BTreeSet::new();
    for module in order {
        let text = std::fs::read_to_string(dir.join(format!("{module}.rs"))).unwrap();
        let own = order.iter().position(|m| m == module).unwrap();
        for (i, _) in text.match_indices("super::") {
            let used: String = text[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if let Some(pos) = order.iter().position(|m| *m == used) {
                if pos > own {
                    upward.insert(format!("{parent}::{module} uses {parent}::{used}"));
                }
            }
        }
    }
    assert!(upward.is_empty(), "{parent} modules using a later one: {upward:#?}");
    let listed: BTreeSet<String> = order.iter().map(|m| format!("{m}.rs")).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(name == "mod.rs" || listed.contains(&name), "src/{parent}/{name} is not in the module order");
    }
}

#[test]
fn the_read_engine_s_modules_form_a_line() {
    submodules_form_a_line("read", READ_LAYERS);
}

#[test]
fn the_streams_modules_form_a_line() {
    submodules_form_a_line("streams", STREAMS_LAYERS);
}
