//! Compiles `bpf/kfwd.bpf.c` with clang when clang (and the BPF headers from libbpf-dev) are
//! present, and then sets `cfg(kfwd_bpf)` so the object is embedded. Without them the crate
//! still builds; the fast path then reports itself unavailable at run time, with the reason
//! recorded here.
//!
//! `TANDEM_KFWD_CLANG` names the compiler (default `clang`); `none` builds without the
//! program.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(kfwd_bpf)");
    println!("cargo::rerun-if-changed=bpf/kfwd.bpf.c");
    println!("cargo::rerun-if-env-changed=TANDEM_KFWD_CLANG");
    match build() {
        Ok(object) => {
            println!("cargo::rustc-cfg=kfwd_bpf");
            println!("cargo::rustc-env=TANDEM_KFWD_OBJECT={}", object.display());
            println!("cargo::rustc-env=TANDEM_KFWD_BUILD_NOTE=built");
        }
        Err(note) => {
            println!("cargo::warning=kernel forwarding not built: {note}");
            println!("cargo::rustc-env=TANDEM_KFWD_BUILD_NOTE={note}");
        }
    }
}

fn build() -> Result<PathBuf, String> {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os != "linux" {
        return Err(format!("eBPF needs Linux (target OS is {os})"));
    }
    let clang = std::env::var("TANDEM_KFWD_CLANG").unwrap_or_else(|_| "clang".to_owned());
    if clang == "none" {
        return Err("disabled by TANDEM_KFWD_CLANG=none".to_owned());
    }
    let target = match std::env::var("CARGO_CFG_TARGET_ENDIAN").as_deref() {
        Ok("big") => "bpfeb",
        _ => "bpfel",
    };
    // The host's multiarch include directory holds <asm/types.h>, which <linux/bpf.h> needs.
    let multiarch = Command::new(&clang)
        .arg("-print-multiarch")
        .output()
        .map_err(|e| {
            format!("clang not found ({clang}: {e}); install clang, llvm and libbpf-dev")
        })?;
    let multiarch = String::from_utf8_lossy(&multiarch.stdout).trim().to_owned();
    let out =
        PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?).join("kfwd.bpf.o");
    let mut cmd = Command::new(&clang);
    cmd.args(["-target", target, "-O2", "-g", "-Wall"]);
    if !multiarch.is_empty() {
        cmd.arg(format!("-I/usr/include/{multiarch}"));
    }
    cmd.args(["-c", "bpf/kfwd.bpf.c", "-o"]).arg(&out);
    let result = cmd.output().map_err(|e| format!("running {clang}: {e}"))?;
    if !result.status.success() {
        let stderr = String::from_utf8_lossy(&result.stderr);
        let first = stderr
            .lines()
            .find(|l| l.contains("error"))
            .unwrap_or("unknown error");
        return Err(format!(
            "{clang} could not compile bpf/kfwd.bpf.c (are libbpf-dev's headers installed?): {first}"
        ));
    }
    Ok(out)
}
