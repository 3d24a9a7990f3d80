//! CPU and memory of the server under test, read from `/proc`.
//!
//! A server is a process and its descendants (nginx: the master and its workers). Memory is
//! summed over them twice: VmRSS, which counts pages shared between processes (nginx's
//! shared-memory zone) once per process, and PSS, which splits them, so it sums to the truth.

use anyhow::Context;

use crate::sys;

#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    /// utime + stime of every process, in clock ticks.
    pub cpu_ticks: u64,
    pub rss_kib: u64,
    pub pss_kib: u64,
    pub processes: usize,
}

impl Usage {
    pub fn cpu_seconds_since(&self, earlier: &Usage) -> f64 {
        self.cpu_ticks.saturating_sub(earlier.cpu_ticks) as f64 / sys::clock_ticks_per_second() as f64
    }
}

/// The usage of `root` and all its descendants now.
pub fn sample(root: u32) -> anyhow::Result<Usage> {
    let mut usage = Usage::default();
    for pid in with_descendants(root)? {
        // A worker may exit between the listing and the reading; it then adds nothing.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        usage.cpu_ticks += cpu_ticks(&stat).with_context(|| format!("cannot parse /proc/{pid}/stat"))?;
        usage.rss_kib += kib_field(&format!("/proc/{pid}/status"), "VmRSS:").unwrap_or(0);
        usage.pss_kib += kib_field(&format!("/proc/{pid}/smaps_rollup"), "Pss:").unwrap_or(0);
        usage.processes += 1;
    }
    anyhow::ensure!(usage.processes > 0, "process {root} does not exist");
    Ok(usage)
}

/// CPU seconds used so far by one process (the load generators).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(cpu_ticks(&stat)? as f64 / sys::clock_ticks_per_second() as f64)
}

/// CPU seconds the whole machine has been busy (every CPU, all but idle and iowait): over a
/// phase, minus the server's and the clients', it shows how much else was running.
pub fn machine_busy_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line.split_whitespace().filter_map(|t| t.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let busy: u64 = ticks.iter().take(8).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, t)| t).sum();
    Some(busy as f64 / sys::clock_ticks_per_second() as f64)
}

/// Connections the kernel dropped because a listen queue was full (`ListenOverflows`): each
/// costs its client a SYN retransmission, one second later.
pub fn listen_overflows() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut rows = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (rows.next()?, rows.next()?);
    let at = names.split_whitespace().position(|name| name == "ListenOverflows")?;
    values.split_whitespace().nth(at)?.parse().ok()
}

/// Kernel memory held by TCP sockets, in KiB (`mem` of `/proc/net/sockstat`, in pages). Over
/// loopback it covers both ends, the server's and the clients'.
pub fn tcp_socket_kib() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/sockstat").ok()?;
    let line = text.lines().find(|l| l.starts_with("TCP:"))?;
    let mut words = line.split_whitespace();
    words.find(|w| *w == "mem")?;
    let pages: u64 = words.next()?.parse().ok()?;
    Some(pages * 4)
}

fn with_descendants(root: u32) -> anyhow::Result<Vec<u32>> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").context("cannot list /proc")? {
        let Some(pid) = entry.ok().and_then(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok())) else {
            continue;
        };
        if let Some(ppid) = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|s| parent(&s)) {
            parents.push((pid, ppid));
        }
    }
    let mut family = vec![root];
    let mut index = 0;
    while index < family.len() {
        let parent_pid = family[index];
        family.extend(parents.iter().filter(|(_, ppid)| *ppid == parent_pid).map(|(pid, _)| *pid));
        index += 1;
    }
    Ok(family)
}

/// The fields after the command name, which may itself contain spaces and parentheses.
fn fields_after_name(stat: &str) -> Option<Vec<&str>> {
    let close = stat.rfind(')')?;
    Some(stat[close + 1..].split_whitespace().collect())
}

fn parent(stat: &str) -> Option<u32> {
    // After the name: state (field 3), ppid (field 4).
    fields_after_name(stat)?.get(1)?.parse().ok()
}

fn cpu_ticks(stat: &str) -> Option<u64> {
    // utime and stime are fields 14 and 15; the list starts at field 3.
    let fields = fields_after_name(stat)?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn kib_field(path: &str, name: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_survive_a_name_with_spaces() {
        let stat = "42 (nginx: worker) S 7 42 42 0 -1 4194624 100 0 0 0 250 31 0 0 20 0 1 0 5 1000 200";
        assert_eq!(parent(stat), Some(7));
        assert_eq!(cpu_ticks(stat), Some(281));
    }
}
