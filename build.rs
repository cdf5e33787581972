//! Windows with the WDK: configure the driver build through wdk-build. Everywhere: tell
//! tests/sys_suites.rs whether `atmmcm.sys` exists (cfg `atmmcm_sys_suites`).

use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CARGO_CFG_ATMMCM_NOWDK");
    sys_suites();
    #[cfg(windows)]
    {
        let target_windows = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "windows");
        let nowdk = std::env::var_os("CARGO_CFG_ATMMCM_NOWDK").is_some();
        if target_windows && !nowdk {
            if let Err(e) = wdk_build::configure_wdk_binary_build() {
                println!("cargo::warning=wdk-build: {e:?}");
                std::process::exit(1);
            }
        }
    }
}

/// tests/sys_suites.rs compiles the close-family, signalling, data-path and stress suites against
/// `atmmcm.sys` when the image `scripts/build-sys` writes exists (`.ci/run` builds it first);
/// without it that crate's one test says SKIPPED. `ATMMCM_SYS_SUITES=0` turns them off.
///
/// The image is watched while it exists; while it does not, the directory build-sys writes into
/// is (created if need be: a missing watched path would rebuild this crate on every run), so
/// building the image re-runs this script.
fn sys_suites() {
    println!("cargo::rustc-check-cfg=cfg(atmmcm_sys_suites)");
    for v in ["ATMMCM_SYS_SUITES", "ATMMCM_SYS", "CARGO_TARGET_DIR"] {
        println!("cargo::rerun-if-env-changed={v}");
    }
    if std::env::var("ATMMCM_SYS_SUITES").is_ok_and(|v| v == "0") {
        return;
    }
    // As atmmcm_hw::sys::default_image_path.
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("x86_64-pc-windows-msvc/release");
    let image = std::env::var_os("ATMMCM_SYS").map(PathBuf::from).unwrap_or_else(|| dir.join("atmmcm.sys"));
    if image.exists() {
        println!("cargo::rerun-if-changed={}", image.display());
        println!("cargo::rustc-cfg=atmmcm_sys_suites");
    } else {
        let watch = image.parent().map(PathBuf::from).unwrap_or(dir);
        if std::fs::create_dir_all(&watch).is_ok() {
            println!("cargo::rerun-if-changed={}", watch.display());
        }
    }
}
