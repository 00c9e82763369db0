//! Drivers: a [`Connection`] over a byte stream, with the caller's two buffers.
//!
//! - [`Driver::step`]: one non-blocking step over `embedded_io` traits, for a poll loop (a
//!   device with a TCP/IP stack polls its interface and steps each socket's driver in turn);
//!   [`serve`] runs the steps to the end of one connection.
//! - [`serve_async`] (feature `async`): the same over `embedded-io-async`, awaiting either input
//!   or the connection's next deadline. No executor, network stack or runtime type appears: the
//!   caller brings the socket and a [`Timer`].
//!
//! Both send a response's [`Segment`]s in order, copying a file's bytes through the free end of
//! the output buffer with [`Resource::read_at`].
//!
//! Buffers: `input` must hold [`Policy::max_request_bytes`](crate::policy::Policy) bytes;
//! `output` must hold the longest head plus some room to copy file bytes through
//! ([`MIN_SINK_BYTES`](crate::respond::MIN_SINK_BYTES) and more; 1 to 2 KiB suits a device).

use embedded_io::{Read, ReadReady, Write, WriteReady};

use crate::conn::{CloseReason, Connection, Event, Exchange, Step, move_within};
use crate::date::HttpDate;
use crate::policy::Policy;
use crate::respond::{Now, Response, Segment, Site};
use crate::source::{ReadError, Resource, Source};
use crate::status::StatusCode;
use crate::write::SliceWriter;

/// One answered request, for a log line.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The request.
    pub exchange: Exchange<'a>,
    /// The status sent.
    pub status: StatusCode,
    /// Body bytes in the response.
    pub body_len: u64,
    /// The server's fault behind a 500, if any.
    pub fault: Option<&'static str>,
}

/// The input buffer is shorter than the policy's `max_request_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InputTooSmall;

/// What a [`Driver::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Progress {
    /// Something moved: step again.
    Busy,
    /// Nothing to do until input arrives, the socket drains or a deadline passes.
    Idle,
    /// The connection is over: close the socket.
    Closed(CloseReason),
}

/// A response being sent: the segment at `index`, `done` bytes into it.
#[derive(Debug)]
struct Outgoing<R> {
    response: Response<R>,
    index: usize,
    done: u64,
    /// File bytes copied into the output buffer and not yet written: `start..end`.
    copied: (usize, usize),
    /// The free part of the output buffer, after the response's written bytes.
    scratch_from: usize,
}

impl<R: Resource> Outgoing<R> {
    fn new(response: Response<R>) -> Self {
        let scratch_from = response
            .segments
            .iter()
            .filter_map(|s| match s {
                Segment::Written { end, .. } => Some(*end),
                Segment::Resource { .. } => None,
            })
            .max()
            .unwrap_or(0);
        Self {
            response,
            index: 0,
            done: 0,
            copied: (0, 0),
            scratch_from,
        }
    }

    /// The next bytes to send (`None` when the response is out), as a range of `out`.
    fn next(&mut self, out: &mut [u8]) -> Result<Option<(usize, usize)>, ReadError> {
        loop {
            let Some(&segment) = self.response.segments.get(self.index) else {
                return Ok(None);
            };
            match segment {
                Segment::Written { start, end } => {
                    let from =
                        start.saturating_add(usize::try_from(self.done).unwrap_or(usize::MAX));
                    if from < end {
                        return Ok(Some((from, end)));
                    }
                }
                Segment::Resource { start, end } => {
                    if self.copied.0 < self.copied.1 {
                        return Ok(Some(self.copied));
                    }
                    let at = start.saturating_add(self.done);
                    if at < end {
                        let Some(resource) = self.response.resource.as_ref() else {
                            return Err(ReadError);
                        };
                        let room = out.get_mut(self.scratch_from..).unwrap_or_default();
                        let want =
                            usize::try_from(end - at).map_or(room.len(), |w| w.min(room.len()));
                        let room = room.get_mut(..want).unwrap_or_default();
                        let n = resource.read_at(at, room)?;
                        if n == 0 {
                            // The resource ended early: the promised length cannot be kept.
                            return Err(ReadError);
                        }
                        self.copied = (self.scratch_from, self.scratch_from + n);
                        return Ok(Some(self.copied));
                    }
                }
            }
            self.index += 1;
            self.done = 0;
        }
    }

