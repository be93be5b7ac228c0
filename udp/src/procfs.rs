//! What `/proc` and the process limits say: CPU time of threads, processes and the whole
//! machine, and the open-files limit.
//!
//! Two sources of a task's CPU time:
//! - `stat` (fields 14 `utime` and 15 `stime`): user and system time in clock ticks, i.e.
//!   10 ms steps. [`thread_cpu_time`] and [`process_cpu_time`] read it.
//! - `schedstat` (first field): the scheduler's run time in nanoseconds, the same total
//!   without the 10 ms quantisation. [`thread_cpu_time_precise`] reads it; a relay measured
//!   over a few seconds needs it, since 10 ms would be a 10% error on 100 ms of CPU.

use std::io;
use std::time::Duration;

/// User + system CPU time of thread `tid` of this process, from `/proc/self/task/<tid>/stat`.
pub fn thread_cpu_time(tid: i32) -> io::Result<Duration> {
    stat_cpu_time(&format!("/proc/self/task/{tid}/stat"))
}

/// User + system CPU time of process `pid` (all its threads), from `/proc/<pid>/stat`.
pub fn process_cpu_time(pid: u32) -> io::Result<Duration> {
    stat_cpu_time(&format!("/proc/{pid}/stat"))
}

/// Run time of thread `tid` of this process in nanoseconds, from
/// `/proc/self/task/<tid>/schedstat`; falls back to [`thread_cpu_time`] on kernels without
/// it.
pub fn thread_cpu_time_precise(tid: i32) -> io::Result<Duration> {
    match std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")) {
        Ok(text) => parse_schedstat(&text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => thread_cpu_time(tid),
        Err(e) => Err(e),
    }
}

/// Run time of every thread of process `pid` (any process, e.g. a relay daemon this one
/// started), summed from `/proc/<pid>/task/*/schedstat`; threads that have exited are no
/// longer counted, so this suits long-lived daemons whose threads live as long as they do.
/// Falls back to `/proc/<pid>/stat` (clock ticks) on kernels without `schedstat`.
pub fn process_cpu_time_precise(pid: u32) -> io::Result<Duration> {
    let mut total = Duration::ZERO;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let path = task?.path().join("schedstat");
        match std::fs::read_to_string(&path) {
            Ok(text) => total += parse_schedstat(&text)?,
            // The thread exited between the listing and the read.
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    && path.parent().is_some_and(|p| !p.exists()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return process_cpu_time(pid),
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

/// The thread ids of process `pid`, from `/proc/<pid>/task`.
pub fn process_threads(pid: u32) -> io::Result<Vec<i32>> {
    let mut tids = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        if let Some(tid) = task?.file_name().to_str().and_then(|s| s.parse().ok()) {
            tids.push(tid);
        }
    }
    Ok(tids)
}

/// Sum of [`thread_cpu_time_precise`] over `tids` (e.g. all shard threads of an engine).
pub fn threads_cpu_time(tids: &[i32]) -> io::Result<Duration> {
    tids.iter().map(|&t| thread_cpu_time_precise(t)).sum()
}

/// Machine-wide CPU time since boot, summed over all CPUs, from `/proc/stat`. Differences
/// over a run say how busy and how noisy the machine was (see [`MachineCpu::busy_since`]).
///
/// Only idle and steal time are used: with a tickless kernel they are accounted exactly,
/// while the user/system split is sampled at clock ticks and misses short bursts of work
/// entirely (a thread waking every 100 µs can show as an idle CPU).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MachineCpu {
    /// idle + iowait.
    pub idle: Duration,
    /// Time the hypervisor ran something else while a virtual CPU wanted to run. Tasks' CPU
    /// times exclude it, so it does not inflate CPU-per-packet figures, but it delays
    /// wake-ups and so shows in latency.
    pub steal: Duration,
    /// Online CPUs.
    pub cpus: usize,
}

impl MachineCpu {
    /// CPU time all tasks used between `earlier` and this reading, `wall` apart: what was
    /// neither idle nor stolen.
    pub fn busy_since(&self, earlier: &MachineCpu, wall: Duration) -> Duration {
        (wall * self.cpus as u32)
            .saturating_sub(self.idle.saturating_sub(earlier.idle))
            .saturating_sub(self.steal.saturating_sub(earlier.steal))
    }
}

/// Reads [`MachineCpu`] from `/proc/stat`.
pub fn machine_cpu() -> io::Result<MachineCpu> {
    parse_machine_cpu(
        &std::fs::read_to_string("/proc/stat")?,
        clock_ticks_per_second(),
    )
}

/// Clock ticks per second of the utime/stime fields in `/proc/.../stat` (`USER_HZ`, 100 on
/// every mainstream architecture).
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf takes a plain integer and touches no memory.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as u64 } else { 100 }
}

