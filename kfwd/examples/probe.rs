//! Says whether the kernel fast path can be used on this machine, and why not.
fn main() {
    println!("build: {}", tandem_kfwd::BUILD_NOTE);
    match tandem_kfwd::KernelForwarder::is_available() {
        Ok(()) => println!("available: the kernel loads and verifies the program"),
        Err(why) => println!("unavailable: {why}"),
    }
}
