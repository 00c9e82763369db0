//! The service manager's two protocols, spoken directly (each is a few lines):
//!
//! - readiness (sd_notify(3)): when `NOTIFY_SOCKET` names a unix datagram socket (a path, or
//!   `@name` in the abstract namespace), staticd sends `READY=1` once it listens and `STOPPING=1`
//!   when a stop begins, so `Type=notify` units start their dependents at the right time;
//! - socket activation (sd_listen_fds(3)): when `LISTEN_PID` is this process and `LISTEN_FDS` is
//!   1, the listening socket is descriptor 3, bound by the manager (a low port needs no privilege
//!   in staticd then), and staticd serves it instead of binding `server.host`/`server.port`.

use std::io;
use std::net::TcpListener;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixDatagram;

/// The first descriptor the manager passes (after stdin, stdout and stderr).
const LISTEN_FDS_START: i32 = 3;

/// Sends `state` (`READY=1`, `STOPPING=1`, ...) to the manager; `Ok(false)` when there is no
/// `NOTIFY_SOCKET` (not run by a manager that wants it).
pub fn notify(state: &str) -> io::Result<bool> {
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(false);
    };
    let socket = UnixDatagram::unbound()?;
    let bytes = target.as_encoded_bytes();
    match bytes.strip_prefix(b"@") {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            socket.send_to_addr(state.as_bytes(), &addr)?;
        }
        None => {
            socket.send_to(state.as_bytes(), &target)?;
        }
    }
    Ok(true)
}

/// A failure to take the passed socket: a start-up error.
#[derive(Debug)]
pub struct ListenFdsError(pub String);

/// The listening socket passed by the manager, if `LISTEN_PID`/`LISTEN_FDS` say there is one for
/// this process. Call once, first thing in `main`, before anything opens a descriptor.
pub fn take_listen_fd() -> Result<Option<TcpListener>, ListenFdsError> {
    let fail = |reason: String| Err(ListenFdsError(format!("LISTEN_FDS: {reason}")));
    let Some(pid) = std::env::var_os("LISTEN_PID") else {
        return Ok(None);
    };
    // For another process (a parent that did not clear its environment): not ours to take.
    if pid.to_str().and_then(|p| p.parse::<i32>().ok())
        != Some(rustix::process::getpid().as_raw_nonzero().get())
    {
        return Ok(None);
    }
    let count = std::env::var("LISTEN_FDS").unwrap_or_default();
    match count.parse::<u32>() {
        Ok(0) => return Ok(None),
        Ok(1) => {}
        Ok(n) => {
            return fail(format!(
                "{n} sockets passed; staticd serves one (one ListenStream= in the socket unit)"
            ));
        }
        Err(_) => return fail(format!("{count:?} is not a number of sockets")),
    }
    let fd = take_passed_fd();
    use rustix::net::{AddressFamily, SocketType, sockopt};
    let is_tcp_listener = sockopt::socket_type(&fd).is_ok_and(|t| t == SocketType::STREAM)
        && sockopt::socket_acceptconn(&fd).unwrap_or(false)
        && sockopt::socket_domain(&fd)
            .is_ok_and(|d| d == AddressFamily::INET || d == AddressFamily::INET6);
    if !is_tcp_listener {
        return fail(
            "descriptor 3 is not a listening TCP socket (ListenStream= with an address or port)"
                .to_owned(),
        );
    }
    // The manager may pass it blocking and inheritable; staticd's listeners are neither.
    let flags = rustix::io::fcntl_getfd(&fd)
        .map_err(|e| ListenFdsError(format!("LISTEN_FDS: descriptor 3: {e}")))?;
    rustix::io::fcntl_setfd(&fd, flags | rustix::io::FdFlags::CLOEXEC)
        .and_then(|()| rustix::io::ioctl_fionbio(&fd, true))
        .map_err(|e| ListenFdsError(format!("LISTEN_FDS: descriptor 3: {e}")))?;
    Ok(Some(TcpListener::from(fd)))
}

/// Takes ownership of descriptor 3.
#[allow(unsafe_code)] // reason: the protocol hands over a descriptor by its number
fn take_passed_fd() -> OwnedFd {
    // SAFETY: `LISTEN_PID` names this process and `LISTEN_FDS` is 1, so by sd_listen_fds(3) the
    // manager opened descriptor 3 for this process and nothing else owns it: `main` calls this
    // once, before staticd opens any file or socket, so no `File` or socket of ours can hold
    // number 3. The descriptor is checked to be a listening socket before it is used.
    unsafe { OwnedFd::from_raw_fd(LISTEN_FDS_START) }
}
