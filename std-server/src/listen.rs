//! The listening sockets: one per worker on one address, or the ones a service manager passed in.
//!
//! Each worker owns its own `SO_REUSEPORT` listener, so the kernel spreads new connections across
//! the workers' accept queues (no shared queue, no thundering herd). `SO_REUSEPORT` alone would also
//! let a second staticd started by the same user join the group on a port this one already serves,
//! and the kernel would silently split the traffic between the two. So before binding its own group
//! staticd binds a probe socket to the address *without* `SO_REUSEPORT`: the kernel refuses that
//! bind (`EADDRINUSE`) while any socket listens there, whoever owns it, and the probe is closed
//! before the group binds. The probe also takes the free port when the configured port is 0.
//! Only two staticd processes started within the same few microseconds on the same port could
//! both pass the probe; that window is what the kernel's API leaves.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

/// Issue 3 asks for at least 1024; the kernel caps it at net.core.somaxconn.
const LISTEN_BACKLOG: i32 = 4096;

/// One listener per worker: clones of `passed` (a socket from the service manager: the workers
/// then share its accept queue, since SO_REUSEPORT cannot be added to a socket already bound), or
/// a new group on `host:port`.
pub fn listeners(
    passed: Option<TcpListener>,
    host: &str,
    port: u16,
    count: usize,
) -> io::Result<Vec<TcpListener>> {
    match passed {
        Some(listener) => {
            let mut all = Vec::with_capacity(count.max(1));
            for _ in 1..count.max(1) {
                all.push(listener.try_clone()?);
            }
            all.push(listener);
            Ok(all)
        }
        None => bind_listeners(host, port, count),
    }
}

/// One listener per worker on `host:port`; port 0 picks a free port for all of them. Fails with
/// `AddrInUse` when any other socket already listens on the address.
pub fn bind_listeners(host: &str, port: u16, count: usize) -> io::Result<Vec<TcpListener>> {
    let addr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::AddrNotAvailable, "no address"))?;
    let bound = probe_free(addr)?;
    let mut listeners = Vec::with_capacity(count.max(1));
    for _ in 0..count.max(1) {
        listeners.push(listener_on(bound)?);
    }
    Ok(listeners)
}

/// A bind error as a user reads it: "address in use" says who may hold it.
pub fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::AddrInUse => {
            format!("{e}: another process (perhaps another staticd) listens there")
        }
        _ => e.to_string(),
    }
}

/// Binds (without listening) a socket without `SO_REUSEPORT` on `addr` and returns the address it
/// got; the socket is closed on return. `SO_REUSEADDR` is set so that connections of an earlier
/// staticd still in TIME_WAIT do not count as "in use", as they do not for the listeners.
fn probe_free(addr: SocketAddr) -> io::Result<SocketAddr> {
    let probe = socket_for(addr)?;
    rustix::net::sockopt::set_socket_reuseaddr(&probe, true)?;
    rustix::net::bind(&probe, &addr)?;
    let bound = rustix::net::getsockname(&probe)?;
    SocketAddr::try_from(bound).map_err(|_| io::Error::other("probe bound a non-IP address"))
}

fn socket_for(addr: SocketAddr) -> io::Result<rustix::fd::OwnedFd> {
    use rustix::net::{AddressFamily, SocketFlags, SocketType, sockopt};
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = rustix::net::socket_with(
        family,
        SocketType::STREAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )?;
    if addr.is_ipv6() {
        sockopt::set_ipv6_v6only(&fd, true)?;
    }
    Ok(fd)
}

/// One member of the worker group on `addr`: `SO_REUSEADDR`, `SO_REUSEPORT`, `TCP_NODELAY`.
pub fn listener_on(addr: SocketAddr) -> io::Result<TcpListener> {
    use rustix::net::sockopt;
    let fd = socket_for(addr)?;
    sockopt::set_socket_reuseaddr(&fd, true)?;
    sockopt::set_socket_reuseport(&fd, true)?;
    // Accepted sockets inherit TCP_NODELAY from the listener on Linux: one setsockopt per
    // connection saved (a seventh of the syscalls of a Connection: close request).
    sockopt::set_tcp_nodelay(&fd, true)?;
    rustix::net::bind(&fd, &addr)?;
    rustix::net::listen(&fd, LISTEN_BACKLOG)?;
    Ok(TcpListener::from(fd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_sockets_inherit_nodelay_from_the_listener() {
        let listener = listener_on("127.0.0.1:0".parse().unwrap()).unwrap();
        listener.set_nonblocking(false).unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        assert!(accepted.nodelay().unwrap());
    }

    #[test]
    fn the_group_shares_one_port_and_a_second_group_is_refused() {
        let first = bind_listeners("127.0.0.1", 0, 3).unwrap();
        let port = first[0].local_addr().unwrap().port();
        assert!(first.iter().all(|l| l.local_addr().unwrap().port() == port));
        let second = bind_listeners("127.0.0.1", port, 2).unwrap_err();
        assert_eq!(second.kind(), io::ErrorKind::AddrInUse, "{second}");
        // The wildcard address overlaps 127.0.0.1: refused too.
        let wildcard = bind_listeners("0.0.0.0", port, 1).unwrap_err();
        assert_eq!(wildcard.kind(), io::ErrorKind::AddrInUse, "{wildcard}");
        drop(first);
        // Once the first group is closed the port is free again (no connection, no TIME_WAIT).
        assert!(bind_listeners("127.0.0.1", port, 1).is_ok());
    }
}
