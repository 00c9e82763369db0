//! HTTP over the device's TCP sockets: each `smoltcp` socket carries one staticd-core
//! [`Driver`] at a time, stepped from the main poll loop.
//!
//! Why a poll loop and the core's non-blocking step driver rather than an async executor: the
//! device has one core, one network interface and nothing else to do; `smoltcp` is itself a poll
//! API, so one loop that polls the interface and then steps each connection until none moves
//! needs no executor, no waker plumbing and no per-task stack, and it sleeps (WFI) when all are
//! idle. Every connection's state is a value in a fixed array, visible in one place.
//!
//! A socket's life: listening; a connection arrives and a driver starts on the socket's pair of
//! buffers; the driver ends it (or the peer resets it); the socket closes, reading and dropping
//! what the client still sends for a while (RFC 9112 §9.6), and listens again.

use core::fmt::Write as _;

use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write, WriteReady};
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp::{self, RecvError, State};
use smoltcp::wire::{IpAddress, IpEndpoint};
use staticd_core::drive::{Driver, InputTooSmall, Progress, Record};
use staticd_core::policy::Policy;
use staticd_core::respond::{Now, Site};
use staticd_core::source::Source;
use staticd_core::{CloseReason, clf_date};

use crate::line::Line;

/// How long a closing socket keeps reading and dropping what the client sends before it is
/// reset: long enough for the client to read an error answer (RFC 9112 §9.6).
pub const LINGER_MS: u64 = 2_000;
/// The most steps one connection takes per pass of the loop, so that one fast client cannot
/// starve the others or the interface.
const STEPS_PER_PASS: usize = 8;

/// A `smoltcp` TCP socket as an `embedded-io` stream for the core's driver. Reads never block
/// (the driver asks [`ReadReady`] first); a peer's FIN reads as end of stream.
pub struct SocketIo<'s, 'a>(pub &'s mut tcp::Socket<'a>);

impl core::fmt::Debug for SocketIo<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("SocketIo").field(&self.0.state()).finish()
    }
}

impl ErrorType for SocketIo<'_, '_> {
    type Error = ErrorKind;
}

impl Read for SocketIo<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        match self.0.recv_slice(buf) {
            Ok(n) => Ok(n),
            Err(RecvError::Finished) => Ok(0),
            Err(RecvError::InvalidState) => Err(ErrorKind::NotConnected),
        }
    }
}

impl ReadReady for SocketIo<'_, '_> {
    fn read_ready(&mut self) -> Result<bool, ErrorKind> {
        // Once the peer has closed, a read answers at once with the end of stream.
        Ok(self.0.can_recv() || !self.0.may_recv())
    }
}

impl Write for SocketIo<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        if !self.0.may_send() {
            return Err(ErrorKind::ConnectionReset);
        }
        self.0
            .send_slice(buf)
            .map_err(|_| ErrorKind::ConnectionReset)
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        // The interface sends the queued bytes on its next poll.
        Ok(())
    }
}

impl WriteReady for SocketIo<'_, '_> {
    fn write_ready(&mut self) -> Result<bool, ErrorKind> {
        // A socket that can no longer send says so on the write.
        Ok(self.0.can_send() || !self.0.may_send())
    }
}

/// What one socket is doing.
// reason: there is no heap to box the driver into; a slot holds its largest phase for its whole
// life wherever it lives, so the smaller variants would save nothing.
#[allow(clippy::large_enum_variant)]
enum Phase<'b, R> {
    /// Waiting for a connection, with the buffers the next one will use.
    Listening {
        input: &'b mut [u8],
        output: &'b mut [u8],
    },
    /// Serving a connection.
    Serving(Driver<'b, R>),
    /// Closed by the server at `since_ms`: waiting for the peer, dropping what it still sends.
    Closing {
        input: &'b mut [u8],
        output: &'b mut [u8],
        since_ms: u64,
    },
    /// Between two phases inside [`Slot::poll`]; stays only if a driver could not start.
    Moving,
}

