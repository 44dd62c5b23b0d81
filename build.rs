//! Says whether libjpeg-turbo (built by `mozjpeg-sys`) gets its SIMD code: on x86 that needs
//! `nasm`. Without it the service still builds and runs, with JPEG work several times slower;
//! the build warns, the service says so when it starts, and `.ci/run` fails.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(jpeg_simd)");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-changed=build.rs");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let needs_nasm = matches!(arch.as_str(), "x86_64" | "x86");
    let has_nasm = std::process::Command::new("nasm")
        .arg("-v")
        .output()
        .is_ok_and(|out| out.status.success());
    if !needs_nasm || has_nasm {
        println!("cargo::rustc-cfg=jpeg_simd");
    } else {
        println!(
            "cargo::warning=nasm is not installed: libjpeg-turbo is built without its SIMD code and JPEG work is several times slower (apt-get install nasm, then cargo clean -p mozjpeg-sys)"
        );
    }
}
