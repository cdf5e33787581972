//! Windows with the WDK: configure the driver build through wdk-build. Anywhere else: nothing.

fn main() {
    println!("cargo::rerun-if-env-changed=CARGO_CFG_ATMMCM_NOWDK");
    // tests/sys_suites.rs: the suites against atmmcm.sys (see that file for why it is opt-in).
    println!("cargo::rustc-check-cfg=cfg(atmmcm_sys_suites)");
    println!("cargo::rerun-if-env-changed=ATMMCM_SYS_SUITES");
    if std::env::var("ATMMCM_SYS_SUITES").is_ok_and(|v| v == "1") {
        println!("cargo::rustc-cfg=atmmcm_sys_suites");
    }
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
