//! Windows with the WDK: configure the driver build through wdk-build. Anywhere else: nothing.

fn main() {
    println!("cargo::rerun-if-env-changed=CARGO_CFG_ATMMCM_NOWDK");
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
