//! The staticd firmware for QEMU's `mps2-an386` board: boot, bring up the LAN9118 and the TCP/IP
//! stack, and serve HTTP on port 80 from a poll loop that sleeps (WFI) whenever nothing is
//! waiting. Output goes to the host over semihosting.
#![no_std]
#![no_main]

mod board;

use core::fmt::Write as _;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m_rt::{entry, exception};
use smoltcp::iface::{SocketSet, SocketStorage};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use staticd_firmware::clock::Clock;
use staticd_firmware::line::Line;
use staticd_firmware::{Lan9118, lan9118, net};

use board::{Console, Ethernet};

/// Milliseconds since boot, counted by the SysTick exception.
static TICKS: AtomicU32 = AtomicU32::new(0);

/// How many connections are served at once: one TCP socket each.
const CONNECTIONS: usize = 4;
const RX_BUFFER: usize = 4096;
const TX_BUFFER: usize = 8192;

#[entry]
fn main() -> ! {
    let mut console = Console::open();
    board::start_ticks();

    let mut eth = match Lan9118::new(Ethernet) {
        Ok(eth) => eth,
        Err(error) => {
            let mut line = Line::<96>::new();
            let _ = writeln!(line, "staticd-device: no Ethernet controller: {error:?}");
            console.write(line.as_bytes());
            board::halt();
        }
    };
    let mac = eth.mac_address();
    let mut clock = Clock::new();
    let now = Instant::from_millis(clock.now_ms(TICKS.load(Ordering::Relaxed)) as i64);
    let seed = u64::from_le_bytes([mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0, 0])
        ^ u64::from(board::cycle_count());
    let mut iface = net::interface(&mut eth, mac, seed, now);

    let mut storage: [SocketStorage; CONNECTIONS] = Default::default();
    let mut sockets = SocketSet::new(&mut storage[..]);
    let mut rx = [[0u8; RX_BUFFER]; CONNECTIONS];
    let mut tx = [[0u8; TX_BUFFER]; CONNECTIONS];
    let mut handles = [None; CONNECTIONS];
    for ((handle, rx), tx) in handles.iter_mut().zip(rx.iter_mut()).zip(tx.iter_mut()) {
        let socket = tcp::Socket::new(
            tcp::SocketBuffer::new(&mut rx[..]),
            tcp::SocketBuffer::new(&mut tx[..]),
        );
        *handle = Some(sockets.add(socket));
    }

    eth.enable_receive_interrupt();
    board::enable_ethernet_interrupt();

    let mut line = Line::<160>::new();
    let _ = writeln!(
        line,
        "staticd-device: serving on {}:{} (mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, {} connections)",
        net::ADDRESS,
        net::HTTP_PORT,
        mac[0],
        mac[1],
        mac[2],
        mac[3],
        mac[4],
        mac[5],
        CONNECTIONS
    );
    console.write(line.as_bytes());

    loop {
        let now = Instant::from_millis(clock.now_ms(TICKS.load(Ordering::Relaxed)) as i64);
        let changed = iface.poll(now, &mut eth, &mut sockets);
        let mut progressed = changed == smoltcp::iface::PollResult::SocketStateChanged;
        for handle in handles.iter().flatten() {
            let socket = sockets.get_mut::<tcp::Socket>(*handle);
            if !socket.is_open() {
                let _ = socket.listen(net::HTTP_PORT);
            }
            if socket.can_recv() {
                let mut buf = [0u8; 512];
                if let Ok(n) = socket.recv_slice(&mut buf)
                    && n > 0
                {
                    {
                        progressed = true;
                        let _ =
                            socket.send_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
                    }
                }
            }
        }
        if !progressed {
            board::sleep_unless(|| eth.frame_waiting());
        }
    }
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
/// `scripts/firmware-size.sh --panics` lists what still links one (firmware/README.md says why).
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
