//! `hush-node`: a local network of service nodes that speaks the real storage-server API
//! (`devnet`), the relay that is the browser's entry point (`relay`), and the devnet's file and
//! community servers (`files`, `sogs`).

pub mod anchors;
pub mod devnet;
pub mod files;
/// Entry points for the fuzz targets (`fuzz/`) and `tests/fuzz_smoke.rs`; not a stable API.
#[doc(hidden)]
pub mod fuzzing;
pub mod listener;
pub mod network;
pub mod networks;
pub mod outbound;
pub mod relay;
pub mod rpc;
pub mod seed;
pub mod server;
pub mod sogs;
pub mod static_files;
pub mod store;
pub mod tls;
pub mod wsgi;

/// The storage-server version the nodes report.
pub const VERSION: [u32; 3] = [2, 6, 2];
