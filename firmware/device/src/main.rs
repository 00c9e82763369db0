//! The staticd firmware for QEMU's `mps2-an386` board: boot, bring up the LAN9118 and the TCP/IP
//! stack, and serve the compiled-in site over HTTP/1.1 on port 80 with staticd-core, from a poll
//! loop that sleeps (WFI) whenever nothing is waiting. Output goes to the host over semihosting:
//! a ready line, one Combined-Log line per request, the stack's high-water mark when it grows.
#![no_std]
#![no_main]

mod board;

use core::fmt::Write as _;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m_rt::{entry, exception};
use smoltcp::iface::{PollResult, SocketSet, SocketStorage};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use staticd_core::drive::DateCache;
use staticd_core::policy::PolicyBlob;
use staticd_core::respond::{Now, Site};
use staticd_core::{StaticFile, StaticTable};
use staticd_firmware::clock::Clock;
use staticd_firmware::line::Line;
use staticd_firmware::serve::Slot;
use staticd_firmware::{Lan9118, lan9118, net};

use board::{Console, Ethernet};

mod site {
    include!(concat!(env!("OUT_DIR"), "/site.rs"));
    include!(concat!(env!("OUT_DIR"), "/clock.rs"));
}

/// The serving policy, a postcard blob in flash (made by build.rs).
static POLICY_BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/policy.postcard"));

/// Milliseconds since boot, counted by the SysTick exception.
static TICKS: AtomicU32 = AtomicU32::new(0);

/// Connections served at once, one TCP socket each: a browser opens up to six to one host.
const CONNECTIONS: usize = 8;
/// Each socket's TCP receive window and transmit queue.
const TCP_RX_BYTES: usize = 2048;
const TCP_TX_BYTES: usize = 8192;
/// Each connection's request buffer (the policy's `max_request_bytes`) and response buffer (the
/// longest head and error page, and room to copy file bytes through).
const INPUT_BYTES: usize = 2048;
const OUTPUT_BYTES: usize = 1536;
/// The scratch for a decoded request path.
const PATH_BYTES: usize = 512;
/// How often the stack's high-water mark is checked (it is printed only when it grew).
const STACK_CHECK_MS: u64 = 1_000;

#[entry]
fn main() -> ! {
    // cortex-m-rt turns these into `&'static mut` references, taken once: the buffers live in
    // .bss, not on the stack.
    static mut SOCKET_STORAGE: [SocketStorage<'static>; CONNECTIONS] =
        [SocketStorage::EMPTY; CONNECTIONS];
    static mut TCP_RX: [[u8; TCP_RX_BYTES]; CONNECTIONS] = [[0; TCP_RX_BYTES]; CONNECTIONS];
    static mut TCP_TX: [[u8; TCP_TX_BYTES]; CONNECTIONS] = [[0; TCP_TX_BYTES]; CONNECTIONS];
    static mut INPUT: [[u8; INPUT_BYTES]; CONNECTIONS] = [[0; INPUT_BYTES]; CONNECTIONS];
    static mut OUTPUT: [[u8; OUTPUT_BYTES]; CONNECTIONS] = [[0; OUTPUT_BYTES]; CONNECTIONS];
    static mut SLOTS: heapless::Vec<Slot<'static, &'static StaticFile>, CONNECTIONS> =
        heapless::Vec::new();

    let mut console = Console::open();
    board::start_ticks();

    let Some(blob) = load_policy() else {
        fail(
            &mut console,
            format_args!("the policy blob does not decode"),
        );
    };
    let policy = blob.policy();

    let eth = match start_ethernet() {
        Ok(eth) => eth,
        Err(error) => fail(
            &mut console,
            format_args!("no Ethernet controller: {error:?}"),
        ),
    };
    let mac = eth.mac_address();
    let mut clock = Clock::new();
    let now = Instant::from_millis(clock.now_ms(TICKS.load(Ordering::Relaxed)) as i64);
    let seed = u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0, 0])
        ^ u64::from(board::cycle_count());
    let mut iface = net::interface(eth, mac, seed, now);

    let mut sockets = SocketSet::new(&mut SOCKET_STORAGE[..]);
    let slots = SLOTS;
    let buffers = TCP_RX
        .iter_mut()
        .zip(TCP_TX.iter_mut())
        .zip(INPUT.iter_mut().zip(OUTPUT.iter_mut()));
    for ((rx, tx), (input, output)) in buffers {
        let mut socket = tcp::Socket::new(
            tcp::SocketBuffer::new(&mut rx[..]),
            tcp::SocketBuffer::new(&mut tx[..]),
        );
        // A peer that stops acknowledging is dropped by the TCP layer.
        socket.set_timeout(Some(Duration::from_secs(10)));
        // Listening before the ready line: a connection that comes at once finds the socket.
        let _ = socket.listen(net::HTTP_PORT);
        let handle = sockets.add(socket);
        match Slot::new(handle, &mut input[..], &mut output[..], &policy) {
            Ok(slot) => {
                let _ = slots.push(slot);
            }
            Err(_) => fail(
                &mut console,
                format_args!("input buffers below max_request_bytes"),
            ),
        }
    }

    eth.enable_receive_interrupt();
    board::enable_ethernet_interrupt();

    let files = site::FILES;
    let mut source = StaticTable::new(files);
    let mut path_buf = [0u8; PATH_BYTES];
    let mut dates = DateCache::default();
    let mut line = Line::<200>::new();
    let site_bytes: usize = files.iter().map(|file| file.body.len()).sum();
    // Start-up's deepest stack (decoding the policy blob), then the serving loop's alone.
    let (startup, size) = board::stack_usage();
    let _ = writeln!(
        line,
        "staticd-device: stack at start-up {startup} of {size} bytes"
    );
    console.write(line.as_bytes());
    board::repaint_unused_stack();
    line.clear();
    line.push_bytes(b"staticd-device: serving on ");
    staticd_firmware::serve::write_ipv4(&mut line, net::ADDRESS);
    let _ = writeln!(
        line,
        ":{} (mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}; {} files, {} bytes; {} connections)",
        net::HTTP_PORT,
        mac[0],
        mac[1],
        mac[2],
        mac[3],
        mac[4],
        mac[5],
        files.len(),
        site_bytes,
        CONNECTIONS
    );
    console.write(line.as_bytes());

    let mut stack_reported = 0;
    let mut stack_checked_ms = 0;
    loop {
        let ms = clock.now_ms(TICKS.load(Ordering::Relaxed));
        let unix_secs = site::CLOCK_START_UNIX + ms / 1000;
        let now = Now {
            ms,
            unix_secs,
            date: dates.at(unix_secs),
        };
        let timestamp = Instant::from_millis(ms as i64);
        let mut moved = iface.poll(timestamp, eth, &mut sockets) == PollResult::SocketStateChanged;
        let mut site = Site {
            policy: &policy,
            source: &mut source,
            path_buf: &mut path_buf[..],
        };
        for slot in slots.iter_mut() {
            moved |= slot.poll(&mut sockets, &now, &mut site, &mut |bytes| {
                console.write(bytes)
            });
        }
        if moved {
            // Send what the connections queued without waiting for the next pass.
            iface.poll(timestamp, eth, &mut sockets);
            continue;
        }
        if ms.saturating_sub(stack_checked_ms) >= STACK_CHECK_MS {
            stack_checked_ms = ms;
            let (used, size) = board::stack_usage();
            if used > stack_reported {
                stack_reported = used;
                line.clear();
                let _ = writeln!(
                    line,
                    "staticd-device: stack high-water {used} of {size} bytes while serving"
                );
                console.write(line.as_bytes());
            }
        }
        board::sleep_unless(|| eth.frame_waiting());
    }
}