    /// `n` bytes of the last [`Outgoing::next`] were written.
    fn wrote(&mut self, n: usize) {
        self.done = self.done.saturating_add(n as u64);
        if matches!(
            self.response.segments.get(self.index),
            Some(Segment::Resource { .. })
        ) {
            self.copied.0 = self.copied.0.saturating_add(n).min(self.copied.1);
        }
    }
}

/// A [`Connection`] with its buffers, stepped over a non-blocking stream.
#[derive(Debug)]
pub struct Driver<'b, R> {
    conn: Connection,
    input: &'b mut [u8],
    filled: usize,
    /// New input, or a response just finished: the buffered bytes are worth parsing.
    fresh: bool,
    output: &'b mut [u8],
    outgoing: Option<Outgoing<R>>,
    closed: Option<CloseReason>,
}

impl<'b, R: Resource> Driver<'b, R> {
    /// A driver for a connection accepted at `now_ms`.
    pub fn new(
        input: &'b mut [u8],
        output: &'b mut [u8],
        now_ms: u64,
        policy: &Policy<'_>,
    ) -> Result<Self, InputTooSmall> {
        if input.len() < policy.max_request_bytes as usize {
            return Err(InputTooSmall);
        }
        Ok(Self {
            conn: Connection::new(now_ms, policy.header_timeout_ms),
            input,
            filled: 0,
            fresh: false,
            output,
            outgoing: None,
            closed: None,
        })
    }

    /// Gives the buffers back, for the next connection on the same socket (a device keeps one
    /// pair per socket for its whole life).
    pub fn into_buffers(self) -> (&'b mut [u8], &'b mut [u8]) {
        (self.input, self.output)
    }

    /// The connection's next deadline (milliseconds), for a caller that sleeps between steps.
    pub fn deadline(&self) -> Option<u64> {
        self.conn.deadline()
    }

    /// The server is stopping: idle connections end now, a response in flight finishes first.
    pub fn stop(&mut self) {
        if let Some(reason) = self.conn.stop() {
            self.closed = Some(reason);
        }
    }

