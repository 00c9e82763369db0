//! A polled driver for the SMSC LAN9118 Ethernet controller (the LAN9220 on the MPS2 boards is
//! register compatible), and its `smoltcp` [`Device`].
//!
//! The controller is a slave on the memory bus: 32-bit registers, a receive data FIFO with a
//! separate status FIFO (one status word per frame), and a transmit data FIFO that takes two
//! command words and then the frame. The driver only reads and writes those registers through
//! [`Registers`], so the same code runs against the real bus on the device and against a model of
//! the controller in the host's unit tests.
//!
//! Register offsets and bits are those of the SMSC LAN9118 datasheet, section 5 ("System Control
//! and Status Registers") and section 3.13 (the FIFO formats).

use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::time::Instant;

/// 32-bit access to the controller's registers, by byte offset from its base address.
pub trait Registers {
    /// Reads the register at `offset`; reading a FIFO port pops a word.
    fn read(&mut self, offset: usize) -> u32;
    /// Writes `value` to the register at `offset`; writing a FIFO port pushes a word.
    fn write(&mut self, offset: usize, value: u32);
}

// FIFO ports and control and status registers (datasheet table 5.1).
const RX_DATA_FIFO: usize = 0x00;
const TX_DATA_FIFO: usize = 0x20;
const RX_STATUS_FIFO: usize = 0x40;
const TX_STATUS_FIFO: usize = 0x48;
const IRQ_CFG: usize = 0x54;
const INT_STS: usize = 0x58;
const INT_EN: usize = 0x5c;
const BYTE_TEST: usize = 0x64;
const RX_CFG: usize = 0x6c;
const TX_CFG: usize = 0x70;
const HW_CFG: usize = 0x74;
const RX_FIFO_INF: usize = 0x7c;
const TX_FIFO_INF: usize = 0x80;
const PMT_CTRL: usize = 0x84;
const MAC_CSR_CMD: usize = 0xa4;
const MAC_CSR_DATA: usize = 0xa8;

/// What BYTE_TEST reads on any correctly wired LAN9118 (datasheet 5.3.6).
const BYTE_TEST_VALUE: u32 = 0x8765_4321;

const HW_CFG_SRST: u32 = 1;
const PMT_CTRL_READY: u32 = 1;
const TX_CFG_TX_ON: u32 = 1 << 1;
/// IRQ_CFG: the pin enabled, active high, push-pull (datasheet 5.3.1).
const IRQ_CFG_ENABLED_ACTIVE_HIGH: u32 = (1 << 8) | (1 << 4) | 1;
/// INT_EN/INT_STS RSFL: the receive status FIFO holds more entries than FIFO_INT's level (0).
const INT_RSFL: u32 = 1 << 3;

// MAC control and status registers, reached through MAC_CSR_CMD/MAC_CSR_DATA (datasheet 5.4).
const MAC_CSR_BUSY: u32 = 1 << 31;
const MAC_CSR_READ: u32 = 1 << 30;
const MAC_CR: u32 = 1;
const MAC_ADDRH: u32 = 2;
const MAC_ADDRL: u32 = 3;
const MAC_MII_ACC: u32 = 6;
const MAC_MII_DATA: u32 = 7;
const MAC_CR_TXEN: u32 = 1 << 3;
const MAC_CR_RXEN: u32 = 1 << 2;
const MAC_CR_FDPX: u32 = 1 << 20;
const MII_BUSY: u32 = 1;
const MII_WRITE: u32 = 1 << 1;
/// The internal PHY answers at MII address 1 (datasheet 6.1).
const PHY_ADDRESS: u32 = 1;
const PHY_BASIC_CONTROL: u32 = 0;
const PHY_AUTONEG_ENABLE: u32 = 1 << 12;
const PHY_AUTONEG_RESTART: u32 = 1 << 9;

