#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| crypto_core::internal::fuzzing::community_request(data));
