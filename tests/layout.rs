//! Cargo builds only tests/tests.rs (`autotests = false`), so a test file
//! that is not declared there would never compile nor run. This fails
//! instead.

use std::path::Path;

#[test]
fn every_test_file_is_a_module() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let root = std::fs::read_to_string(dir.join("tests.rs")).expect("reading tests/tests.rs");
    let declared: Vec<&str> = root
        .lines()
        .filter_map(|l| l.trim().strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    let mut missing = Vec::new();
    for item in std::fs::read_dir(&dir).expect("listing tests/") {
        let path = item.expect("listing tests/").path();
        let name = if path.is_dir() {
            path.join("mod.rs")
                .exists()
                .then(|| path.file_name().map(|n| n.to_string_lossy().into_owned()))
                .flatten()
        } else if path.extension().is_some_and(|e| e == "rs") {
            path.file_stem().map(|n| n.to_string_lossy().into_owned())
        } else {
            None
        };
        if let Some(name) = name.filter(|n| n != "tests") {
            if !declared.contains(&name.as_str()) {
                missing.push(name);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "tests/{missing:?} not declared in tests/tests.rs: add `mod NAME;` there \
         (Cargo builds only that file)"
    );
    assert!(declared.len() >= 10, "tests/tests.rs declares {declared:?}");
}