// RX status word (datasheet 3.13.3): frame length including the 4-byte FCS, and the error summary.
const RX_STATUS_LENGTH_SHIFT: u32 = 16;
const RX_STATUS_LENGTH_MASK: u32 = 0x3fff;
const RX_STATUS_ERROR: u32 = 1 << 15;
// TX command words (datasheet 3.13.2).
const TX_CMD_A_FIRST: u32 = 1 << 13;
const TX_CMD_A_LAST: u32 = 1 << 12;
const TX_STATUS_ERROR: u32 = 1 << 15;

/// The largest Ethernet frame sent or taken, without the FCS: 1500 bytes of payload and a 14-byte
/// header (no VLAN tags are configured).
pub const MAX_FRAME: usize = 1514;
/// The receive buffer: the largest frame, its FCS, rounded up to whole FIFO words.
const RX_BUFFER: usize = 1520;
/// The transmit buffer: the largest frame rounded up to whole FIFO words.
const TX_BUFFER: usize = 1516;
/// How many times a busy bit is polled before the controller counts as not answering.
const BUSY_POLLS: u32 = 100_000;

/// Why the controller could not be brought up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// BYTE_TEST did not read 0x87654321: no LAN9118 at this address, or a bus fault.
    NotFound {
        /// What BYTE_TEST read.
        byte_test: u32,
    },
    /// The soft reset did not complete.
    ResetTimeout,
    /// A MAC or PHY register access stayed busy.
    Busy,
}

/// Frame counters, for the device's log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames handed to the network stack.
    pub rx_frames: u32,
    /// Frames the controller flagged as bad, or too long for the buffer, and dropped.
    pub rx_dropped: u32,
    /// Frames written to the transmit FIFO.
    pub tx_frames: u32,
    /// Transmit status words with the error bit set.
    pub tx_errors: u32,
}

/// The register side and the transmit buffer, apart from the receive buffer so that a received
/// frame and a transmit token can be lent out together.
struct Port<R> {
    regs: R,
    tx: [u8; TX_BUFFER],
    counters: Counters,
}

/// The LAN9118 as a polled `smoltcp` device.
pub struct Lan9118<R> {
    port: Port<R>,
    rx: [u8; RX_BUFFER],
    mac: [u8; 6],
}

impl<R> core::fmt::Debug for Lan9118<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Lan9118")
            .field("mac", &self.mac)
            .field("counters", &self.port.counters)
            .finish_non_exhaustive()
    }
}

