//! Lists `migrations/` for `src/migrate.rs`: every `V<n>__<what>.sql` file becomes one
//! embedded migration, oldest first, so adding a migration is adding its file.

use std::{env, fs, path::Path};

fn main() {
    let dir = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("../migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<(i32, String)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().into_string().expect("a UTF-8 migration file name"))
        .map(|name| {
            let version = name
                .strip_prefix('V')
                .and_then(|rest| rest.split_once("__"))
                .filter(|_| name.ends_with(".sql"))
                .and_then(|(n, _)| n.parse().ok())
                .unwrap_or_else(|| panic!("migrations/{name}: not named V<n>__<what>.sql"));
            (version, name)
        })
        .collect();
    files.sort();
    if let Some(w) = files.windows(2).find(|w| w[0].0 == w[1].0) {
        panic!("migrations/{} and {} share version {}", w[0].1, w[1].1, w[0].0);
    }
    let entries: String = files
        .iter()
        .map(|(version, name)| {
            let path = dir.join(name);
            let path = path.to_str().expect("a UTF-8 path to migrations/");
            format!("Migration {{ version: {version}, name: {name:?}, sql: include_str!({path:?}) }},\n")
        })
        .collect();
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("migrations.rs");
    fs::write(out, format!("&[\n{entries}]\n")).expect("writing the migration list");
}
