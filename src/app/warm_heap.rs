//! Faults in the heap the alert job is about to fill, on the core the job is not using.
//!
//! A churn day's job grows the heap by about 80 MB (mostly SQLite's page cache), and the kernel
//! zeroes each new page the first time it is touched. On the virtual machines muster is measured
//! on, that zeroing was 30% of the job's main thread. A second thread touches the pages first
//! and hands them back to the allocator, which then serves the job's allocations from them.
//!
//! Only with glibc's allocator, whose behaviour this relies on: blocks under its mmap threshold
//! come from the main heap, and freed memory is kept (not trimmed) while the job runs.

/// How much of the heap to fault in: the job's page cache, about what a churn day fills.
const BYTES: usize = 64 << 20;
/// Each block stays under the mmap threshold set below, so it comes from the heap.
const BLOCK: usize = 8 << 20;

/// A thread touching heap pages; dropping it waits for the thread and puts glibc's trimming back.
pub struct WarmHeap(Option<std::thread::JoinHandle<()>>);

impl WarmHeap {
    /// Starts touching, or does nothing where it cannot (another allocator, no thread).
    pub fn start() -> WarmHeap {
        if !cfg!(all(target_os = "linux", target_env = "gnu")) {
            return WarmHeap(None);
        }
        set_heap_kept(true);
        // Taken on this thread, so the blocks come from the heap this thread allocates from.
        let blocks: Vec<Vec<u8>> = (0..BYTES / BLOCK).map(|_| Vec::with_capacity(BLOCK)).collect();
        let touch = move || {
            run_only_when_idle();
            for mut block in blocks {
                let spare = block.spare_capacity_mut();
                for page in spare.chunks_mut(4096) {
                    // Volatile: a store to memory freed right after is otherwise left out.
                    // SAFETY: the pointer is to the block's own allocated (uninitialised) bytes.
                    unsafe { page.as_mut_ptr().cast::<u8>().write_volatile(0) };
                }
                // Freed here: the pages go back to the heap already faulted in.
                drop(block);
            }
        };
        WarmHeap(std::thread::Builder::new().name("warm heap".into()).spawn(touch).ok())
    }
}

impl Drop for WarmHeap {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
            set_heap_kept(false);
        }
    }
}

/// Gives the core to the job's own threads whenever they want it: touching pages is worth
/// doing only on a core nobody else needs (on two cores, the daily run's median went from
/// 0.645 s to 0.605 s this way, and gained nothing when the thread competed with the job's).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn run_only_when_idle() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: changes only the calling thread's policy; failing leaves it as it was.
    unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn run_only_when_idle() {}

/// While `kept`, blocks up to 32 MB come from the heap and freed memory stays in it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_heap_kept(kept: bool) {
    // glibc's defaults: 128 KiB for both, adjusted as the program frees large blocks.
    let (mmap_threshold, trim_threshold) = if kept { (32 << 20, i32::MAX) } else { (128 << 10, 128 << 10) };
    // SAFETY: mallopt only changes allocator parameters; it is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, mmap_threshold);
        libc::mallopt(libc::M_TRIM_THRESHOLD, trim_threshold);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_heap_kept(_kept: bool) {}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// Page faults this thread has taken so far.
    fn faults() -> i64 {
        // SAFETY: getrusage fills the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
        usage.ru_minflt
    }

    /// 16 MB in page-sized pieces, each written, as SQLite's page cache fills.
    fn fill() -> i64 {
        let before = faults();
        let pages: Vec<Vec<u8>> = (0..4096).map(|_| vec![1u8; 4096]).collect();
        let taken = faults() - before;
        drop(pages);
        taken
    }

    #[test]
    fn memory_taken_after_the_warming_is_already_faulted_in() {
        let warm = WarmHeap::start();
        while !warm.0.as_ref().is_none_or(|thread| thread.is_finished()) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let warmed = fill();
        drop(warm);
        // 16 MB fresh from the kernel is 4,096 faults.
        assert!(warmed < 400, "{warmed} page faults filling a warmed heap");
    }
}