impl<R: Registers> Lan9118<R> {
    /// Resets and configures the controller: MAC address from its EEPROM (as the controller
    /// loaded it at reset), auto-negotiation, receive and transmit on, own address and broadcast
    /// only.
    pub fn new(regs: R) -> Result<Self, InitError> {
        let mut port = Port {
            regs,
            tx: [0; TX_BUFFER],
            counters: Counters::default(),
        };
        let byte_test = port.regs.read(BYTE_TEST);
        if byte_test != BYTE_TEST_VALUE {
            return Err(InitError::NotFound { byte_test });
        }
        port.regs.write(HW_CFG, HW_CFG_SRST);
        port.wait_until(HW_CFG, HW_CFG_SRST, 0)
            .map_err(|_| InitError::ResetTimeout)?;
        port.wait_until(PMT_CTRL, PMT_CTRL_READY, PMT_CTRL_READY)
            .map_err(|_| InitError::ResetTimeout)?;
        port.regs.write(INT_EN, 0);
        port.regs.write(INT_STS, u32::MAX);

        let low = port.mac_read(MAC_ADDRL)?.to_le_bytes();
        let high = port.mac_read(MAC_ADDRH)?.to_le_bytes();
        let mac = [low[0], low[1], low[2], low[3], high[0], high[1]];

        port.phy_write(PHY_BASIC_CONTROL, PHY_AUTONEG_ENABLE | PHY_AUTONEG_RESTART)?;
        port.mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX)?;
        port.regs.write(TX_CFG, TX_CFG_TX_ON);
        // No receive offset and no end padding: each frame starts on a FIFO word.
        port.regs.write(RX_CFG, 0);
        Ok(Lan9118 {
            port,
            rx: [0; RX_BUFFER],
            mac,
        })
    }

    /// The controller's MAC address.
    pub fn mac_address(&self) -> [u8; 6] {
        self.mac
    }

    /// Frame counters since start-up.
    pub fn counters(&self) -> Counters {
        self.port.counters
    }

    /// Raises the interrupt line (active high) whenever a frame waits in the receive FIFO, so
    /// that an idle device can sleep until one arrives. The handler calls
    /// [`acknowledge_interrupt`].
    pub fn enable_receive_interrupt(&mut self) {
        self.port.regs.write(IRQ_CFG, IRQ_CFG_ENABLED_ACTIVE_HIGH);
        self.port.regs.write(INT_EN, INT_RSFL);
    }

    /// Whether a received frame waits in the FIFO.
    pub fn frame_waiting(&mut self) -> bool {
        rx_status_used(self.port.regs.read(RX_FIFO_INF)) > 0
    }

    /// Reads the next good frame into the receive buffer and gives its length without the FCS;
    /// frames flagged bad or too long are read out and dropped.
    fn receive_frame(&mut self) -> Option<usize> {
        while self.frame_waiting() {
            let status = self.port.regs.read(RX_STATUS_FIFO);
            let length = ((status >> RX_STATUS_LENGTH_SHIFT) & RX_STATUS_LENGTH_MASK) as usize;
            let words = length.div_ceil(4);
            let fits = length <= self.rx.len();
            if status & RX_STATUS_ERROR != 0 || !fits || length < 4 + 14 {
                for _ in 0..words {
                    self.port.regs.read(RX_DATA_FIFO);
                }
                self.port.counters.rx_dropped = self.port.counters.rx_dropped.wrapping_add(1);
                continue;
            }
            for word in self.rx.chunks_exact_mut(4).take(words) {
                word.copy_from_slice(&self.port.regs.read(RX_DATA_FIFO).to_le_bytes());
            }
            self.port.counters.rx_frames = self.port.counters.rx_frames.wrapping_add(1);
            return Some(length - 4);
        }
        None
    }
}

/// Acknowledges every interrupt source, from the interrupt handler: the line drops until the
/// next frame arrives. The main loop reads the FIFOs themselves, not INT_STS.
pub fn acknowledge_interrupt(regs: &mut impl Registers) {
    regs.write(INT_STS, u32::MAX);
}

/// RX_FIFO_INF bits 23:16: how many status words wait.
fn rx_status_used(rx_fifo_inf: u32) -> u32 {
    (rx_fifo_inf >> 16) & 0xff
}

impl<R: Registers> Port<R> {
    /// Polls `offset` until `value & mask == expect`, a bounded number of times.
    fn wait_until(&mut self, offset: usize, mask: u32, expect: u32) -> Result<(), InitError> {
        for _ in 0..BUSY_POLLS {
            if self.regs.read(offset) & mask == expect {
                return Ok(());
            }
        }
        Err(InitError::Busy)
    }

    fn mac_read(&mut self, register: u32) -> Result<u32, InitError> {
        self.wait_until(MAC_CSR_CMD, MAC_CSR_BUSY, 0)?;
        self.regs
            .write(MAC_CSR_CMD, MAC_CSR_BUSY | MAC_CSR_READ | register);
        self.wait_until(MAC_CSR_CMD, MAC_CSR_BUSY, 0)?;
        Ok(self.regs.read(MAC_CSR_DATA))
    }

    fn mac_write(&mut self, register: u32, value: u32) -> Result<(), InitError> {
        self.wait_until(MAC_CSR_CMD, MAC_CSR_BUSY, 0)?;
        self.regs.write(MAC_CSR_DATA, value);
        self.regs.write(MAC_CSR_CMD, MAC_CSR_BUSY | register);
        self.wait_until(MAC_CSR_CMD, MAC_CSR_BUSY, 0)
    }

    fn mii_idle(&mut self) -> Result<(), InitError> {
        for _ in 0..BUSY_POLLS {
            if self.mac_read(MAC_MII_ACC)? & MII_BUSY == 0 {
                return Ok(());
            }
        }
        Err(InitError::Busy)
    }

