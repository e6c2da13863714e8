#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    crypto_core::internal::fuzzing::decode_storage_data(data);
    crypto_core::internal::fuzzing::parse_storage_replies(data);
});