/// Raises the soft limit on open files to at least `want` (capped at the hard limit), so one
/// process can hold two sockets per call for thousands of calls. Returns the new soft limit.
pub fn raise_open_files_limit(want: u64) -> io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a live, writable rlimit that outlives the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if lim.rlim_cur >= want {
        return Ok(lim.rlim_cur);
    }
    lim.rlim_cur = want.min(lim.rlim_max);
    // SAFETY: `lim` is a live rlimit; the call only reads it.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(lim.rlim_cur)
}

fn parse_machine_cpu(text: &str, hz: u64) -> io::Result<MachineCpu> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc/stat format");
    let line = text
        .lines()
        .find(|l| l.starts_with("cpu "))
        .ok_or_else(bad)?;
    let f: Vec<u64> = line
        .split_ascii_whitespace()
        .skip(1)
        .map(|x| x.parse().map_err(|_| bad()))
        .collect::<io::Result<_>>()?;
    if f.len() < 8 {
        return Err(bad());
    }
    let cpus = text
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    let ticks = |t: u64| Duration::from_nanos(t * 1_000_000_000 / hz);
    // user nice system idle iowait irq softirq steal ...
    Ok(MachineCpu {
        idle: ticks(f[3] + f[4]),
        steal: ticks(f[7]),
        cpus,
    })
}

fn stat_cpu_time(path: &str) -> io::Result<Duration> {
    let text = std::fs::read_to_string(path)?;
    let ticks = parse_stat_ticks(&text)?;
    let hz = clock_ticks_per_second();
    Ok(Duration::from_nanos(ticks * 1_000_000_000 / hz))
}

/// utime + stime in clock ticks from the text of a `stat` file. The command name (field 2)
/// is in parentheses and may itself contain spaces and parentheses, so fields are counted
/// from the last `)`: after it come field 3 (state) onwards, so utime and stime are the
/// 12th and 13th.
fn parse_stat_ticks(text: &str) -> io::Result<u64> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc stat format");
    let rest = &text[text.rfind(')').ok_or_else(bad)? + 1..];
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let mut next =
        || -> io::Result<u64> { fields.next().ok_or_else(bad)?.parse().map_err(|_| bad()) };
    Ok(next()? + next()?)
}