    fn phy_write(&mut self, register: u32, value: u32) -> Result<(), InitError> {
        self.mii_idle()?;
        self.mac_write(MAC_MII_DATA, value)?;
        self.mac_write(
            MAC_MII_ACC,
            (PHY_ADDRESS << 11) | (register << 6) | MII_WRITE | MII_BUSY,
        )?;
        self.mii_idle()
    }

    /// Whether the transmit FIFO has room for the largest frame and its two command words
    /// (TX_FIFO_INF bits 15:0, TDFREE, in bytes).
    fn room_for_frame(&mut self) -> bool {
        (self.regs.read(TX_FIFO_INF) & 0xffff) as usize >= TX_BUFFER + 8
    }

    /// Writes the first `len` bytes of the transmit buffer as one frame, then reads out the
    /// transmit status words that have collected.
    fn send(&mut self, len: usize) {
        let len = len.min(MAX_FRAME);
        let words = len.div_ceil(4);
        // One buffer holds the whole frame: first and last segment, no offset (datasheet 3.13.2).
        let len_bits = len as u32;
        self.regs
            .write(TX_DATA_FIFO, TX_CMD_A_FIRST | TX_CMD_A_LAST | len_bits);
        self.regs.write(TX_DATA_FIFO, (len_bits << 16) | len_bits);
        for word in self.tx.chunks_exact(4).take(words) {
            let mut bytes = [0u8; 4];
            bytes.copy_from_slice(word);
            self.regs.write(TX_DATA_FIFO, u32::from_le_bytes(bytes));
        }
        self.counters.tx_frames = self.counters.tx_frames.wrapping_add(1);
        // TX_FIFO_INF bits 23:16: status words waiting; the FIFO holds at most 512 of them.
        for _ in 0..512 {
            if (self.regs.read(TX_FIFO_INF) >> 16) & 0xff == 0 {
                break;
            }
            if self.regs.read(TX_STATUS_FIFO) & TX_STATUS_ERROR != 0 {
                self.counters.tx_errors = self.counters.tx_errors.wrapping_add(1);
            }
        }
    }
}

/// A received frame, lent to the network stack.
#[derive(Debug)]
pub struct RxFrame<'a> {
    frame: &'a [u8],
}

impl RxToken for RxFrame<'_> {
    fn consume<T, F>(self, f: F) -> T
    where
        F: FnOnce(&[u8]) -> T,
    {
        f(self.frame)
    }
}

/// Room for one frame in the transmit FIFO.
pub struct TxFrame<'a, R> {
    port: &'a mut Port<R>,
}

impl<R> core::fmt::Debug for TxFrame<'_, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TxFrame").finish_non_exhaustive()
    }
}

impl<R: Registers> TxToken for TxFrame<'_, R> {
    fn consume<T, F>(self, len: usize, f: F) -> T
    where
        F: FnOnce(&mut [u8]) -> T,
    {
        // The stack never asks for more than the capabilities' MTU; `min` keeps that a bound the
        // compiler can see rather than a panic path.
        let len = len.min(MAX_FRAME);
        let (frame, _) = self.port.tx.split_at_mut(len);
        let result = f(frame);
        self.port.send(len);
        result
    }
}

impl<R: Registers> Device for Lan9118<R> {
    type RxToken<'a>
        = RxFrame<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TxFrame<'a, R>
    where
        Self: 'a;

