//! Small Linux system calls the harness needs: thread id, CPU pinning, clock-tick rate and the
//! open-file limit. Each `unsafe` call is a single libc call with plain-value arguments.

use std::io;

/// The calling thread's Linux TID, as used in `/proc/self/task/<tid>`.
#[allow(unsafe_code)]
pub fn current_tid() -> i32 {
    // SAFETY: gettid takes no arguments, touches no memory and cannot fail.
    unsafe { libc::gettid() }
}

/// Clock ticks per second of the utime/stime fields in `/proc/.../stat` (`USER_HZ`, 100 on
/// every mainstream architecture).
#[allow(unsafe_code)]
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf takes a plain integer and touches no memory.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as u64 } else { 100 }
}

/// Pins the calling thread to CPU `cpu`.
#[allow(unsafe_code)]
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("CPU {cpu} is out of range"),
        ));
    }
    // SAFETY: an all-zero cpu_set_t is the empty set (what CPU_ZERO produces).
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` < CPU_SETSIZE (checked above), so CPU_SET writes inside `set`.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is the calling thread.
    let rc = unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sets the calling thread's timer slack (how late the kernel may fire its sleeps, 50 µs by
/// default) to `ns`, so a paced sender wakes on time.
#[allow(unsafe_code)]
pub fn set_timer_slack(ns: u64) -> io::Result<()> {
    // SAFETY: PR_SET_TIMERSLACK takes a plain integer and touches no memory.
    let rc = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, ns.max(1) as libc::c_ulong, 0, 0, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Raises the soft limit on open files to at least `want` (capped at the hard limit), so one
/// process can hold two sockets per call for thousands of calls. Returns the new soft limit.
#[allow(unsafe_code)]
pub fn raise_open_files_limit(want: u64) -> io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit that outlives the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if lim.rlim_cur >= want {
        return Ok(lim.rlim_cur);
    }
    lim.rlim_cur = want.min(lim.rlim_max);
    // SAFETY: `lim` is a valid rlimit; the call only reads it.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(lim.rlim_cur)
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
    fn clock_ticks_are_sane() {
        let hz = clock_ticks_per_second();
        assert!((10..=10_000).contains(&hz), "{hz}");
    }

    #[test]
    fn pinning_to_cpu_0_works() {
        std::thread::spawn(|| pin_current_thread(0).unwrap())
            .join()
            .unwrap();
        assert!(pin_current_thread(usize::MAX).is_err());
    }

    #[test]
    fn timer_slack_can_be_set() {
        std::thread::spawn(|| set_timer_slack(1_000).unwrap())
            .join()
            .unwrap();
    }

    #[test]
    fn open_files_limit_is_not_lowered() {
        let now = raise_open_files_limit(0).unwrap();
        assert_eq!(raise_open_files_limit(16).unwrap(), now);
    }
}
