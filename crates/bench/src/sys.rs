//! The few system calls the standard library does not offer, each wrapped safely.
//!
//! This is the only module allowed `unsafe`: every block is a plain libc call on values owned
//! here, with the reason it is sound next to it.
#![allow(unsafe_code)]

use std::os::fd::AsRawFd;

/// Nanoseconds on `CLOCK_MONOTONIC`, the one clock every process on the host shares: the
/// publisher stamps a message with it and the receivers, in other processes, subtract it.
pub fn monotonic_ns() -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec and CLOCK_MONOTONIC always exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    debug_assert_eq!(rc, 0, "CLOCK_MONOTONIC is always readable");
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// Clock ticks per second, the unit of utime and stime in `/proc/<pid>/stat`.
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads a constant of the running system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as u64 } else { 100 }
}

/// Lets a socket bound to a source address with port 0 pick its port at `connect` time, by the
/// whole 4-tuple: without it each source address offers ~28k ports for every destination
/// together, and the TIME_WAIT sockets of an earlier run would use them up.
pub fn bind_address_no_port(socket: &impl AsRawFd) -> std::io::Result<()> {
    let enable: libc::c_int = 1;
    // SAFETY: the descriptor is an open socket owned by the caller for the whole call, and the
    // option value points at a c_int that lives across it, with its exact size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&enable as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}