    fn receive(&mut self, _timestamp: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        // Without room for an answer the frame stays in the FIFO until the next poll.
        if !self.port.room_for_frame() {
            return None;
        }
        let len = self.receive_frame()?;
        let (frame, _) = self.rx.split_at(len.min(RX_BUFFER));
        Some((
            RxFrame { frame },
            TxFrame {
                port: &mut self.port,
            },
        ))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<Self::TxToken<'_>> {
        if !self.port.room_for_frame() {
            return None;
        }
        Some(TxFrame {
            port: &mut self.port,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        caps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::vec::Vec;

    /// A model of the controller as the driver sees it: FIFOs, MAC registers behind the CSR
    /// window, soft reset, and the transmit command words.
    struct Model {
        byte_test: u32,
        reset_sticks: bool,
        hw_cfg: u32,
        mac_data: u32,
        mac: [u32; 16],
        phy: [u32; 32],
        rx_status: VecDeque<u32>,
        rx_data: VecDeque<u32>,
        tx_words: Vec<u32>,
        tx_frames: Vec<Vec<u8>>,
        tx_status: VecDeque<u32>,
        int_sts: u32,
        int_en: u32,
        irq_cfg: u32,
        tx_cfg: u32,
    }

    impl Model {
        fn new() -> Model {
            let mut mac = [0; 16];
            mac[MAC_ADDRL as usize] = 0x1200_5452;
            mac[MAC_ADDRH as usize] = 0x5634;
            Model {
                byte_test: BYTE_TEST_VALUE,
                reset_sticks: false,
                hw_cfg: 0,
                mac_data: 0,
                mac,
                phy: [0; 32],
                rx_status: VecDeque::new(),
                rx_data: VecDeque::new(),
                tx_words: Vec::new(),
                tx_frames: Vec::new(),
                tx_status: VecDeque::new(),
                int_sts: 0,
                int_en: 0,
                irq_cfg: 0,
                tx_cfg: 0,
            }
        }

        /// Queues a frame as the controller would: data words (FCS appended), one status word.
        fn arrive(&mut self, frame: &[u8], error: bool) {
            let mut bytes = frame.to_vec();
            bytes.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
            for chunk in bytes.chunks(4) {
                let mut word = [0u8; 4];
                word[..chunk.len()].copy_from_slice(chunk);
                self.rx_data.push_back(u32::from_le_bytes(word));
            }
            let status = ((bytes.len() as u32) << 16) | if error { RX_STATUS_ERROR } else { 0 };
            self.rx_status.push_back(status);
        }

        fn tx_push(&mut self, word: u32) {
            self.tx_words.push(word);
            let Some(&cmd_a) = self.tx_words.first() else {
                return;
            };
            let len = (cmd_a & 0x7ff) as usize;
            if self.tx_words.len() == 2 + len.div_ceil(4) {
                let mut frame: Vec<u8> = self.tx_words[2..]
                    .iter()
                    .flat_map(|w| w.to_le_bytes())
                    .collect();
                frame.truncate(len);
                self.tx_frames.push(frame);
                self.tx_status.push_back(self.tx_words[1] & 0xffff_0000);
                self.tx_words.clear();
            }
        }
    }

    impl Registers for &mut Model {
        fn read(&mut self, offset: usize) -> u32 {
            match offset {
                RX_DATA_FIFO => self.rx_data.pop_front().expect("read past the frame"),
                RX_STATUS_FIFO => self.rx_status.pop_front().expect("no status waiting"),
                TX_STATUS_FIFO => self.tx_status.pop_front().expect("no tx status"),
                BYTE_TEST => self.byte_test,
                HW_CFG => self.hw_cfg,
                PMT_CTRL => PMT_CTRL_READY,
                RX_FIFO_INF => {
                    ((self.rx_status.len() as u32) << 16) | ((self.rx_data.len() as u32) * 4)
                }
                TX_FIFO_INF => ((self.tx_status.len() as u32) << 16) | 4608,
                MAC_CSR_CMD => 0,
                MAC_CSR_DATA => self.mac_data,
                INT_STS => self.int_sts,
                other => panic!("unexpected read of {other:#x}"),
            }
        }

        fn write(&mut self, offset: usize, value: u32) {
            match offset {
                TX_DATA_FIFO => self.tx_push(value),
                HW_CFG => self.hw_cfg = if self.reset_sticks { value } else { value & !1 },
                INT_EN => self.int_en = value,
                INT_STS => self.int_sts &= !value,
                IRQ_CFG => self.irq_cfg = value,
                TX_CFG => self.tx_cfg = value,
                RX_CFG => assert_eq!(value, 0),
                MAC_CSR_DATA => self.mac_data = value,
                MAC_CSR_CMD => {
                    let register = (value & 0xf) as usize;
                    if value & MAC_CSR_READ != 0 {
                        self.mac_data = self.mac[register];
                    } else {
                        self.mac[register] = self.mac_data;
                        if register == MAC_MII_ACC as usize && self.mac_data & MII_WRITE != 0 {
                            let phy_register = ((self.mac_data >> 6) & 0x1f) as usize;
                            self.phy[phy_register] = self.mac[MAC_MII_DATA as usize];
                            // The access completes at once: the busy bit reads back clear.
                            self.mac[register] &= !MII_BUSY;
                        }
                    }
                }
                other => panic!("unexpected write of {value:#x} to {other:#x}"),
            }
        }
    }

    #[test]
    fn brings_the_controller_up() {
        let mut model = Model::new();
        let eth = Lan9118::new(&mut model).unwrap();
        assert_eq!(eth.mac_address(), [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
        assert_eq!(
            model.mac[MAC_CR as usize],
            MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX,
            "receive and transmit on, own address and broadcast only (not promiscuous)"
        );
        assert_eq!(model.phy[0], PHY_AUTONEG_ENABLE | PHY_AUTONEG_RESTART);
        assert_eq!(model.tx_cfg, TX_CFG_TX_ON);
        assert_eq!(model.int_en, 0, "no interrupt until asked for");
    }

    #[test]
    fn refuses_a_missing_or_stuck_controller() {
        let mut model = Model::new();
        model.byte_test = 0xffff_ffff;
        assert_eq!(
            Lan9118::new(&mut model).err(),
            Some(InitError::NotFound {
                byte_test: 0xffff_ffff
            })
        );
        let mut model = Model::new();
        model.reset_sticks = true;
        assert_eq!(
            Lan9118::new(&mut model).err(),
            Some(InitError::ResetTimeout)
        );
    }

    #[test]
    fn receives_frames_without_the_fcs_and_drops_bad_ones() {
        let mut model = Model::new();
        let good: Vec<u8> = (0..61u8).collect();
        let also_good: Vec<u8> = (100..164u8).collect();
        model.arrive(&[0xaa; 60], true);
        model.arrive(&good, false);
        model.arrive(&also_good, false);
        let mut eth = Lan9118::new(&mut model).unwrap();
        let now = Instant::from_millis(0);
        let (rx, _tx) = eth.receive(now).expect("a good frame");
        rx.consume(|frame| assert_eq!(frame, &good[..]));
        let (rx, _tx) = eth.receive(now).expect("the next frame");
        rx.consume(|frame| assert_eq!(frame, &also_good[..]));
        assert!(eth.receive(now).is_none());
        assert_eq!(
            eth.counters(),
            Counters {
                rx_frames: 2,
                rx_dropped: 1,
                tx_frames: 0,
                tx_errors: 0
            }
        );
        assert!(
            model.rx_data.is_empty(),
            "the bad frame's words were read out too"
        );
    }

    #[test]
    fn transmits_whole_frames_with_their_command_words() {
        let mut model = Model::new();
        let mut eth = Lan9118::new(&mut model).unwrap();
        let frame: Vec<u8> = (0..67u8).collect();
        let tx = eth.transmit(Instant::from_millis(0)).expect("room");
        tx.consume(frame.len(), |buf| buf.copy_from_slice(&frame));
        assert_eq!(eth.counters().tx_frames, 1);
        assert_eq!(model.tx_frames, [frame]);
        assert!(model.tx_status.is_empty(), "status words read out");
    }

    #[test]
    fn the_interrupt_is_active_high_and_for_received_frames() {
        let mut model = Model::new();
        let mut eth = Lan9118::new(&mut model).unwrap();
        eth.enable_receive_interrupt();
        assert_eq!(model.irq_cfg, IRQ_CFG_ENABLED_ACTIVE_HIGH);
        assert_eq!(model.int_en, INT_RSFL);
        model.int_sts = INT_RSFL;
        acknowledge_interrupt(&mut &mut model);
        assert_eq!(model.int_sts, 0);
    }
}