/// Decodes the policy blob into a static. Not inlined, like [`start_ethernet`]: decoding and
/// moving a multi-kilobyte value takes stack that would otherwise stay in `main`'s frame, under
/// the serving loop, for the device's whole life.
#[inline(never)]
fn load_policy() -> Option<&'static PolicyBlob<'static>> {
    let blob = PolicyBlob::from_bytes(POLICY_BLOB).ok()?;
    cortex_m::singleton!(: PolicyBlob<'static> = blob).map(|blob| &*blob)
}

/// Brings the Ethernet controller up, into a static (its frame buffers are 3 KiB).
#[inline(never)]
fn start_ethernet() -> Result<&'static mut Lan9118<Ethernet>, lan9118::InitError> {
    let eth = Lan9118::new(Ethernet)?;
    // Called once: the singleton is always free here.
    cortex_m::singleton!(: Lan9118<Ethernet> = eth).ok_or(lan9118::InitError::Busy)
}

/// Reports why the device cannot serve, and stops.
fn fail(console: &mut Console, why: core::fmt::Arguments<'_>) -> ! {
    let mut line = Line::<160>::new();
    let _ = writeln!(line, "staticd-device: cannot start: {why}");
    console.write(line.as_bytes());
    board::halt();
}

#[exception]
fn SysTick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

// SAFETY: cortex-m-rt asks for `unsafe` because this handler may run for any interrupt; it only
// writes the controller's acknowledge register, which the main loop never reads.
#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    if irqn == board::ETHERNET_IRQ {
        lan9118::acknowledge_interrupt(&mut Ethernet);
    }
}

/// With `no-panic-link-check`, the firmware links only if no panic can happen: a panic path
/// calls this symbol, which nothing defines, so the link fails and names the caller.
/// `scripts/firmware-size.sh --panics` lists what still links one; the README's firmware section
/// says why each remains.
#[cfg(feature = "no-panic-link-check")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    unsafe extern "Rust" {
        fn staticd_device_must_not_panic_but_a_panic_path_was_linked() -> !;
    }
    // SAFETY: never runs: the symbol does not exist, so a binary that could reach this does not
    // link.
    unsafe { staticd_device_must_not_panic_but_a_panic_path_was_linked() }
}

/// A panic prints its message over semihosting and resets the device, as a watchdog would.
#[cfg(not(feature = "no-panic-link-check"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let mut line = Line::<256>::new();
    let _ = writeln!(line, "staticd-device: panic: {info}");
    Console::open().write(line.as_bytes());
    cortex_m::peripheral::SCB::sys_reset();
}
