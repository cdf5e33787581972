//! The scripts that first wrote the regular case families (`scripts/scenarios/gen.py`,
//! `sscop_states.py`) must reproduce the committed files byte for byte, so re-running one never
//! silently reverts a case; a case changed by hand is listed in gen.py's `HAND_EDITED` instead.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Files under `generated` whose content differs from (or is missing in) `committed`.
fn differing(generated: &Path, committed: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![generated.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read generated dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(generated).expect("under generated").to_path_buf();
            let want = std::fs::read(&path).expect("read generated file");
            if std::fs::read(committed.join(&rel)).ok().as_deref() != Some(want.as_slice()) {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

fn python(args: &[&str]) {
    let root = env!("CARGO_MANIFEST_DIR");
    let status = Command::new("python3")
        .args(args)
        .current_dir(root)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs (.ci/run installs it)");
    assert!(status.success(), "python3 {args:?} failed: {status}");
}

fn generate() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().to_str().expect("utf-8 temp path").to_owned();
    python(&["scripts/scenarios/gen.py", &out]);
    python(&["scripts/scenarios/sscop_states.py", &format!("{out}/sscop")]);
    dir
}

#[test]
fn the_case_generators_reproduce_every_committed_file_they_write() {
    let dir = generate();
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let bad = differing(dir.path(), &committed);
    assert!(
        bad.is_empty(),
        "generated cases differ from the committed files (edit the script, or list the case in HAND_EDITED): {bad:#?}"
    );
}

#[test]
fn the_generator_check_fires_on_a_case_changed_by_hand_and_on_a_missing_one() {
    let dir = generate();
    let committed = tempfile::tempdir().expect("temp dir");
    let copy = |rel: &str| {
        let to = committed.path().join(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(dir.path().join(rel), &to).expect("copy");
    };
    let sscop = std::fs::read_dir(dir.path().join("sscop")).expect("sscop dir");
    let names: Vec<String> = sscop.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    for n in &names {
        copy(&format!("sscop/{n}"));
    }
    // Everything outside sscop/ is missing; one sscop case is changed by hand.
    let changed = format!("sscop/{}", names[0]);
    let mut text = std::fs::read_to_string(committed.path().join(&changed)).expect("read");
    text.push_str("\n# edited\n");
    std::fs::write(committed.path().join(&changed), text).expect("write");
    let bad = differing(dir.path(), committed.path());
    assert!(bad.contains(&PathBuf::from(&changed)), "{bad:?}");
    assert!(bad.iter().any(|p| !p.starts_with("sscop")), "a missing file is reported");
    assert_eq!(bad.iter().filter(|p| p.starts_with("sscop")).count(), 1);
}
