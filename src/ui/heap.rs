//! The C heap under the window: glibc's malloc settings for the libraries that paint the frame.
//!
//! eventflow's own allocations go to mimalloc (`src/lib.rs`), but the GL driver allocates with
//! glibc's malloc. With Mesa's software renderer (llvmpipe: virtual displays, remote desktops,
//! the CI and workshop machines without a GPU), every frame allocates a few megabytes of
//! vertex and command buffers and frees them again. glibc then gives the top of its heap back
//! to the kernel (its trim threshold is 128 KiB until it adapts) and takes it back on the next
//! frame, so the UI thread spent about a third of its time in page faults zeroing fresh pages
//! (perf, issue 16). Letting the heap keep [`TRIM_THRESHOLD`] bytes it has freed halved the
//! frame CPU of the biggest bundled scenario under Xvfb (40 → 21 ms under the same load; the
//! mmap threshold alone changed nothing). Serving blocks up to [`MMAP_THRESHOLD`] from the heap
//! keeps large buffers from taking the same round trip through fresh mappings. The cost is at most that much memory
//! held after a large frame; drivers with their own allocators are unaffected.

/// Freed bytes at the top of glibc's heap that it keeps instead of returning them (64 MiB).
pub const TRIM_THRESHOLD: i32 = 64 << 20;

/// The block size from which glibc maps memory for one block instead of using its heap
/// (32 MiB, the most glibc's own adaptive threshold ever reaches on 64-bit machines).
pub const MMAP_THRESHOLD: i32 = 32 << 20;

/// Sets glibc's trim and mmap thresholds; call before the window (and its GL context) exists.
/// Returns whether both were accepted (always false where the C library is not glibc).
#[must_use]
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    {
        // SAFETY: `mallopt` takes no pointers and only changes two of glibc's tuning values,
        // under its own arena lock; any value is valid for these parameters.
        let (trim, mmap) = unsafe {
            (
                libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD),
                libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD),
            )
        };
        trim == 1 && mmap == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_accepts_both_thresholds() {
        // mallopt returns 1 on success and 0 for a parameter or value it rejects; glibc caps
        // M_MMAP_THRESHOLD at HEAP_MAX_SIZE / 2 = 32 MiB on 64-bit, so a larger value would fail.
        assert!(keep_freed_memory());
    }
}
