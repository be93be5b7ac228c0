//! The calling thread: its Linux TID, its CPU, its timer slack. Each `unsafe` call is a
//! single libc call with plain-value arguments.

use std::io;

/// The calling thread's Linux TID, as used in `/proc/self/task/<tid>` (0 on other systems).
pub fn current_tid() -> i32 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid takes no arguments, touches no memory and cannot fail.
        unsafe { libc::gettid() }
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// Pins the calling thread to CPU `cpu`.
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    pin_task(0, cpu)
}

/// Pins thread `tid` (of any process this one may manage; 0 is the calling thread) to CPU
/// `cpu`. Threads it creates afterwards inherit the pinning.
pub fn pin_task(tid: i32, cpu: usize) -> io::Result<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("CPU {cpu} is out of range"),
        ));
    }
    // SAFETY: cpu_set_t is an array of integers; all zeroes is the empty set (what CPU_ZERO
    // produces).
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` < CPU_SETSIZE (checked above), so CPU_SET writes inside `set`.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a live cpu_set_t of the size passed, which the call only reads; `tid`
    // is a plain integer (0: the calling thread).
    let rc = unsafe { libc::sched_setaffinity(tid, size_of::<libc::cpu_set_t>(), &set) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sets the calling thread's timer slack (how late the kernel may fire its sleeps, 50 µs by
/// default) to `ns`, so a paced sender wakes on time.
pub fn set_timer_slack(ns: u64) -> io::Result<()> {
    // SAFETY: PR_SET_TIMERSLACK takes plain integers and touches no memory.
    let rc = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, ns.max(1) as libc::c_ulong, 0, 0, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tid_is_a_task_of_this_process() {
        let tid = std::thread::spawn(current_tid).join().unwrap();
        assert!(tid > 0);
        assert_ne!(tid, current_tid());
        let me = current_tid();
        assert!(std::path::Path::new(&format!("/proc/self/task/{me}")).exists());
    }

    #[test]
    fn pinning_to_cpu_0_works() {
        std::thread::spawn(|| pin_current_thread(0).unwrap())
            .join()
            .unwrap();
        assert!(pin_current_thread(usize::MAX).is_err());
    }

    #[test]
    fn another_thread_can_be_pinned_by_its_tid() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            tx.send(current_tid()).unwrap();
            done_rx.recv().unwrap();
            std::fs::read_to_string("/proc/thread-self/status").unwrap()
        });
        let tid = rx.recv().unwrap();
        pin_task(tid, 0).unwrap();
        done_tx.send(()).unwrap();
        let status = t.join().unwrap();
        let allowed = status
            .lines()
            .find(|l| l.starts_with("Cpus_allowed_list:"))
            .unwrap();
        assert_eq!(allowed.split_whitespace().nth(1), Some("0"), "{allowed}");
        assert!(pin_task(tid, usize::MAX).is_err());
    }

    #[test]
    fn timer_slack_can_be_set() {
        std::thread::spawn(|| set_timer_slack(1_000).unwrap())
            .join()
            .unwrap();
    }
}
