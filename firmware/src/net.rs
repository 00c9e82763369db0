//! The device's place on the network: QEMU's user network (slirp) puts the guest at 10.0.2.15/24
//! behind a gateway at 10.0.2.2, and forwards the host's port to the guest's port 80.

use smoltcp::iface::{Config, Interface};
use smoltcp::phy::Device;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Address};

/// The device's address in QEMU's user network.
pub const ADDRESS: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
/// The prefix length of that network.
pub const PREFIX_LEN: u8 = 24;
/// QEMU's user-network gateway, which also stands for the host.
pub const GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
/// The port the device serves HTTP on.
pub const HTTP_PORT: u16 = 80;

/// The interface with the static address and default route above. `seed` feeds TCP's initial
/// sequence numbers: give it something that differs between boots (the MAC and a timer).
pub fn interface(device: &mut impl Device, mac: [u8; 6], seed: u64, now: Instant) -> Interface {
    let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
    config.random_seed = seed;
    let mut iface = Interface::new(config, device, now);
    iface.update_ip_addrs(|addrs| {
        // The list holds at least one address (smoltcp's iface-max-addr-count is 2 by default).
        let _ = addrs.push(IpCidr::new(ADDRESS.into(), PREFIX_LEN));
    });
    // Only fails when the route table is full; it is empty here.
    let _ = iface.routes_mut().add_default_ipv4_route(GATEWAY);
    iface
}
