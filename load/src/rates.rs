//! The load a level offers and the loss it may show: G.711 at 20 ms packetisation (50
//! packets a second per stream, two streams a bridged call), and the 0.1% loss at which
//! stepping stops.

/// Packets per second per stream (G.711 with 20 ms packetisation).
pub const PACKETS_PER_SECOND_PER_STREAM: f64 = 50.0;

/// Loss ratio above which stepping stops (0.1%).
pub const LOSS_LIMIT: f64 = 0.001;

/// Packets per second offered to a relay by `calls` calls (two streams each).
pub fn pps_offered(calls: usize) -> f64 {
    calls as f64 * 2.0 * PACKETS_PER_SECOND_PER_STREAM
}