/// One socket and its buffers.
pub struct Slot<'b, R> {
    handle: SocketHandle,
    phase: Phase<'b, R>,
}

impl<R> core::fmt::Debug for Slot<'_, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let phase = match self.phase {
            Phase::Listening { .. } => "listening",
            Phase::Serving(_) => "serving",
            Phase::Closing { .. } => "closing",
            Phase::Moving => "out of service",
        };
        f.debug_struct("Slot")
            .field("handle", &self.handle)
            .field("phase", &phase)
            .finish()
    }
}

impl<'b, R: staticd_core::source::Resource> Slot<'b, R> {
    /// A slot for the socket `handle`, with the input and output buffers each of its
    /// connections uses; the input must hold the policy's `max_request_bytes`.
    pub fn new(
        handle: SocketHandle,
        input: &'b mut [u8],
        output: &'b mut [u8],
        policy: &Policy<'_>,
    ) -> Result<Self, InputTooSmall> {
        if input.len() < policy.max_request_bytes as usize {
            return Err(InputTooSmall);
        }
        Ok(Slot {
            handle,
            phase: Phase::Listening { input, output },
        })
    }

    /// Whether the slot's socket is serving a connection.
    pub fn is_serving(&self) -> bool {
        matches!(self.phase, Phase::Serving(_))
    }

    /// Moves the socket's connection on as far as it goes now; `log` gets one line per answered
    /// request. Returns whether anything moved.
    pub fn poll<S: Source<Resource = R>>(
        &mut self,
        sockets: &mut SocketSet<'_>,
        now: &Now<'_>,
        site: &mut Site<'_, S>,
        log: &mut impl FnMut(&[u8]),
    ) -> bool {
        let socket = sockets.get_mut::<tcp::Socket>(self.handle);
        let phase = core::mem::replace(&mut self.phase, Phase::Moving);
        let (phase, moved) = match phase {
            Phase::Listening { input, output } => listen(socket, input, output, now, site),
            Phase::Serving(driver) => serve(socket, driver, now, site, log),
            Phase::Closing {
                input,
                output,
                since_ms,
            } => linger(socket, input, output, since_ms, now.ms),
            Phase::Moving => (Phase::Moving, false),
        };
        self.phase = phase;
        moved
    }
}

fn listen<'b, R: staticd_core::source::Resource, S: Source<Resource = R>>(
    socket: &mut tcp::Socket<'_>,
    input: &'b mut [u8],
    output: &'b mut [u8],
    now: &Now<'_>,
    site: &mut Site<'_, S>,
) -> (Phase<'b, R>, bool) {
    if !socket.is_open() {
        // Closed, or in TIME-WAIT after an earlier connection: listening again reuses it.
        let _ = socket.listen(crate::net::HTTP_PORT);
        return (Phase::Listening { input, output }, true);
    }
    if !matches!(socket.state(), State::Established | State::CloseWait) {
        return (Phase::Listening { input, output }, false);
    }
    // The header timeout runs from here, on the device's clock.
    match Driver::new(input, output, now.ms, site.policy) {
        Ok(driver) => (Phase::Serving(driver), true),
        // Slot::new checked the input's size against the same policy, so this does not happen;
        // were it to, the socket is refused and the slot stays out of service.
        Err(InputTooSmall) => {
            socket.abort();
            (Phase::Moving, true)
        }
    }
}

