//! Generates `seatcore.h` from `src/` with cbindgen (settings in `cbindgen.toml`) and writes
//! it next to the library: `<target dir>/<profile>/include/seatcore.h`. The tests read the
//! same file, through the `SEATCORE_HEADER` variable this script sets.
//!
//! The core's plain `#[repr(C)]` types that C takes as they are (`Stats`, `AuditSummary`
//! and `SeatState`, exported as `seatcore_stats`, `seatcore_audit_summary` and
//! `seatcore_seat_state`) come from the core's own source: cbindgen reads `types.rs` too,
//! and `cbindgen.toml` gives them their C names (`SeatState`'s constants are named by an
//! annotation on it).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let core_types = PathBuf::from("../../seatcore/src/types.rs");
    println!("cargo:rerun-if-changed={}", core_types.display());
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // OUT_DIR is <target dir>/<profile>/build/seatcore-c-<hash>/out.
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let profile_dir = out.ancestors().nth(3).expect("OUT_DIR is <target>/<profile>/build/<pkg>/out");
    let header = profile_dir.join("include").join("seatcore.h");
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("reading cbindgen.toml");
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src").join("lib.rs"))
        .with_src(dir.join(core_types))
        .generate()
        .expect("cbindgen generates seatcore.h")
        .write_to_file(&header);
    println!("cargo:rustc-env=SEATCORE_HEADER={}", header.display());
}
