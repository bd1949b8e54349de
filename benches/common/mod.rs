//! Pieces the benchmarks share.

use faultline::node::Protocol;
use faultline::sim::{Observer, SimTime, TraceEvent, WorldView};

/// An observer that does nothing: the engine alone.
pub struct Nothing;

impl<P: Protocol> Observer<P> for Nothing {
    fn observe(&mut self, _: SimTime, _: &TraceEvent<'_, P>, _: &WorldView<'_>) {}
}

/// Peak resident memory since the last reset, in MiB (Linux only).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets the peak that `peak_rss_mib` reads (Linux only; ignored elsewhere).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
