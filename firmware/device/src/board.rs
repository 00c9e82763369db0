//! What is particular to the mps2-an386 board and the Cortex-M4: the Ethernet controller's
//! registers on the bus, the SysTick clock, the interrupt controller, sleeping, and the
//! semihosting console. Every `unsafe` of the firmware is here, each in one small function.

use cortex_m::interrupt::InterruptNumber;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{NVIC, SYST};
use cortex_m_semihosting::hio::{self, HostStream};
use staticd_firmware::Registers;

/// The LAN9220 (LAN9118-compatible) on the AN386 image: base address and interrupt line
/// (QEMU's hw/arm/mps2.c; the board's Application Note 386, memory map).
const ETHERNET_BASE: usize = 0x4020_0000;
/// The size of the controller's register window.
const ETHERNET_WINDOW: usize = 0x100;
/// The external interrupt the controller raises.
pub const ETHERNET_IRQ: i16 = 13;
/// The system clock SysTick counts: 25 MHz on the MPS2 boards.
const SYSCLK_HZ: u32 = 25_000_000;

/// The Ethernet controller's registers, as memory-mapped device registers.
pub struct Ethernet;

impl Registers for Ethernet {
    fn read(&mut self, offset: usize) -> u32 {
        if offset >= ETHERNET_WINDOW || !offset.is_multiple_of(4) {
            return 0;
        }
        // SAFETY: the address is a 4-byte aligned register inside the controller's 256-byte
        // window, device memory on this board; a volatile read is the access it expects.
        unsafe { core::ptr::read_volatile((ETHERNET_BASE + offset) as *const u32) }
    }

    fn write(&mut self, offset: usize, value: u32) {
        if offset >= ETHERNET_WINDOW || !offset.is_multiple_of(4) {
            return;
        }
        // SAFETY: as in `read`: an aligned register of the controller, written volatile.
        unsafe { core::ptr::write_volatile((ETHERNET_BASE + offset) as *mut u32, value) }
    }
}

#[derive(Clone, Copy)]
struct EthernetIrq;

// SAFETY: 13 is a valid external interrupt number on this core (AN386 wires 32 of them).
unsafe impl InterruptNumber for EthernetIrq {
    fn number(self) -> u16 {
        ETHERNET_IRQ as u16
    }
}

/// Starts SysTick at one interrupt a millisecond from the core clock.
pub fn start_ticks() {
    // SAFETY: start-up code is the only user of SysTick's control registers; afterwards only its
    // exception runs, and `cycle_count` only reads the current value.
    let mut syst = unsafe { cortex_m::Peripherals::steal() }.SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(SYSCLK_HZ / 1000 - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// The SysTick down-counter, some entropy for TCP's initial sequence numbers.
pub fn cycle_count() -> u32 {
    SYST::get_current()
}

/// Lets the Ethernet controller's interrupt through the NVIC.
pub fn enable_ethernet_interrupt() {
    // SAFETY: the handler (DefaultHandler for IRQ 13) only acknowledges the controller, shares no
    // data with the main loop, and cannot break a critical section.
    unsafe { NVIC::unmask(EthernetIrq) }
}

/// Sleeps until the next interrupt unless `busy` says there is work: checked with interrupts
/// masked, so an interrupt arriving after the check still ends the sleep.
pub fn sleep_unless(busy: impl FnOnce() -> bool) {
    cortex_m::interrupt::free(|_| {
        if !busy() {
            cortex_m::asm::wfi();
        }
    });
}

unsafe extern "C" {
    static _stack_end: u32;
    static _stack_start: u32;
}

/// The stack region, `(lowest address, one past the highest)`, from the linker script.
fn stack_region() -> (usize, usize) {
    (
        (&raw const _stack_end) as usize,
        (&raw const _stack_start) as usize,
    )
}

/// The stack's high-water mark and its size, in bytes: cortex-m-rt (feature `paint-stack`)
/// painted the region from `_stack_end` up to `_stack_start` before `main` (and
/// [`repaint_unused_stack`] again after start-up); the words the stack never reached since still
/// hold the paint.
pub fn stack_usage() -> (usize, usize) {
    let (bottom, top) = stack_region();
    let words = (bottom..top).step_by(4).map(|address| {
        // SAFETY: an aligned word of RAM between the linker's stack bounds; below the stack
        // pointer it is unused, and reading it changes nothing.
        unsafe { core::ptr::read_volatile(address as *const u32) }
    });
    let size = top.saturating_sub(bottom);
    (staticd_firmware::stack::used_bytes(words, size), size)
}

/// Paints the unused stack again, so that [`stack_usage`] measures from here on: what start-up
/// took (decoding the policy, bringing up the stack) no longer counts. Leaves 1 KiB below the
/// stack pointer alone for this function's own frame.
#[inline(never)]
pub fn repaint_unused_stack() {
    let (bottom, _) = stack_region();
    let below_frames = (cortex_m::register::msp::read() as usize).saturating_sub(1024);
    for address in (bottom..below_frames).step_by(4) {
        // SAFETY: an aligned word of the stack region below the live frames (the stack pointer
        // less a margin for this function's frame): no one uses it until the stack grows there.
        unsafe { core::ptr::write_volatile(address as *mut u32, staticd_firmware::stack::PAINT) }
    }
}

/// Stops for good (nothing to serve without a network).
pub fn halt() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}

/// The host's standard output over semihosting.
pub struct Console {
    stream: Option<HostStream>,
}

impl Console {
    /// Opens the host's standard output (QEMU's `-semihosting`, or a debugger, must be there to
    /// answer). If the host refuses, lines are dropped.
    pub fn open() -> Self {
        Console {
            stream: hio::hstdout().ok(),
        }
    }

    /// Writes one line (or any bytes) in one semihosting call.
    pub fn write(&mut self, bytes: &[u8]) {
        if let Some(stream) = self.stream.as_mut() {
            let _ = stream.write_all(bytes);
        }
    }
}
