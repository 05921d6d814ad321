//! Lists `migrations/` for `src/migrate.rs`: every `V<n>__<what>.sql` file becomes one
//! embedded migration, oldest first, and every `functions/<name>.sql` file one embedded
//! function, so adding either is adding its file.

use std::{env, fs, path::Path};

fn main() {
    let dir = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("../migrations");
    let functions = dir.join("functions");
    println!("cargo:rerun-if-changed={}", dir.display());
    println!("cargo:rerun-if-changed={}", functions.display());
    let mut files: Vec<(i32, String)> = sql_files(&dir)
        .into_iter()
        .map(|name| {
            let version = name
                .strip_prefix('V')
                .and_then(|rest| rest.split_once("__"))
                .and_then(|(n, _)| n.parse().ok())
                .unwrap_or_else(|| panic!("migrations/{name}: not named V<n>__<what>.sql"));
            (version, name)
        })
        .collect();
    files.sort();
    if let Some(w) = files.windows(2).find(|w| w[0].0 == w[1].0) {
        panic!("migrations/{} and {} share version {}", w[0].1, w[1].1, w[0].0);
    }
    let migrations: String = files
        .iter()
        .map(|(version, name)| {
            let path = embedded(&dir, name);
            format!("Migration {{ version: {version}, name: {name:?}, sql: include_str!({path:?}) }},\n")
        })
        .collect();
    let mut names = sql_files(&functions);
    names.sort();
    let functions: String = names
        .iter()
        .map(|file| {
            let name = &file[..file.len() - ".sql".len()];
            let path = embedded(&functions, file);
            let sql = fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
            if !sql.contains(&format!("\nCREATE OR REPLACE FUNCTION {name}(")) {
                panic!("migrations/functions/{file}: does not define {name} with CREATE OR REPLACE");
            }
            format!("Function {{ name: {name:?}, sql: include_str!({path:?}) }},\n")
        })
        .collect();
    let out = env::var("OUT_DIR").unwrap();
    let out = Path::new(&out);
    fs::write(out.join("migrations.rs"), format!("&[\n{migrations}]\n")).expect("writing the migration list");
    fs::write(out.join("functions.rs"), format!("&[\n{functions}]\n")).expect("writing the function list");
}

/// The names of the files directly in `dir` (its folders aside), each a `.sql` file.
fn sql_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_file())
        .map(|entry| entry.file_name().into_string().expect("a UTF-8 migration file name"))
        .inspect(|name| {
            if !name.ends_with(".sql") {
                panic!("{}/{name}: not a .sql file", dir.display());
            }
        })
        .collect()
}

/// The path `include_str!` embeds `name` of `dir` by.
fn embedded(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().expect("a UTF-8 path to migrations/").to_owned()
}
