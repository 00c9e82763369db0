//! The server process as `/proc` sees it (threads, memory, descriptors, CPU time, limits), and a
//! bounded poll.

use std::thread;
use std::time::{Duration, Instant};

/// A `Key:   value` field of `/proc/PID/status` (first word of the value).
fn proc_status_field(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Number of threads of the process.
pub fn threads(pid: u32) -> u64 {
    proc_status_field(pid, "Threads").expect("Threads in /proc/PID/status")
}

/// Resident set size in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    proc_status_field(pid, "VmRSS").expect("VmRSS in /proc/PID/status")
}

/// Number of open file descriptors of the process.
pub fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read /proc/PID/fd")
        .count()
}

/// utime + stime of the process, in clock ticks (fields 14 and 15 of `/proc/PID/stat`).
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/PID/stat");
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    let after = &stat[stat.rfind(')').expect("comm in stat") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state): utime is field 14, stime 15.
    let utime: u64 = fields[11].parse().expect("utime");
    let stime: u64 = fields[12].parse().expect("stime");
    utime + stime
}

/// Soft limit on open files of the process, from `/proc/PID/limits`.
pub fn nofile_soft_limit(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Raises this process's soft RLIMIT_NOFILE to `want` (or to the hard limit if lower); returns the
/// soft limit now in force. Children spawned afterwards inherit it.
pub fn raise_own_nofile(want: u64) -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let current = getrlimit(Resource::Nofile);
    let hard = current.maximum.unwrap_or(u64::MAX);
    let soft = want.min(hard);
    if current.current.is_some_and(|c| c >= soft) {
        return current.current.unwrap_or(soft);
    }
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(soft),
            maximum: current.maximum,
        },
    )
    .expect("setrlimit NOFILE");
    soft
}

/// Polls `f` every 50 ms until it returns true or `within` passes; whether it did.
pub fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Non-empty stderr lines of the server that look like a reported problem.
pub fn problem_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            ["error", "panic", "reset", "broken pipe", "os error", "warn"]
                .iter()
                .any(|w| l.contains(w))
        })
        .map(str::to_string)
        .collect()
}

/// What each open descriptor of the process points at (`socket:[..]`, a path, `anon_inode:..`).
pub fn fd_targets(pid: u32) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .map(|t| t.display().to_string())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}
