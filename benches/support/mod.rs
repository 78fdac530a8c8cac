//! Helpers shared by the benchmarks.

/// The high-water resident set size (VmHWM, in KiB) of a running process, read
/// from `/proc`; `None` once it has exited or where `/proc` does not exist.
pub(crate) fn peak_rss_kb(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}
