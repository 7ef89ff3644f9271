//! Who is at the keyboard: the operating-system account (from the real uid), the host, and the
//! SSH client address. SSH has already authenticated the account; muster adds no passwords.

use crate::store::audit::Origin;
use std::ffi::CStr;

/// The account that runs this process, as the password database names it.
#[derive(Debug, Clone)]
pub struct OsAccount {
    pub login: String,
    /// The GECOS full name, or the login where there is none.
    pub full_name: String,
}

/// Looks up the real uid (not the effective one: a setuid wrapper must not change who acts).
pub fn os_account() -> anyhow::Result<OsAccount> {
    let uid = unsafe { libc::getuid() };
    let mut buf = vec![0u8; 16 * 1024];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: buf outlives every pointer getpwuid_r stores in pwd; result is checked for null.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() {
        anyhow::bail!(
            "your account (uid {uid}) has no entry in the password database, so muster cannot tell who you are"
        );
    }
    let login = unsafe { CStr::from_ptr(pwd.pw_name) }.to_string_lossy().into_owned();
    let gecos = if pwd.pw_gecos.is_null() {
        String::new()
    } else {
        unsafe { CStr::from_ptr(pwd.pw_gecos) }.to_string_lossy().into_owned()
    };
    let full_name = gecos.split(',').next().unwrap_or("").trim().to_string();
    Ok(OsAccount { full_name: if full_name.is_empty() { login.clone() } else { full_name }, login })
}

/// Whether this process runs with another account's rights than its caller's (a setuid binary):
/// then nothing the caller's environment says may steer where data lives or what a day is.
pub fn running_setuid() -> bool {
    // SAFETY: getuid and geteuid cannot fail and touch no memory.
    unsafe { libc::getuid() != libc::geteuid() }
}

/// The home directory of the account whose rights this process has (the effective uid): under
/// setuid, the service account that owns the data.
pub fn service_home() -> Option<std::path::PathBuf> {
    // SAFETY: as in `os_account`: the buffer outlives every pointer getpwuid_r stores.
    let uid = unsafe { libc::geteuid() };
    let mut buf = vec![0u8; 16 * 1024];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() || pwd.pw_dir.is_null() {
        return None;
    }
    let dir = unsafe { CStr::from_ptr(pwd.pw_dir) }.to_string_lossy().into_owned();
    Some(std::path::PathBuf::from(dir))
}

/// Opens a file the caller named (an import, a W-9, a settings file) with the caller's own
/// rights: under setuid, a caller must not read through muster what only the service account
/// may read (the database, its audit key).
pub fn open_as_caller(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    as_caller(|| std::fs::File::open(path))
}

/// Does `work` (opening, creating or removing a file the caller named) with the caller's own
/// rights when muster runs setuid, and with the service account's again afterwards.
pub fn as_caller<T>(work: impl FnOnce() -> std::io::Result<T>) -> std::io::Result<T> {
    if !running_setuid() {
        return work();
    }
    // SAFETY: seteuid has no memory effects; the saved set-user-ID lets us take the service
    // account's rights back afterwards.
    let (real, service) = unsafe { (libc::getuid(), libc::geteuid()) };
    if unsafe { libc::seteuid(real) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let done = work();
    if unsafe { libc::seteuid(service) } != 0 {
        // Going on with the wrong rights would be worse than stopping.
        eprintln!("muster: cannot take the service account's rights back; stopping");
        std::process::abort();
    }
    done
}

pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it or fails.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The SSH client's address from `SSH_CONNECTION` or `SSH_CLIENT`, else `local`.
pub fn client_address(ssh_connection: Option<&str>, ssh_client: Option<&str>) -> String {
    ssh_connection
        .or(ssh_client)
        .and_then(|v| v.split_whitespace().next())
        .filter(|addr| !addr.is_empty())
        .map_or_else(|| "local".to_string(), str::to_string)
}

/// Where this process's changes come from, for audit entries and signatures.
pub fn this_origin(os: &OsAccount) -> Origin {
    Origin {
        host: hostname(),
        client: client_address(
            std::env::var("SSH_CONNECTION").ok().as_deref(),
            std::env::var("SSH_CLIENT").ok().as_deref(),
        ),
        os_account: os.login.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_address_prefers_ssh_connection() {
        assert_eq!(client_address(Some("203.0.113.9 51000 10.0.0.1 22"), Some("198.51.100.1 1 22")), "203.0.113.9");
        assert_eq!(client_address(None, Some("198.51.100.1 51000 22")), "198.51.100.1");
        assert_eq!(client_address(None, None), "local");
        assert_eq!(client_address(Some(""), None), "local");
    }

    #[test]
    fn this_process_has_an_account() {
        let me = os_account().unwrap();
        assert!(!me.login.is_empty());
        assert!(!me.full_name.is_empty());
    }
}