    /// One step: send, answer, read or fire a timer, whichever is due. Never waits for input;
    /// writes only as much as the stream takes.
    pub fn step<T, S>(
        &mut self,
        io: &mut T,
        now: &Now<'_>,
        site: &mut Site<'_, S>,
        log: &mut impl FnMut(&Record<'_>),
    ) -> Result<Progress, T::Error>
    where
        T: Read + Write + ReadReady + WriteReady,
        S: Source<Resource = R>,
    {
        if let Some(reason) = self.closed {
            return Ok(Progress::Closed(reason));
        }
        if let Some(outgoing) = &mut self.outgoing {
            if !io.write_ready()? {
                return Ok(Progress::Idle);
            }
            return match outgoing.next(self.output) {
                Err(ReadError) => Ok(self.end(CloseReason::Fault)),
                Ok(Some((start, end))) => {
                    let n = io.write(self.output.get(start..end).unwrap_or_default())?;
                    outgoing.wrote(n);
                    Ok(Progress::Busy)
                }
                Ok(None) => {
                    io.flush()?;
                    self.outgoing = None;
                    self.fresh = true;
                    match self.conn.sent(now.ms, site.policy) {
                        Some(reason) => Ok(self.end(reason)),
                        None => Ok(Progress::Busy),
                    }
                }
            };
        }
        if self.fresh {
            self.fresh = false;
            let input = self.input.get_mut(..self.filled).unwrap_or_default();
            let mut sink = SliceWriter::new(self.output);
            let step = self.conn.poll(input, now, site, &mut sink);
            let (consumed, next) = handle(step, log, &mut self.outgoing);
            if let Some(progress) = self.apply(consumed, next) {
                return Ok(progress);
            }
        }
        if self.filled < self.input.len() && io.read_ready()? {
            let n = io.read(self.input.get_mut(self.filled..).unwrap_or_default())?;
            if n == 0 {
                let reason = self.conn.on_eof();
                return Ok(self.end(reason));
            }
            self.filled += n;
            self.fresh = true;
            return Ok(Progress::Busy);
        }
        if self.conn.deadline().is_some_and(|d| d <= now.ms) {
            let input = self.input.get(..self.filled).unwrap_or_default();
            let mut sink = SliceWriter::new(self.output);
            if let Some(step) = self.conn.on_timeout(input, now, site, &mut sink) {
                let (consumed, next) = handle(step, log, &mut self.outgoing);
                if let Some(progress) = self.apply(consumed, next) {
                    return Ok(progress);
                }
            }
            return Ok(Progress::Busy);
        }
        Ok(Progress::Idle)
    }

    /// Drops `consumed` input bytes and acts on what the connection decided: `None` when it
    /// needs input.
    fn apply(&mut self, consumed: usize, next: Next) -> Option<Progress> {
        let consumed = consumed.min(self.filled);
        move_within(self.input, consumed, self.filled - consumed, 0);
        self.filled -= consumed;
        match next {
            Next::Wait => None,
            Next::Close(reason) => Some(self.end(reason)),
            Next::Send => Some(Progress::Busy),
        }
    }

    fn end(&mut self, reason: CloseReason) -> Progress {
        self.closed = Some(reason);
        self.outgoing = None;
        Progress::Closed(reason)
    }
}

/// What a driver does after a step of the connection.
enum Next {
    Wait,
    Close(CloseReason),
    /// The response is in `outgoing`.
    Send,
}

/// Logs a response and puts it in `outgoing` (built in place: a response is a few hundred bytes,
/// and each move of it is a copy); returns the driver's next move and the bytes consumed.
fn handle<R: Resource>(
    step: Step<'_, R>,
    log: &mut impl FnMut(&Record<'_>),
    outgoing: &mut Option<Outgoing<R>>,
) -> (usize, Next) {
    let next = match step.event {
        Event::NeedInput => Next::Wait,
        Event::Close(reason) => Next::Close(reason),
        Event::Respond {
            response,
            exchange,
            close: _,
        } => {
            log(&Record {
                exchange,
                status: response.status,
                body_len: response.body_len,
                fault: response.fault,
            });
            *outgoing = Some(Outgoing::new(response));
            Next::Send
        }
    };
    (step.consumed, next)
}

/// A clock for the drivers: milliseconds for timers, Unix seconds for `Date` and validators.
pub trait Clock {
    /// `(monotonic milliseconds, Unix seconds)`.
    fn now(&mut self) -> (u64, u64);
}

/// Serves one connection to its end by stepping a [`Driver`]; `idle` runs whenever a step found
/// nothing to do (a device waits for an interrupt there; a test may yield).
pub fn serve<T, S, C>(
    io: &mut T,
    input: &mut [u8],
    output: &mut [u8],
    site: &mut Site<'_, S>,
    clock: &mut C,
    log: &mut impl FnMut(&Record<'_>),
    mut idle: impl FnMut(),
) -> Result<CloseReason, ServeError<T::Error>>
where
    T: Read + Write + ReadReady + WriteReady,
    S: Source,
    C: Clock,
{
    let (ms, secs) = clock.now();
    let mut driver: Driver<'_, S::Resource> =
        Driver::new(input, output, ms, site.policy).map_err(|_| ServeError::InputTooSmall)?;
    let mut date = DateCache::default();
    loop {
        let (ms, secs_now) = clock.now();
        let now = Now {
            ms,
            unix_secs: secs_now,
            date: date.at(secs_now),
        };
        let _ = secs;
        match driver.step(io, &now, site, log).map_err(ServeError::Io)? {
            Progress::Busy => {}
            Progress::Idle => idle(),
            Progress::Closed(reason) => return Ok(reason),
        }
    }
}

/// Why [`serve`] or [`serve_async`] stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServeError<E> {
    /// The stream failed.
    Io(E),
    /// The input buffer is shorter than `max_request_bytes`.
    InputTooSmall,
}

/// `Date`, rendered again only when the second changes.
#[derive(Debug)]
pub struct DateCache {
    secs: u64,
    date: HttpDate,
}

impl Default for DateCache {
    fn default() -> Self {
        Self {
            secs: 0,
            date: HttpDate::from_unix(0),
        }
    }
}

impl DateCache {
    /// The `Date` of Unix second `secs`.
    pub fn at(&mut self, secs: u64) -> &HttpDate {
        if secs != self.secs {
            self.secs = secs;
            self.date = HttpDate::from_unix(secs);
        }
        &self.date
    }
}

/// The async driver's clock: the time, and a sleep until a deadline.
#[cfg(feature = "async")]
pub trait Timer: Clock {
    /// Completes at monotonic millisecond `deadline_ms` (at once if it has passed).
    fn sleep_until(&mut self, deadline_ms: u64) -> impl core::future::Future<Output = ()>;
}

/// Serves one connection to its end over an async stream: reads wait for input or the
/// connection's next deadline, whichever comes first; responses are written whole.
#[cfg(feature = "async")]
pub async fn serve_async<T, S, C>(
    io: &mut T,
    input: &mut [u8],
    output: &mut [u8],
    site: &mut Site<'_, S>,
    clock: &mut C,
    log: &mut impl FnMut(&Record<'_>),
) -> Result<CloseReason, ServeError<T::Error>>
where
    T: embedded_io_async::Read + embedded_io_async::Write,
    S: Source,
    C: Timer,
{
    use crate::respond::Sink;

    if input.len() < site.policy.max_request_bytes as usize {
        return Err(ServeError::InputTooSmall);
    }
    let (ms, _) = clock.now();
    let mut conn = Connection::new(ms, site.policy.header_timeout_ms);
    let mut date = DateCache::default();
    let mut filled = 0usize;
    let mut fresh = false;
    loop {
        let (ms, secs) = clock.now();
        let now = Now {
            ms,
            unix_secs: secs,
            date: date.at(secs),
        };
        let mut sink = SliceWriter::new(output);
        let step = if fresh {
            fresh = false;
            let buffered = input.get_mut(..filled).unwrap_or_default();
            Some(conn.poll(buffered, &now, site, &mut sink))
        } else {
            None
        };
        let step = match step {
            Some(step) => step,
            None => {
                let deadline = conn.deadline();
                let room = input.get_mut(filled..).unwrap_or_default();
                let waited = select(io.read(room), deadline.map(|d| clock.sleep_until(d))).await;
                match waited {
                    Either::Left(Ok(0)) => return Ok(conn.on_eof()),
                    Either::Left(Ok(n)) => {
                        filled += n;
                        fresh = true;
                        continue;
                    }
                    Either::Left(Err(e)) => return Err(ServeError::Io(e)),
                    Either::Right(()) => {
                        let (ms, secs) = clock.now();
                        let now = Now {
                            ms,
                            unix_secs: secs,
                            date: date.at(secs),
                        };
                        let buffered = input.get(..filled).unwrap_or_default();
                        match conn.on_timeout(buffered, &now, site, &mut sink) {
                            Some(step) => step,
                            None => continue,
                        }
                    }
                }
            }
        };
        let consumed = step.consumed.min(filled);
        let (response, close) = match step.event {
            Event::NeedInput => {
                move_within(input, consumed, filled - consumed, 0);
                filled -= consumed;
                continue;
            }
            Event::Close(reason) => return Ok(reason),
            Event::Respond {
                response,
                exchange,
                close,
            } => {
                log(&Record {
                    exchange,
                    status: response.status,
                    body_len: response.body_len,
                    fault: response.fault,
                });
                (response, close)
            }
        };
        let _ = sink.position();
        move_within(input, consumed, filled - consumed, 0);
        filled -= consumed;
        let mut outgoing = Outgoing::new(response);
        loop {
            match outgoing.next(output) {
                Err(ReadError) => return Ok(CloseReason::Fault),
                Ok(None) => break,
                Ok(Some((start, end))) => {
                    let bytes = output.get(start..end).unwrap_or_default();
                    io.write_all(bytes).await.map_err(ServeError::Io)?;
                    outgoing.wrote(bytes.len());
                }
            }
        }
        io.flush().await.map_err(ServeError::Io)?;
        fresh = true;
        let (ms, _) = clock.now();
        if let Some(reason) = conn.sent(ms, site.policy).or(close) {
            return Ok(reason);
        }
    }
}

#[cfg(feature = "async")]
enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Whichever of `a` and `b` completes first (`a` when both are ready); `b` may be absent.
#[cfg(feature = "async")]
async fn select<A, B>(a: A, b: Option<B>) -> Either<A::Output, B::Output>
where
    A: core::future::Future,
    B: core::future::Future,
{
    use core::task::Poll;
    let mut a = core::pin::pin!(a);
    let mut b = core::pin::pin!(b);
    core::future::poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(out));
        }
        if let Some(b) = b.as_mut().as_pin_mut()
            && let Poll::Ready(out) = b.poll(cx)
        {
            return Poll::Ready(Either::Right(out));
        }
        Poll::Pending
    })
    .await
}
