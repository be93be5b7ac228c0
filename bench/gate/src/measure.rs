//! The measured region: callgrind collects instructions only inside [`gate_measure`].

/// Runs `f`. Callgrind is started with `--collect-atstart=no
/// --toggle-collect=*gate_measure*`, so exactly the instructions executed inside this call
/// (and everything it calls) are counted. It must never be inlined, or the symbol vanishes.
#[inline(never)]
pub fn gate_measure(f: &mut dyn FnMut()) {
    f();
}
