//! Asks glibc to keep freed memory for reuse. Forward passes and training steps allocate and free
//! the same large activation, logit and gradient buffers over and over; by default glibc maps each
//! one fresh (above 128 KiB) and hands freed heap tops back to the kernel, so every pass pays page
//! faults and page zeroing again, on one thread (measured: about a tenth of a sweep's
//! single-threaded time, a quarter to a half of a study model's training step). Process-wide and
//! idempotent; the cost is a process that keeps its peak heap.

/// Sets glibc's mmap threshold to 32 MiB and its trim threshold to 1 GiB (no-op elsewhere).
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; both values are in glibc's accepted range.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}