fn parse_schedstat(text: &str) -> io::Result<Duration> {
    text.split_ascii_whitespace()
        .next()
        .and_then(|f| f.parse().ok())
        .map(Duration::from_nanos)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unexpected schedstat format"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::current_tid;
    use std::time::Instant;

    #[test]
    fn a_process_time_sums_its_threads() {
        let pid = std::process::id();
        let me = current_tid();
        assert!(process_threads(pid).unwrap().contains(&me));
        // Some work on a second thread shows in the process total.
        let spin = std::thread::spawn(|| {
            let t = Instant::now();
            let mut x = 0u64;
            while t.elapsed() < std::time::Duration::from_millis(30) {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            thread_cpu_time_precise(current_tid()).unwrap()
        })
        .join()
        .unwrap();
        let total = process_cpu_time_precise(pid).unwrap();
        assert!(total >= thread_cpu_time_precise(me).unwrap(), "{total:?}");
        assert!(spin >= std::time::Duration::from_millis(5), "{spin:?}");
        assert!(process_cpu_time_precise(u32::MAX).is_err());
    }

    #[test]
    fn parses_stat_with_a_nasty_command_name() {
        let line = "4242 (a) b (c)) S 1 2 3 4 5 6 7 8 9 10 123 45 0 0 20 0 1 0 99 0 0\n";
        assert_eq!(parse_stat_ticks(line).unwrap(), 168);
        assert!(parse_stat_ticks("4242 (x) S 1 2").is_err());
        assert!(parse_stat_ticks("garbage").is_err());
    }

    #[test]
    fn parses_machine_cpu() {
        let text = "cpu  100 1 50 9000 7 2 3 40 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n\
                    cpu1 1 2 3 4 5 6 7 8 9 10\nintr 5\n";
        let m = parse_machine_cpu(text, 100).unwrap();
        assert_eq!(m.idle, Duration::from_millis(90_070));
        assert_eq!(m.steal, Duration::from_millis(400));
        assert_eq!(m.cpus, 2);
        assert!(parse_machine_cpu("cpu0 1 2\n", 100).is_err());
        let later = MachineCpu {
            idle: m.idle + Duration::from_millis(1500),
            steal: m.steal + Duration::from_millis(100),
            cpus: 2,
        };
        // 2 CPUs for 1 s: 2 s, 1.5 idle, 0.1 stolen.
        assert_eq!(
            later.busy_since(&m, Duration::from_secs(1)),
            Duration::from_millis(400)
        );
        assert!(machine_cpu().unwrap().cpus >= 1);
    }

    #[test]
    fn parses_schedstat() {
        assert_eq!(
            parse_schedstat("123456789 42 7\n").unwrap(),
            Duration::from_nanos(123_456_789)
        );
        assert!(parse_schedstat("").is_err());
    }

    #[test]
    fn clock_ticks_are_sane() {
        let hz = clock_ticks_per_second();
        assert!((10..=10_000).contains(&hz), "{hz}");
    }

    #[test]
    fn open_files_limit_is_not_lowered() {
        let now = raise_open_files_limit(0).unwrap();
        assert_eq!(raise_open_files_limit(16).unwrap(), now);
    }

    /// Sanity check of the parsing against a thread that burns ~200 ms of CPU. The worker
    /// spins until its own precise reading says 200 ms (so a busy machine only makes it take
    /// longer); the tick-based reading, parsed independently, must then agree within wide
    /// bounds, and neither may exceed the wall time. This checks units and field positions,
    /// not scheduling.
    #[test]
    fn a_busy_thread_accumulates_cpu_time() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let worker = std::thread::spawn(move || {
            let tid = current_tid();
            tx.send(tid).unwrap();
            go_rx.recv().unwrap();
            let start = thread_cpu_time_precise(tid).unwrap();
            let t = Instant::now();
            let mut x = 0u64;
            while thread_cpu_time_precise(tid).unwrap() - start < Duration::from_millis(200)
                && t.elapsed() < Duration::from_secs(10)
            {
                for _ in 0..100_000 {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            }
            tx.send(0).unwrap();
            go_rx.recv().unwrap();
            x
        });
        let tid = rx.recv().unwrap();
        let before = (
            thread_cpu_time(tid).unwrap(),
            thread_cpu_time_precise(tid).unwrap(),
        );
        let wall = Instant::now();
        go_tx.send(()).unwrap();
        rx.recv().unwrap();
        let wall = wall.elapsed();
        let after = (
            thread_cpu_time(tid).unwrap(),
            thread_cpu_time_precise(tid).unwrap(),
        );
        go_tx.send(()).unwrap();
        worker.join().unwrap();
        let coarse = after.0 - before.0;
        let fine = after.1 - before.1;
        assert!(
            (Duration::from_millis(200)..=wall).contains(&fine),
            "{fine:?} over {wall:?}"
        );
        assert!(
            (Duration::from_millis(100)..=Duration::from_millis(400)).contains(&coarse),
            "{coarse:?} (precise {fine:?})"
        );
        let me = process_cpu_time(std::process::id()).unwrap();
        assert!(me >= coarse, "{me:?} < {coarse:?}");
    }
}
