//! The committed diff of the vendored tiny_http against upstream 0.12.0
//! (`vendor/tiny_http.diff`) is what `vendor/diff-upstream.sh` writes today: a change to the
//! vendored library that is not in the diff fails here. Cargo fetches upstream from
//! crates.io, or takes it from the local registry cache.

#[test]
fn the_vendored_http_library_diff_is_current() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/vendor/diff-upstream.sh");
    let out = std::process::Command::new("bash")
        .args([script, "--check"])
        .env("CARGO", env!("CARGO"))
        .output()
        .expect("running bash");
    assert!(
        out.status.success(),
        "{script} --check failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