fn serve<'b, R: staticd_core::source::Resource, S: Source<Resource = R>>(
    socket: &mut tcp::Socket<'_>,
    mut driver: Driver<'b, R>,
    now: &Now<'_>,
    site: &mut Site<'_, S>,
    log: &mut impl FnMut(&[u8]),
) -> (Phase<'b, R>, bool) {
    if !socket.is_active() {
        // The peer reset the connection, or it timed out in the TCP layer.
        let (input, output) = driver.into_buffers();
        return (Phase::Listening { input, output }, true);
    }
    let remote = socket.remote_endpoint();
    let mut moved = false;
    for _ in 0..STEPS_PER_PASS {
        let mut io = SocketIo(socket);
        let mut log_record = |record: &Record<'_>| log_line(record, remote, now.unix_secs, log);
        match driver.step(&mut io, now, site, &mut log_record) {
            Ok(Progress::Busy) => moved = true,
            Ok(Progress::Idle) => break,
            Ok(Progress::Closed(reason)) => {
                // A FIN after the queued answer, whatever the reason (an idle header timeout
                // is a silent close: the core sent nothing).
                let _: CloseReason = reason;
                socket.close();
                let (input, output) = driver.into_buffers();
                return (
                    Phase::Closing {
                        input,
                        output,
                        since_ms: now.ms,
                    },
                    true,
                );
            }
            Err(_) => {
                socket.abort();
                let (input, output) = driver.into_buffers();
                return (Phase::Listening { input, output }, true);
            }
        }
    }
    (Phase::Serving(driver), moved)
}

fn linger<'b, R>(
    socket: &mut tcp::Socket<'_>,
    input: &'b mut [u8],
    output: &'b mut [u8],
    since_ms: u64,
    now_ms: u64,
) -> (Phase<'b, R>, bool) {
    if !socket.is_open() {
        let _ = socket.listen(crate::net::HTTP_PORT);
        return (Phase::Listening { input, output }, true);
    }
    if now_ms.saturating_sub(since_ms) >= LINGER_MS {
        socket.abort();
        return (Phase::Listening { input, output }, true);
    }
    let mut moved = false;
    while socket.can_recv() {
        match socket.recv_slice(input) {
            Ok(n) if n > 0 => moved = true,
            _ => break,
        }
    }
    (
        Phase::Closing {
            input,
            output,
            since_ms,
        },
        moved,
    )
}

/// One access-log line in the Combined Log Format: client, date, request line, status, body
/// bytes, Referer, User-Agent. Request bytes that are not printable ASCII, and `"` and `\`, are
/// written as `\xHH`.
pub fn log_line(
    record: &Record<'_>,
    remote: Option<IpEndpoint>,
    unix_secs: u64,
    out: &mut impl FnMut(&[u8]),
) {
    let mut line = Line::<512>::new();
    match remote.map(|endpoint| endpoint.addr) {
        Some(IpAddress::Ipv4(address)) => write_ipv4(&mut line, address),
        None => line.push_bytes(b"-"),
    }
    line.push_bytes(b" - - [");
    line.push_bytes(&clf_date(unix_secs));
    line.push_bytes(b"] \"");
    escaped(&mut line, record.exchange.request_line);
    let _ = write!(line, "\" {} {} \"", record.status.as_u16(), record.body_len);
    escaped(&mut line, record.exchange.referer.unwrap_or(b"-"));
    line.push_bytes(b"\" \"");
    escaped(&mut line, record.exchange.user_agent.unwrap_or(b"-"));
    line.push_bytes(b"\"");
    if let Some(fault) = record.fault {
        let _ = write!(line, " fault={fault}");
    }
    line.push_bytes(b"\n");
    out(line.as_bytes());
}

/// Dotted-quad from the octets: core's `Ipv4Addr` formatting carries a panic path (an internal
/// `unwrap`) that the device's no-panic check would have to list.
pub fn write_ipv4<const N: usize>(line: &mut Line<N>, address: smoltcp::wire::Ipv4Address) {
    let [a, b, c, d] = address.octets();
    let _ = write!(line, "{a}.{b}.{c}.{d}");
}

fn escaped<const N: usize>(line: &mut Line<N>, bytes: &[u8]) {
    for &byte in bytes {
        if (0x20..0x7f).contains(&byte) && byte != b'"' && byte != b'\\' {
            line.push_bytes(&[byte]);
        } else {
            let _ = write!(line, "\\x{byte:02x}");
        }
    }
}
