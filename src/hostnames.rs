//! Host names in the static release binary: `/etc/hosts`, then DNS, as the
//! `hosts: files dns` of most systems, whatever the host's nsswitch.conf says.
//!
//! Rekor, Redis and MySQL addresses all resolve through the C library's
//! `getaddrinfo` (ureq, redis and mysql call it through std). In the static
//! binary (`make release`, glibc's `libc.a`) the `files` and `dns` sources are
//! built in (glibc 2.34+), but any other source named on the `hosts:` line of
//! the host's `/etc/nsswitch.conf` (`mdns4_minimal`, `myhostname`, `resolve`,
//! `sss`) is loaded with `dlopen` from the host's shared libraries, which pull
//! in the host's own `libc.so.6`: with another glibc version the process
//! aborts in `_dl_call_libc_early_init` (seen on Debian 11 with libnss-mdns).
//! So the static binary fixes its `hosts` sources to `files dns` before any
//! lookup, with glibc's `__nss_configure_lookup`, the way Go's resolver reads
//! only those two. A dynamically linked build keeps the host's configuration.

/// Restricts host-name lookups to `/etc/hosts` and DNS when the C library is
/// linked statically; does nothing otherwise. Call it before any thread starts.
pub fn use_builtin_sources() -> Result<(), &'static str> {
    #[cfg(all(target_os = "linux", target_env = "gnu", target_feature = "crt-static"))]
    {
        use std::ffi::{c_char, c_int};
        extern "C" {
            fn __nss_configure_lookup(db: *const c_char, service_line: *const c_char) -> c_int;
        }
        // SAFETY: both arguments are NUL-terminated static strings; glibc
        // copies what it keeps. Called from main before other threads exist.
        let status = unsafe { __nss_configure_lookup(c"hosts".as_ptr(), c"files dns".as_ptr()) };
        if status != 0 {
            return Err("glibc refused the hosts configuration \"files dns\"");
        }
    }
    Ok(())
}
